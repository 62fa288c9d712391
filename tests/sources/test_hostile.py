"""Sources cannot exhaust the renderer: hostile files fail fast, in bounded memory, with one line and exit 1.

Each hostile source runs through the real ``watchbot-cfn render`` process
under an address-space limit and a timeout; the fuzz tests feed random
documents and mangled text through the same code in-process.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.hostile import HOSTILE, OPTIONS_YAML, SYSTEM, Hostile
from watchbot_cfn.cfn import MAX_TEMPLATE_BYTES, SECTION_QUOTAS, SECTIONS
from watchbot_cfn.cli.main import main
from watchbot_cfn.errors import MAX_EXCERPT, MergeConflictError, OptionsError, SourceError, excerpt
from watchbot_cfn.merging import MAX_DESCRIPTION, systems_description
from watchbot_cfn.options import option_specs
from watchbot_cfn.sources.bounds import MAX_DEPTH, MAX_VALUES
from watchbot_cfn.sources.load import parse_document, template_from_document

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("watchbot-cfn")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "watchbot_cfn.cli.main"]

#: Address space for one render: a normal render fits in a quarter of it; hostile sources
#: took gigabytes before they were bounded.
MEMORY_LIMIT = 512 * 1024 * 1024
#: Wall-clock bound for one render of a hostile source (each takes about a second; the margin is for a busy CI).
TIME_LIMIT = 60

def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def render(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """``watchbot-cfn render ARGS`` as a process with bounded memory and time."""
    return subprocess.run([*COMMAND, "render", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=TIME_LIMIT, preexec_fn=_limit_memory,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


def error_line(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """The one stderr line of a user error (exit 1, nothing on stdout), holding every fragment."""
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stdout == ""
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith("watchbot-cfn: error: ")
    assert len(lines[0]) < 1200, "errors quote excerpts, never whole values"
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


# --- hostile sources, as real processes ------------------------------------------

@pytest.mark.parametrize("case", HOSTILE, ids=lambda case: case.name)
def test_hostile_source_fails_fast_with_one_line_and_writes_nothing(case: Hostile, tmp_path):
    source = case.write(tmp_path)
    output = tmp_path / "out" / "template.json"
    output.parent.mkdir()
    line = error_line(render(source, "-o", str(output)), *case.expect)
    assert line.startswith(f"watchbot-cfn: error: {source}: ")
    assert list(output.parent.iterdir()) == [], "no template and no temporary file"


def test_many_systems_render_with_a_short_description_that_names_them(tmp_path):
    count = SECTION_QUOTAS["Resources"] // 30  # each system has a little under 30 resources
    source = tmp_path / "many.json"
    source.write_text(json.dumps({"systems": [{**SYSTEM, "prefix": f"Worker{i}"} for i in range(count)]}))
    result = render(str(source))
    assert result.returncode == 0, result.stderr
    template = json.loads(result.stdout)
    assert len(template["Resources"]) <= SECTION_QUOTAS["Resources"]
    description = template["Description"]
    assert description.startswith(f"{count} Watchbot systems: Worker0, Worker1, ")
    assert len(description.encode()) <= MAX_DESCRIPTION


def test_a_source_description_wins_over_the_generated_one(tmp_path):
    source = tmp_path / "two.yaml"
    source.write_text("Description: Media workers\nsystems:\n"
                      + "".join(f"  - {{prefix: W{i}, {', '.join(f'{k}: {v}' for k, v in SYSTEM.items())}}}\n"
                                for i in range(3)))
    result = render(str(source))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Description"] == "Media workers"


def test_own_resources_count_towards_the_quota(tmp_path):
    source = tmp_path / "own.json"
    own = {f"Bucket{i}": {"Type": "AWS::S3::Bucket"} for i in range(SECTION_QUOTAS["Resources"] - 10)}
    source.write_text(json.dumps({**SYSTEM, "Resources": own}))
    error_line(render(str(source)), "more than the 500 CloudFormation allows")


def test_a_python_source_over_the_quota_is_refused_before_anything_is_written(tmp_path):
    app = tmp_path / "big.py"
    app.write_text(textwrap.dedent(f"""\
        import watchbot_cfn
        systems = [watchbot_cfn.template(prefix=f"W{{i}}", **{SYSTEM!r}) for i in range(20)]
        template = watchbot_cfn.merge(*systems, description="Too many")
        """))
    output = tmp_path / "template.json"
    error_line(render(str(app), "-o", str(output)), str(app), "resources, more than the 500")
    assert not output.exists()


def test_a_template_larger_than_cloudformation_reads_is_refused_before_anything_is_written(tmp_path):
    source = tmp_path / "bulky.json"
    source.write_text(json.dumps({**SYSTEM, "Metadata": {"Notes": "n" * MAX_TEMPLATE_BYTES}}))
    output = tmp_path / "template.json"
    error_line(render(str(source), "-o", str(output)), "the rendered template is 1,0", "more than the 1,000,000")
    assert not output.exists()


def test_a_long_source_description_is_refused(tmp_path):
    source = tmp_path / "long.json"
    source.write_text(json.dumps({**SYSTEM, "Description": "x" * (MAX_DESCRIPTION + 1)}))
    error_line(render(str(source)), "Description is 1,025 bytes", "at most 1,024")


# --- paths the user gave ------------------------------------------------------------

def test_output_into_a_missing_directory_names_the_given_path(tmp_path):
    source = tmp_path / "system.yaml"
    source.write_text(OPTIONS_YAML)
    target = tmp_path / "nowhere" / "template.json"
    line = error_line(render(str(source), "-o", str(target)))
    assert line == (f"watchbot-cfn: error: {target}: cannot write: directory "
                    f"'{target.parent}' does not exist")
    assert ".tmp" not in line


def test_output_onto_a_directory_names_the_given_path(tmp_path):
    source = tmp_path / "system.yaml"
    source.write_text(OPTIONS_YAML)
    (tmp_path / "taken").mkdir()
    line = error_line(render(str(source), "-o", str(tmp_path / "taken")), f"{tmp_path / 'taken'}: cannot write")
    assert ".tmp" not in line


@pytest.mark.parametrize("name", ["plain", "looks.toml", "looks.py"])
def test_a_directory_as_source_says_it_is_a_directory(tmp_path, name):
    (tmp_path / name).mkdir()
    error_line(render(name, cwd=tmp_path), f"{name}: is a directory")


def test_a_failure_no_check_foresaw_is_still_one_line(tmp_path, monkeypatch):
    source = tmp_path / "system.yaml"
    source.write_text(OPTIONS_YAML)

    def broken(*_: Any) -> str:
        raise RuntimeError("renderer bug\nsecond line")

    monkeypatch.setattr("watchbot_cfn.sources.output.render_text", broken)
    code, out, err = render_in_process(str(source))
    assert (code, out) == (1, "")
    assert err == "watchbot-cfn: error: unexpected RuntimeError: renderer bug ... (--debug shows where)\n"


# --- Python sources ---------------------------------------------------------------

PY_TEMPLATE = f"import watchbot_cfn\ntemplate = watchbot_cfn.template(**{SYSTEM!r})\n"


def test_what_a_python_source_prints_goes_to_stderr_not_into_the_template(tmp_path):
    app = tmp_path / "chatty.py"
    app.write_text("print('loading the stack')\n" + PY_TEMPLATE
                   + "def build():\n    print('building')\n    return template\n")
    for source in (str(app), f"{app}:build"):
        result = render(source)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["Resources"], "stdout is the template alone"
        assert "loading the stack" in result.stderr
    assert "building" in result.stderr


@pytest.mark.parametrize("body,fragments", [
    ("import sys\nsys.exit(3)\n", ("exited (sys.exit(3))",)),
    ("def forever():\n    return forever()\ntemplate = forever()\n", ("RecursionError",)),
    ("raise ValueError('x' * 1_000_000)\n", ("ValueError: xxx",)),
    ("from troposphere import Template, sns\ntemplate = Template()\n"
     "template.add_resource(sns.Subscription('Incomplete'))\n", ("cannot render the template",)),
])
def test_python_sources_that_misbehave_are_one_line(tmp_path, body, fragments):
    app = tmp_path / "app.py"
    app.write_text(body)
    error_line(render(str(app)), str(app), *fragments)


# --- the bounds at their edges, in-process -------------------------------------

def nested(depth: int, kind: str) -> str:
    """A document whose innermost container sits depth containers deep (the root counts as one)."""
    if kind == ".json":
        return '{"Metadata": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"
    if kind == ".yaml":
        return "Metadata: " + "[" * (depth - 1) + "]" * (depth - 1) + "\n"
    return "Metadata = " + "[" * (depth - 1) + "]" * (depth - 1) + "\n"


@pytest.mark.parametrize("kind", [".json", ".yaml", ".toml"])
def test_nesting_up_to_the_bound_is_read_and_one_more_level_is_refused(kind):
    assert parse_document(nested(MAX_DEPTH, kind), kind, "edge")
    with pytest.raises(SourceError, match=f"nested more than {MAX_DEPTH} levels deep"):
        parse_document(nested(MAX_DEPTH + 1, kind), kind, "edge")


def test_toml_dotted_keys_of_up_to_the_bound_parts_are_read_and_longer_ones_refused():
    assert parse_document("a" + ".a" * (MAX_DEPTH - 1) + " = 1\n", ".toml", "edge")
    with pytest.raises(SourceError, match=f"dotted key of more than {MAX_DEPTH} parts at line 2"):
        parse_document("x = 1\n" + "a" + ".a" * MAX_DEPTH + " = 1\n", ".toml", "edge")


def test_values_up_to_the_bound_are_read_and_one_more_is_refused():
    items = MAX_VALUES - 3  # the root, "Metadata" and the list count too
    assert len(parse_document('{"Metadata": [' + ",".join(["0"] * items) + "]}", ".json", "edge")["Metadata"]) \
        == items
    with pytest.raises(SourceError, match="more than 250,000 values"):
        parse_document('{"Metadata": [' + ",".join(["0"] * (items + 1)) + "]}", ".json", "edge")


def test_small_yaml_aliases_still_share_options_between_systems():
    text = textwrap.dedent("""\
        systems:
          - &base {cluster: processing, service: worker, service_version: abc, command: run,
                   notification_email: ops@example.com, prefix: One}
          - {<<: *base, prefix: Two}
        """)
    systems = parse_document(text, ".yaml", "aliases")["systems"]
    assert systems[1] == {**systems[0], "prefix": "Two"}
    assert systems[1] is not systems[0]


def test_yaml_timestamps_stay_the_text_written():
    data = parse_document("AWSTemplateFormatVersion: 2010-09-09\n", ".yaml", "dates")
    assert data == {"AWSTemplateFormatVersion": "2010-09-09"}


def test_toml_dates_become_iso_text():
    assert parse_document("Metadata = { Since = 2024-01-31 }\n", ".toml", "dates") == {
        "Metadata": {"Since": "2024-01-31"}}


@pytest.mark.parametrize("text,fragment", [
    ("Metadata: !!binary aGVsbG8=\n", "binary value"),
    ("Metadata: !!set {a, b}\n", "set (!!set)"),
    ("Metadata: {x: .nan}\n", "Metadata.x: nan is not a number"),
    ('Metadata: {x: "\\ud800"}\n', "unpaired surrogate"),
    ("Metadata: {? [a, b]: 1}\n", "invalid YAML"),
])
def test_values_a_template_cannot_hold_are_refused_with_their_place(text, fragment):
    with pytest.raises(SourceError) as caught:
        parse_document(text, ".yaml", "odd.yaml")
    assert fragment in str(caught.value)


# --- bounded excerpts in messages -------------------------------------------------

def test_error_messages_quote_a_bounded_excerpt_of_a_huge_value():
    huge = ["x" * 1_000_000] * 1_000
    for error in (OptionsError("capacity", huge, "allowed: EC2, FARGATE"),
                  OptionsError("c" * 1_000_000, "y" * 1_000_000, "unknown option", "z" * 1_000_000),
                  MergeConflictError("Resources", "Q" * 1_000_000),
                  SourceError("app.py", "RuntimeError: " + "w" * 1_000_000)):
        message = str(error)
        assert len(message) < 1200 and "\n" not in message
    assert str(OptionsError("capacity", "EC3", "allowed: EC2")) == "option 'capacity': got 'EC3'; allowed: EC2"
    assert excerpt({"b": 1, "a": [1, 2]}) == "{'b': 1, 'a': [1, 2]}", "short values keep their exact repr"
    assert len(excerpt(10 ** 5000)) <= MAX_EXCERPT


@pytest.mark.parametrize("option,value", [
    ("mounts", ["relative/" * 100_000]),
    ("env", {"BAD NAME " * 100_000: "x"}),
    ("capacity", "EC2" * 100_000),
])
def test_option_errors_from_a_source_quote_excerpts_of_the_entry_at_fault(option, value):
    with pytest.raises(SourceError) as caught:
        template_from_document({**SYSTEM, option: value}, "big.json")
    message = str(caught.value)
    assert message.startswith(f"big.json: option '{option}': got ")
    assert len(message) < 400, message


def test_systems_description_fits_for_any_number_of_systems():
    assert systems_description(["Resize", "Thumbs"]).startswith("2 Watchbot systems: Resize, Thumbs (")
    many = systems_description([f"Prefix{i:026d}" for i in range(10_000)])
    assert len(many.encode()) <= MAX_DESCRIPTION
    assert "Prefix" + "0" * 26 in many and "more (watchbot-cfn" in many


# --- fuzz: no input escapes as anything but one line --------------------------------

def render_in_process(path: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["render", path])
    return code, out.getvalue(), err.getvalue()


def assert_clean_outcome(path: str) -> None:
    code, out, err = render_in_process(path)
    if code == 0:
        assert json.loads(out)["Resources"]
    else:
        assert code == 1 and out == "" and err.count("\n") == 1 and err.startswith("watchbot-cfn: error: "), err


GOOD_TEXT = {
    ".toml": "".join(f'{key} = "{value}"\n' for key, value in SYSTEM.items()),
    ".yaml": "".join(f"{key}: {value}\n" for key, value in SYSTEM.items()),
    ".json": json.dumps(SYSTEM),
}
NOISE = st.lists(st.sampled_from([*"[]{}:,-&*!|>'\"#=.\n\t 01aZ\\?<", "!Ref ", "&a ", "*a", "<<: ", "---\n",
                                  "!!binary ", ".nan", "1e999", "NaN", "inf", "2001-01-01", "\\ud800", "\x00",
                                  "\ufeff", "a.a.a", "Metadata"]), max_size=40).map("".join)


@given(suffix=st.sampled_from(sorted(GOOD_TEXT)), noise=NOISE | st.text(max_size=40), at=st.integers(0, 120),
       overwrite=st.booleans())
def test_fuzz_mangled_sources_render_or_fail_with_one_line(suffix, noise, at, overwrite):
    good = GOOD_TEXT[suffix]
    at = min(at, len(good))
    text = good[:at] + noise + good[at + (len(noise) if overwrite else 0):]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"source{suffix}"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        assert_clean_outcome(str(path))


@given(st.binary(max_size=200), st.sampled_from([".toml", ".yaml", ".json"]))
def test_fuzz_random_bytes_fail_with_one_line(data, suffix):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"source{suffix}"
        path.write_bytes(data)
        assert_clean_outcome(str(path))


SCALARS = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
           | st.sampled_from(["", "Ref", "Fn::Sub", "arn:aws:sns:us-east-1:123456789012:t", "/data", "EC2"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=8) | st.sampled_from(["Ref", "Fn::GetAtt", "Fn::If", "Type", "Properties"]), inner,
    max_size=3), max_leaves=12)
OPTION_TABLES = st.dictionaries(st.sampled_from([spec.name for spec in option_specs()]), VALUES, max_size=3).map(
    lambda extra: {**SYSTEM, **extra})
DOCUMENTS = (OPTION_TABLES
             | st.tuples(OPTION_TABLES, st.dictionaries(st.sampled_from(sorted(SECTIONS)), VALUES, max_size=2)).map(
                 lambda parts: {**parts[0], **parts[1]})
             | st.lists(OPTION_TABLES, max_size=3).map(lambda tables: {"systems": tables})
             | VALUES)


@given(DOCUMENTS)
def test_fuzz_any_document_renders_or_fails_with_one_line(document: Any):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "source.json"
        path.write_text(json.dumps(document))  # NaN and Infinity are written as JSON's extensions
        assert_clean_outcome(str(path))
