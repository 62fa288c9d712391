"""The ``watchbot-cfn`` command, run as a real process.

User errors: exit 1, one line on stderr, nothing on stdout, no output file.
Usage errors: exit 2 (argparse).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml

from watchbot_cfn.cli.main import console
from watchbot_cfn.options import option_specs

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("watchbot-cfn")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "watchbot_cfn.cli.main"]

GOOD_TOML = """\
cluster = "work-cluster"
service = "resize"
service_version = "abc123"
command = "./resize.sh"
notification_email = "ops@example.com"
"""


def cli(*args: str, cwd: Path | None = None, command: list[str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*(command or COMMAND), *args], capture_output=True, text=True, cwd=cwd or REPO,
                          timeout=120, env={**os.environ, "PYTHONWARNINGS": "ignore"})


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("watchbot-cfn: error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "system.toml"
    path.write_text(GOOD_TOML)
    return path


# --- wiring ---------------------------------------------------------------------

def test_console_script_points_at_console():
    (script,) = entry_points(group="console_scripts", name="watchbot-cfn")
    assert script.load() is console


def test_readme_render_command_works_on_the_minimal_example(tmp_path):
    result = cli("render", "examples/minimal.toml")
    assert result.returncode == 0, result.stderr
    template = json.loads(result.stdout)
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    assert any(r["Type"] == "AWS::SQS::Queue" for r in template["Resources"].values())


# --- render ---------------------------------------------------------------------

def test_render_to_file_equals_stdout_and_leaves_no_temporary_files(good, tmp_path):
    out = tmp_path / "out" / "template.json"
    out.parent.mkdir()
    to_stdout = cli("render", str(good))
    to_file = cli("render", str(good), "-o", str(out))
    assert to_file.returncode == 0 and to_file.stdout == "" and to_file.stderr == ""
    assert out.read_text() == to_stdout.stdout
    assert os.listdir(out.parent) == ["template.json"]
    assert json.loads(out.read_text())["Resources"]["WatchbotQueue"]["Type"] == "AWS::SQS::Queue"


def test_render_yaml_is_the_same_template(good):
    as_json = json.loads(cli("render", str(good)).stdout)
    as_yaml = cli("render", str(good), "--format", "yaml")
    assert as_yaml.returncode == 0
    assert yaml.safe_load(as_yaml.stdout) == as_json
    assert as_yaml.stdout.startswith("AWSTemplateFormatVersion:")


def test_render_python_source(tmp_path):
    app = tmp_path / "app.py"
    app.write_text("import watchbot_cfn\n\ndef stack():\n    return watchbot_cfn.template(cluster='c', "
                   "service='s', service_version='v', command='x', notification_email='a@example.com', "
                   "prefix='App')\n")
    result = cli("render", f"{app}:stack")
    assert result.returncode == 0, result.stderr
    assert "AppQueue" in json.loads(result.stdout)["Resources"]


# --- user errors ----------------------------------------------------------------

@pytest.mark.parametrize("use_output", [False, True])
def test_missing_file(tmp_path, use_output):
    out = tmp_path / "template.json"
    args = ["render", str(tmp_path / "absent.toml")] + (["-o", str(out)] if use_output else [])
    assert_user_error(cli(*args), "absent.toml", "no such file")
    assert not out.exists()


@pytest.mark.parametrize("use_output", [False, True])
def test_toml_syntax_error_reports_the_line(tmp_path, use_output):
    source = tmp_path / "broken.toml"
    source.write_text(GOOD_TOML + "max_size = \n")
    out = tmp_path / "template.json"
    args = ["render", str(source)] + (["-o", str(out)] if use_output else [])
    assert_user_error(cli(*args), str(source), "line 6")
    assert not out.exists()


def test_bad_option_keeps_an_existing_output_file(tmp_path):
    source = tmp_path / "bad.toml"
    source.write_text(GOOD_TOML + "capacity = \"MAINFRAME\"\n")
    out = tmp_path / "template.json"
    out.write_text("previous good template")
    assert_user_error(cli("render", str(source), "-o", str(out)), str(source), "option 'capacity'")
    assert out.read_text() == "previous good template"
    assert set(os.listdir(tmp_path)) == {"bad.toml", "template.json"}


def test_legacy_option_name_gets_a_hint(tmp_path):
    source = tmp_path / "legacy.toml"
    source.write_text(GOOD_TOML + "maxSize = 4\n")
    assert_user_error(cli("render", str(source)), "'maxSize'", "max_size")


def test_output_into_a_missing_directory(good, tmp_path):
    assert_user_error(cli("render", str(good), "-o", str(tmp_path / "nowhere" / "t.json")), "nowhere")


def test_debug_shows_the_traceback(tmp_path):
    result = cli("--debug", "render", str(tmp_path / "absent.toml"))
    assert result.returncode != 0 and "Traceback" in result.stderr and "SourceError" in result.stderr


@pytest.mark.parametrize("args", [[], ["render"], ["render", "x.toml", "--format", "xml"], ["frobnicate"]])
def test_usage_errors_exit_2(args):
    result = cli(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "usage:" in result.stderr


@pytest.mark.parametrize("command,text", [
    ([], "render"), (["render"], "atomically"), (["lint"], "cfn-lint"), (["options"], "--markdown"),
])
def test_every_command_has_help(command, text):
    result = cli(*command, "--help")
    assert result.returncode == 0 and text in result.stdout


@pytest.mark.parametrize("args", [["--help"], ["--help", "render"], ["-h", "lint", "x.toml"]])
def test_the_top_level_help_lists_every_command_however_it_is_asked(args):
    from watchbot_cfn.cli.main import COMMANDS

    result = cli(*args)
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.startswith("    ") and line.split()}
    assert set(COMMANDS) <= listed


def test_help_follows_the_terminal_width():
    narrow = subprocess.run([*COMMAND, "render", "--help"], capture_output=True, text=True, cwd=REPO, timeout=120,
                            env={**os.environ, "COLUMNS": "50"}).stdout
    wide = subprocess.run([*COMMAND, "render", "--help"], capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={**os.environ, "COLUMNS": "200"}).stdout
    assert max(map(len, narrow.splitlines())) <= 50 < max(map(len, wide.splitlines()))


def test_only_the_console_script_tunes_the_collector():
    probe = ("import gc, json, sys\n"
             "from watchbot_cfn.cli.main import GC_EVERY, console, main\n"
             "before = gc.get_threshold()\n"
             "main(['options'])\n"
             "after_main = gc.get_threshold()\n"
             "sys.argv = ['watchbot-cfn', 'options']\n"
             "code = console()\n"
             "print(json.dumps([before, after_main, gc.get_threshold(), gc.get_freeze_count(), code, GC_EVERY]),"
             " file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    before, after_main, after_console, frozen, code, every = json.loads(result.stderr.splitlines()[-1])
    assert after_main == before and code == 0
    assert after_console == [every, *before[1:]] and frozen > 0


def test_version():
    from watchbot_cfn import __version__

    assert cli("--version").stdout.strip() == f"watchbot-cfn {__version__}"


# --- options ----------------------------------------------------------------------

def test_options_lists_every_option_with_its_default():
    result = cli("options")
    assert result.returncode == 0
    # each option on a line of its own, then what it does, wrapped beneath it
    blocks = {match.group(1): " ".join(match.group(2).split())
              for match in re.finditer(r"^  (\w+)\n((?:      .*\n)+)", result.stdout, re.M)}
    assert set(blocks) == {spec.name for spec in option_specs()}
    assert 'default "EC2"' in blocks["capacity"] and "required" in blocks["cluster"]
    assert max(len(line) for line in result.stdout.splitlines()) < 100, "fits a terminal"


# --- lint -------------------------------------------------------------------------

def test_lint_clean_template_exits_0(tmp_path):
    path = tmp_path / "clean.yaml"
    path.write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Jobs:\n    Type: AWS::SQS::Queue\n"
                    "Outputs:\n  JobsArn:\n    Value: !GetAtt Jobs.Arn\n")
    result = cli("lint", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_lint_reports_findings_and_exits_1(tmp_path):
    path = tmp_path / "unused.json"
    path.write_text(json.dumps({"Parameters": {"Unused": {"Type": "String"}},
                                "Resources": {"Jobs": {"Type": "AWS::SQS::Queue"}}}))
    result = cli("lint", str(path), "--region", "eu-west-1")
    assert result.returncode == 1
    assert "W2001" in result.stdout and "Unused" in result.stdout


def test_lint_renders_a_source_first_and_the_minimal_example_is_clean():
    result = cli("lint", "examples/minimal.toml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_lint_of_a_broken_source_is_a_user_error(tmp_path):
    source = tmp_path / "broken.toml"
    source.write_text("cluster = \n")
    assert_user_error(cli("lint", str(source)), "line 1")


# --- import path ------------------------------------------------------------------

def test_render_never_imports_lint_aws_sdk_or_runtime(good, tmp_path):
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "watchbot_cfn.cli.main", "render", str(good),
         "-o", str(tmp_path / "t.json")],
        capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    assert "watchbot_cfn.assemble" in imported, "importtime output was parsed"
    heavy = {name for name in imported
             if name.split(".")[0] in {"boto3", "botocore", "cfnlint", "moto", "s3transfer"}
             or name.startswith("watchbot_cfn.runtime")}
    assert heavy == set()


def test_render_to_stdout_imports_no_other_command_and_nothing_it_does_not_use(good):
    """Speed: other front-ends, and pathlib and shutil (argparse asks shutil for the terminal width)."""
    probe = ("import json, sys\n"
             "before = set(sys.modules)\n"  # what the interpreter (and an editable install's finder) loaded
             f"sys.argv = ['watchbot-cfn', 'render', {str(good)!r}]\n"
             "from watchbot_cfn.cli.main import main\n"
             "main()\n"
             "print(json.dumps(sorted(set(sys.modules) - before)), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stderr.splitlines()[-1]))
    assert "watchbot_cfn.assemble" in loaded, "the probe rendered"
    front_ends = {name for name in loaded if name.startswith("watchbot_cfn.cli.")}
    assert front_ends == {"watchbot_cfn.cli.main", "watchbot_cfn.cli.render", "watchbot_cfn.cli.arguments"}
    assert not {"pathlib", "shutil"} & loaded


# --- README -----------------------------------------------------------------------

def _code_blocks(markdown: str) -> list[str]:
    return [block.strip() for block in re.findall(r"^```[a-z]*\n(.*?)^```", markdown, re.M | re.S)]


def test_readme_quick_start_is_exactly_the_two_commands_ci_runs():
    readme = (REPO / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert _code_blocks(quick_start) == [
        "pip install . && watchbot-cfn render examples/minimal.toml > template.json",
        "pip install -e '.[test]' && pytest",
    ]
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert "pip install -e '.[test]' && pytest" in ci_lines


def test_readme_toml_example_is_the_minimal_example():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Describing a system", 1)[1].split("\n## ", 1)[0]
    shown = section.split("```toml\n", 1)[1].split("```", 1)[0]
    assert tomllib.loads(shown) == tomllib.loads((REPO / "examples" / "minimal.toml").read_text())


def test_readme_python_example_runs(tmp_path):
    readme = (REPO / "README.md").read_text()
    first_python = readme.split("## Using it from Python", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    result = subprocess.run([sys.executable, "-c", first_python], capture_output=True, text=True, cwd=tmp_path,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Outputs"]["WorkTopic"]["Value"] == {"Ref": "WatchbotTopic"}


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback_before_or_after_the_command(tmp_path, where):
    missing = str(tmp_path / "missing.toml")
    args = ["--debug", "render", missing] if where == "before" else ["render", missing, "--debug"]
    result = cli(*args)
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "no such file" in result.stderr
    plain = cli("render", missing)
    assert "Traceback" not in plain.stderr and len(plain.stderr.splitlines()) == 1
