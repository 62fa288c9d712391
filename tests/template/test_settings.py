"""One table of watcher settings: the template accepts exactly what the watcher accepts.

Every container variable the watcher reads is a row of ``contract.SETTINGS``.
These tests drive both sides with the same values: the template through
``Options.build`` (as a user would), the watcher through ``load_config`` on
the text the template would write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.templates import REQUIRED, options
from watchbot_cfn import contract
from watchbot_cfn.docgen import with_settings_table
from watchbot_cfn.errors import OptionsError
from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options, option_specs, option_writing, spec
from watchbot_cfn.resources.task import container_environment
from watchbot_cfn.runtime.config import ConfigError, load_config, watcher_fields

RUNTIME_DOC = Path(__file__).resolve().parents[2] / "docs" / "runtime.md"
QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/work"
WRITTEN = [row for row in contract.SETTINGS if option_writing(row) is not None]
READ = watcher_fields()


def template_accepts(name: str, value: Any) -> bool:
    """Whether ``template()`` takes the value; the stop timeout is at its largest so only the value is judged."""
    try:
        Options.build(**REQUIRED, **{name: value, "stop_timeout": contract.MAX_STOP_TIMEOUT})
    except OptionsError as error:
        assert error.option == name, error
        return False
    return True


def runtime_reads(row: contract.Setting, text: str) -> Any:
    """What the watcher makes of the variable's text, or ConfigError."""
    config = load_config("run", {contract.ENV_QUEUE_URL: QUEUE, row.env: text})
    return getattr(config, READ[row])


def runtime_accepts(row: contract.Setting, value: Any) -> tuple[bool, Any]:
    """(whether the watcher takes the text the template writes for ``value``, what it reads)."""
    try:
        return True, runtime_reads(row, row.format(value))
    except ConfigError:
        return False, None


def assert_both_sides_agree(row: contract.Setting, value: Any) -> None:
    accepted = template_accepts(option_writing(row), value)
    runtime_ok, read = runtime_accepts(row, value)
    assert accepted == runtime_ok, (row.env, value, accepted, runtime_ok)
    if accepted:
        assert read == value, (row.env, value, read)


NUMBERS = [row for row in WRITTEN if row.kind in (contract.KIND_INT, contract.KIND_SECONDS)]
BOOLEANS = [row for row in WRITTEN if row.kind == contract.KIND_BOOL]


@pytest.mark.parametrize("row", NUMBERS, ids=lambda row: row.env)
def test_numbers_near_each_bound_are_accepted_by_both_sides_or_by_neither(row):
    low, high = row.low, row.high
    for value in (low - 1, low, low + 1, high - 1, high, high + 1, low + 0.5, high + 0.5, float("nan"),
                  float("inf")):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        assert_both_sides_agree(row, value)


@given(st.data())
def test_any_number_is_accepted_by_both_sides_or_by_neither(data):
    row = data.draw(st.sampled_from(NUMBERS))
    top = row.high * 2
    value = data.draw(st.integers(-5, int(top)) | st.floats(-5, top, allow_nan=False).map(lambda v: round(v, 2)))
    assert_both_sides_agree(row, value)


@pytest.mark.parametrize("row", BOOLEANS, ids=lambda row: row.env)
def test_booleans_are_true_or_false_on_both_sides(row):
    for value in (True, False):
        assert_both_sides_agree(row, value)
    for not_a_boolean in (1, 0, "true", None):
        assert not template_accepts(option_writing(row), not_a_boolean)


@pytest.mark.parametrize("path", ["/", "//", "/tmp/..", "/./", "relative", "/data", "/tmp/scratch"])
def test_volume_paths_are_judged_the_same_on_both_sides(path):
    in_template = template_accepts("mounts", [path])
    try:
        runtime_reads(contract.VOLUMES, path)
        in_runtime = True
    except ConfigError:
        in_runtime = False
    assert in_template == in_runtime == (path in ("/data", "/tmp/scratch"))


def test_every_written_setting_has_an_option_whose_default_is_the_watchers():
    for row in WRITTEN:
        declared = spec(option_writing(row))
        assert declared.default == row.default
        assert declared.accepts.allowed == row.allowed


def test_the_container_gets_every_setting_and_env_may_set_none_of_them():
    built = options(reduce=True)
    env = container_environment(built, Names(built.prefix))
    assert list(env) == [row.env for row in contract.SETTINGS]
    for row in contract.SETTINGS:
        with pytest.raises(OptionsError) as caught:
            options(env={row.env: "x"})
        assert caught.value.option == "env"


def test_a_default_template_configures_a_default_watcher():
    env = container_environment(options(), Names("Watchbot"))
    text = {name: value for name, value in env.items() if isinstance(value, str)}
    config = load_config("run", {**text, contract.ENV_QUEUE_URL: QUEUE})
    for row in WRITTEN:
        assert getattr(config, READ[row]) == row.default, row.env


def test_each_option_that_writes_a_setting_is_declared_from_its_row():
    from_rows = {option_writing(row) for row in WRITTEN}
    declared = {declared.name for declared in option_specs() if declared.setting is not None}
    assert declared == from_rows


def test_docs_runtime_md_lists_the_settings_table():
    text = RUNTIME_DOC.read_text()
    assert text == with_settings_table(text), "regenerate with watchbot_cfn.docgen.with_settings_table"
    for row in contract.SETTINGS:
        assert f"| `{row.env}` |" in text


def test_a_setting_is_named_alike_on_both_sides_and_declared_once():
    """The option that writes a row and the watcher field that reads it carry the same name, and no row is
    read or written twice: the row is the one declaration both point at."""
    from watchbot_cfn.runtime.config import WatcherConfig

    field_names = [field for field in READ.values()]
    assert len(field_names) == len(set(field_names))
    for row in WRITTEN:
        option = option_writing(row)
        assert sum(1 for declared in option_specs() if declared.setting is row) == 1, option
        if row in READ:
            assert READ[row] == option, (row.env, READ[row], option)
    assert set(READ) <= set(contract.SETTINGS)
    assert {name for name in WatcherConfig.__dataclass_fields__} >= set(READ.values())
