"""docs/options.md is generated from the option definitions and must not drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from watchbot_cfn.docgen import REGENERATE, format_default, option_docs, options_markdown
from watchbot_cfn.options import option_specs

DOC = Path(__file__).resolve().parents[2] / "docs" / "options.md"


def test_docs_options_md_matches_the_generator():
    assert DOC.read_text() == options_markdown(), f"docs/options.md is out of date; regenerate: {REGENERATE}"


def test_every_option_has_a_row_with_its_original_name_default_and_what_it_accepts():
    markdown = options_markdown()
    for spec in option_specs():
        row = next((line for line in markdown.splitlines() if line.startswith(f"| `{spec.name}` |")), None)
        assert row is not None, spec.name
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip().strip("|"))]
        assert cells[1] == (f"`{spec.legacy}`" if spec.legacy else "")
        assert cells[3] == ("yes" if spec.intrinsic else "no")
        assert cells[4] == spec.accepts.allowed.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
        assert spec.doc.split("<")[0].replace("|", "\\|")[:20] in cells[5]


def test_the_allowed_column_states_the_bounds_that_validation_applies():
    from watchbot_cfn.constraints import Int

    for spec in option_specs():
        bounds = getattr(spec.accepts, "bounds", spec.accepts)
        if isinstance(bounds, Int) and bounds.high is not None:
            assert f"{bounds.high:,}" in spec.accepts.allowed, spec.name


def test_groups_are_sections_in_first_appearance_order():
    groups = list(dict.fromkeys(doc.group for doc in option_docs()))
    headings = re.findall(r"^## (.+)$", options_markdown(), re.M)
    assert len(headings) == len(groups) >= 3


def test_angle_brackets_and_pipes_cannot_break_the_table():
    for line in options_markdown().splitlines():
        if line.startswith("| `"):
            assert "<" not in line
            assert len(re.split(r"(?<!\\)\|", line)) == 8, line


@pytest.mark.parametrize("default,expected", [
    (True, "true"), (False, "false"), ("EC2", '"EC2"'), (None, "none"), (14, "14"), (1_209_600, "1_209_600"),
])
def test_defaults_are_written_as_toml(default, expected):
    assert format_default(default) == expected


def test_required_and_container_defaults():
    assert format_default(None, required=True) == "required"
    assert format_default({}) == "{}"
    assert format_default(["/tmp"]) == '["/tmp"]'
