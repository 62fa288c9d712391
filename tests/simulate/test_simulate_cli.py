"""``watchbot-cfn simulate``: output, --json, --png and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from watchbot_cfn.cli.main import main

REPO = Path(__file__).resolve().parents[2]
TRACES = REPO / "examples" / "traces"
QUEUE_DEPTH = str(TRACES / "queue-depth.toml")
BURST = str(TRACES / "burst.csv")
CDK = Path(__file__).resolve().parents[1] / "fixtures" / "cdk-queue-processing" / "stack.template.json"
SCRIPT = Path(sys.executable).with_name("watchbot-cfn")
FIGURES = {"max_tasks", "p95_wait_seconds", "task_minutes", "interrupted_jobs", "drained_minute"}


def simulate_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["simulate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 1
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("watchbot-cfn: error: "), err
    for fragment in fragments:
        assert fragment in lines[0]


def test_json_prints_exactly_the_five_figures_as_a_real_process():
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "watchbot_cfn.cli.main"]
    result = subprocess.run([*command, "simulate", QUEUE_DEPTH, "--trace", BURST, "--json"],
                            capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert set(figures) == FIGURES
    assert figures["max_tasks"] == 50 and figures["interrupted_jobs"] == 0
    assert isinstance(figures["drained_minute"], int)


def test_chart_and_summary_fit_a_terminal(capsys):
    code, out, err = simulate_cli(capsys, QUEUE_DEPTH, "--trace", str(TRACES / "daily-wave.csv"))
    assert code == 0, err
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 100
    for title in ("arrivals per minute", "backlog: visible + in-flight messages", "tasks (starting"):
        assert any(line.startswith(title) for line in lines)
    assert "1 column = 21 min" in out  # 1,449 minutes of run in at most 70 columns
    for label in ("max tasks", "p95 wait", "task-minutes", "interrupted jobs", "drained"):
        assert any(line.startswith(label) for line in lines)
    assert "WatchbotScaleOutAlarm" in out and "WatchbotScaleInPolicy" in out


def test_options_change_the_simulation(capsys):
    _, base, _ = simulate_cli(capsys, QUEUE_DEPTH, "--trace", BURST, "--json")
    _, faster, _ = simulate_cli(capsys, QUEUE_DEPTH, "--trace", BURST, "--json", "--concurrency", "4",
                                "--job-seconds", "30", "--start-seconds", "0")
    assert json.loads(faster)["drained_minute"] < json.loads(base)["drained_minute"]


def test_a_template_file_and_the_protection_override(capsys):
    mixed = str(TRACES / "long-and-short.csv")
    _, plain, _ = simulate_cli(capsys, str(CDK), "--trace", mixed, "--json")
    _, protected, _ = simulate_cli(capsys, str(CDK), "--trace", mixed, "--json", "--protection", "on")
    assert json.loads(plain)["interrupted_jobs"] > 0
    assert json.loads(protected)["interrupted_jobs"] == 0


def test_a_yaml_template_is_read_as_it_is(capsys, tmp_path):
    template = tmp_path / "template.yaml"
    assert main(["render", QUEUE_DEPTH, "--format", "yaml", "-o", str(template)]) == 0
    code, out, _ = simulate_cli(capsys, str(template), "--trace", BURST, "--json")
    _, from_source, _ = simulate_cli(capsys, QUEUE_DEPTH, "--trace", BURST, "--json")
    assert code == 0 and json.loads(out) == json.loads(from_source)


def test_png(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    target = tmp_path / "chart.png"
    code, out, err = simulate_cli(capsys, QUEUE_DEPTH, "--trace", BURST, "--png", str(target), "--json")
    assert code == 0, err
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]
    assert set(json.loads(out)) == FIGURES


def test_png_is_written_with_ordinary_permissions_and_carries_the_headline(capsys, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import os

    titles: list[str] = []
    monkeypatch.setattr("matplotlib.figure.Figure.suptitle", lambda self, text, **kw: titles.append(text))
    previous = os.umask(0o022)
    try:
        code, out, err = simulate_cli(capsys, QUEUE_DEPTH, "--trace", BURST, "--png", str(tmp_path / "c.png"),
                                      "--json")
    finally:
        os.umask(previous)
    assert code == 0, err
    assert (tmp_path / "c.png").stat().st_mode & 0o777 == 0o644
    figures = json.loads(out)
    [title] = titles
    assert f"max {figures['max_tasks']} tasks" in title and "task-minutes" in title and "p95 wait" in title


def test_a_system_held_back_by_max_size_says_so(capsys):
    code, out, _ = simulate_cli(capsys, str(REPO / "examples" / "minimal.toml"), "--trace", BURST)
    assert code == 0
    assert "not drained" in out
    text = " ".join(out.split())
    import re

    capped = re.search(r"capped ([\d,]+) minutes at MaxCapacity \(1 task\) with messages waiting: max_size caps "
                       r"this system", text)
    assert capped, out
    # every minute from the first task on had a backlog, so each of them is counted
    run = int(re.search(r"run of (\d+) minutes", text).group(1))
    assert run - 3 <= int(capped.group(1).replace(",", "")) < run


def test_a_system_that_keeps_up_is_not_called_capped(capsys):
    code, out, _ = simulate_cli(capsys, QUEUE_DEPTH, "--trace", str(TRACES / "steady.csv"))
    assert code == 0
    assert not any(line.startswith("capped ") for line in out.splitlines()), out


def test_png_without_matplotlib_fails_before_anything_runs(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    target = tmp_path / "chart.png"
    code, out, err = simulate_cli(capsys, QUEUE_DEPTH, "--trace", BURST, "--png", str(target))
    assert_one_line_error(code, out, err, "--png needs matplotlib", "pip install")
    assert not target.exists()


@pytest.mark.parametrize(("args", "fragments"), [
    (["--trace", "missing.csv"], ["missing.csv: no such trace file"]),
    (["--trace", "BAD"], ["line 2", "messages 'many'"]),
    (["--png", "/no/such/dir/x.png"], ["--png", "does not exist"]),
    (["--parameter", "oops"], ["--parameter 'oops'", "NAME=VALUE"]),
    (["--parameter", "Max=1"], ["--parameter Max", "no such parameter"]),
    (["--target", "Nope"], ["--target Nope", "WatchbotScalingTarget"]),
])
def test_user_errors_are_one_line(capsys, tmp_path, args, fragments):
    bad = tmp_path / "bad.csv"
    bad.write_text("minute,messages\n0,many\n")
    args = [str(bad) if arg == "BAD" else arg for arg in args]
    if "--trace" not in args:
        args += ["--trace", BURST]
    code, out, err = simulate_cli(capsys, QUEUE_DEPTH, *args)
    assert_one_line_error(code, out, err, *fragments)


def test_a_template_without_scaling_is_a_user_error(capsys, tmp_path):
    template = tmp_path / "t.json"
    template.write_text(json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}))
    code, out, err = simulate_cli(capsys, str(template), "--trace", BURST)
    assert_one_line_error(code, out, err, "no AWS::ApplicationAutoScaling::ScalableTarget")
    code, out, err = simulate_cli(capsys, str(tmp_path / "absent.toml"), "--trace", BURST)
    assert_one_line_error(code, out, err, "absent.toml")


@pytest.mark.parametrize("args", [
    [QUEUE_DEPTH],                                              # --trace is required
    [QUEUE_DEPTH, "--trace", BURST, "--concurrency", "0"],
    [QUEUE_DEPTH, "--trace", BURST, "--job-seconds", "0"],
    [QUEUE_DEPTH, "--trace", BURST, "--start-seconds", "-1"],
    [QUEUE_DEPTH, "--trace", BURST, "--protection", "maybe"],
])
def test_usage_errors_exit_2(capsys, args):
    with pytest.raises(SystemExit) as caught:
        main(["simulate", *args])
    assert caught.value.code == 2
    assert capsys.readouterr().out == ""
