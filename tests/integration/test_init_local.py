"""``init`` then ``local`` then ``send``, as a newcomer runs them: what init wrote runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.support.localrun import COMMAND, LocalRun

pytestmark = pytest.mark.integration


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    return subprocess.run([*COMMAND, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def started(run: LocalRun) -> str:
    run.wait_for(lambda lines: any("listening on" in line for line in lines), 90, "the watcher")
    return re.search(r"http://127\.0\.0\.1:\d+", run.line_with("local AWS endpoint:")).group(0)


def counts(line: str) -> bool:
    return line.startswith("[local] visible ")


@pytest.mark.parametrize("flags", [[], ["--language", "python"], ["--fifo"]], ids=["sh", "python", "fifo"])
def test_what_init_writes_runs_under_local(tmp_path, flags):
    project = tmp_path / "first-worker"
    written = cli("init", str(project), *flags, cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    stack = f"init-{uuid.uuid4().hex[:6]}"
    run = LocalRun(project / "watchbot.toml", stack, cwd=project)
    try:
        endpoint = started(run)
        group = ["--group-id", "g"] if "--fifo" in flags else []
        sent = cli("send", "--stack-name", stack, "--endpoint-url", endpoint, *group, "hello", "reject this",
                   cwd=project)
        assert sent.returncode == 0, sent.stderr
        final = "visible 0, in flight 0, dead-letter 0, succeeded 1, failed 1 (rejected 1)"
        lines = run.wait_for(lambda lines: any(final in line for line in lines if counts(line)), 60, final)
        assert any("[worker]" in line and "processed: hello" in line for line in lines), "\n".join(lines)
    finally:
        run.stop()


def test_the_reduce_worker_init_writes_runs_a_job_to_its_reduce_step(tmp_path):
    project = tmp_path / "wordcount"
    assert cli("init", str(project), "--reduce", cwd=tmp_path).returncode == 0
    stack = f"init-{uuid.uuid4().hex[:6]}"
    run = LocalRun(project / "watchbot.toml", stack, cwd=project)
    try:
        endpoint = started(run)
        start = '{"job": "job-1", "parts": ["one", "two", "three"]}'
        assert cli("send", "--stack-name", stack, "--endpoint-url", endpoint, start, cwd=project).returncode == 0
        lines = run.wait_for(lambda lines: any("job job-1: all 3 parts done" in line for line in lines), 90,
                             "the reduce step")
        parts = {match.group(1) for line in lines if "[worker]" in line
                 for match in [re.search(r"job job-1: part (\d+) of 3: ", line)] if match}
        assert parts == {"1", "2", "3"}
    finally:
        run.stop()
