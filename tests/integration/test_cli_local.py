"""``watchbot-cfn local`` + ``watchbot-cfn send`` end to end, as a user runs them: real processes throughout.

One local run per test: moto's server, the stack, the real watcher and real
jobs, all started by ``local`` itself. Workers succeed, reject, and fail
until SQS moves the message to the dead-letter queue; the live counts must
agree with what the queues and the watcher say. Ctrl-C (SIGINT to ``local``)
must end everything: no process of the tree is left, and the exit code is 0.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import boto3
import pytest

from tests.support.localrun import COMMAND, LocalRun, process_tree, still_running

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

#: The README's "Try it locally" example: fail* fails, reject* is rejected, slow* sleeps, the rest succeeds.
DEMO = REPO / "examples" / "local-demo.toml"


@pytest.fixture
def local(tmp_path: Path):
    run = LocalRun(DEMO, f"e2e-{uuid.uuid4().hex[:6]}", cwd=tmp_path)
    try:
        yield run
    finally:
        run.stop()


def send(endpoint: str, stack: str, *messages: str) -> subprocess.CompletedProcess:
    result = subprocess.run([*COMMAND, "send", "--stack-name", stack, "--endpoint-url", endpoint, *messages],
                            capture_output=True, text=True, timeout=60,
                            env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")})
    assert result.returncode == 0, result.stderr
    return result


def status_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("[local] visible ")]


def test_local_runs_the_pipeline_and_ctrl_c_leaves_nothing_running(local: LocalRun):
    sentinel = Path(tempfile.gettempdir()) / f"watchbot-local-test-{uuid.uuid4().hex}"
    sentinel.write_text("the user's own file in /tmp")
    try:
        _run_pipeline(local, sentinel)
    finally:
        sentinel.unlink(missing_ok=True)


def _run_pipeline(local: LocalRun, sentinel: Path) -> None:
    # given local has started: it prints the endpoint and the stack name, then the watcher listens
    local.wait_for(lambda lines: any("listening on" in line for line in lines), 60, "the watcher")
    endpoint = re.search(r"http://127\.0\.0\.1:\d+", local.line_with("local AWS endpoint:")).group(0)
    stack = local.line_with("stack: ").split("stack: ", 1)[1].strip()
    run_dir = Path(local.line_with("volume /tmp -> ").split(" -> ", 1)[1].split(" (TMPDIR)")[0])
    assert str(run_dir).startswith(tempfile.gettempdir()) and run_dir.is_dir()

    # when a succeeding, a rejected and a failing message are sent to the stack's topic
    sent_ids = send(endpoint, stack, "ok 1", "reject 1", "fail 1").stdout.split()
    assert len(sent_ids) == 3

    # then the failing one is retried with backoff until SQS dead-letters it, and the counts say so
    final = "visible 0, in flight 0, dead-letter 1, succeeded 1, failed 3 (rejected 1)"
    local.wait_for(lambda lines: any(final in line for line in status_lines(lines)), 40, final)
    lines = local.snapshot()
    summaries = [line for line in lines if "[watcher]" in line and "completed in" in line]
    assert sorted(line.rsplit("outcome ", 1)[1] for line in summaries) == ["failure", "failure", "rejected",
                                                                            "success"]
    assert any("after 2 receives" in line and "outcome failure" in line for line in summaries)
    # each id send printed is in the log, on a line that names the SQS message id of the job's other lines
    for sent_id in sent_ids:
        # once per receive (the failing one runs twice), always under the same SQS message id
        [sqs_id] = {line.split("] [", 2)[2].split("]", 1)[0] for line in lines if f"from SNS message {sent_id}" in line}
        assert any(f"[{sqs_id}] completed in" in other for other in summaries), (sqs_id, summaries)
    # local says when the failing message comes back, and when it goes to the dead-letter queue (threshold 2)
    notes = [line for line in lines if line.startswith("[local] message ")]
    assert any("failure on receive 1 of 2: returned, visible again in about 2 s" in line for line in notes), notes
    assert any("failure on receive 2 of 2: SQS moves it to the dead-letter queue" in line for line in notes), notes
    # the job ran with TMPDIR in the run's private directory; the user's /tmp was not emptied
    assert any("[worker]" in line and f"working on ok 1 in {run_dir}" in line for line in lines), "\n".join(lines)
    assert sentinel.exists()
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x",
                       aws_secret_access_key="x")
    dead_url = next(url for url in sqs.list_queues()["QueueUrls"] if url.endswith(f"{stack}-WatchbotDeadLetterQueue"))
    dead = sqs.receive_message(QueueUrl=dead_url, WaitTimeSeconds=2, VisibilityTimeout=0)["Messages"]
    assert [json.loads(m["Body"])["Message"] for m in dead] == ["fail 1"]

    # given a job that is still running, and the whole process tree under local
    send(endpoint, stack, "slow job")
    local.wait_for(lambda lines: any("in flight 1" in line for line in status_lines(lines)), 20, "a running job")
    tree = process_tree(local.process.pid)
    commands = " ".join(Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ") for pid in tree
                        if Path(f"/proc/{pid}/cmdline").exists())
    assert "moto.server" in commands and "watchbot_cfn.runtime.cli" in commands and "sleep 60" in commands

    # when Ctrl-C is pressed (SIGINT), and again to stop the running job at once
    local.process.send_signal(signal.SIGINT)
    local.wait_for(lambda lines: any("stopping:" in line for line in lines), 10, "the stop notice")
    local.process.send_signal(signal.SIGINT)
    code = local.process.wait(30)

    # then everything has ended, the run's directory is gone, and the exit code is 0
    assert code == 0, "\n".join(local.snapshot())
    time.sleep(0.2)
    left = {pid for pid, start in tree.items() if still_running(pid, start)}
    assert left == set(), f"still running: {left}"
    assert not run_dir.exists()
    assert any(line.startswith("[local] stopped; succeeded 1, failed 3 (rejected 1)") or
               "stopped; Watchbot: succeeded 1, failed 3" in line for line in local.snapshot())


def test_ctrl_c_on_an_idle_local_stops_at_once_and_says_where_the_watcher_polls(local: LocalRun):
    local.wait_for(lambda lines: any("listening on" in line for line in lines), 60, "the watcher")
    endpoint = re.search(r"http://127\.0\.0\.1:\d+", local.line_with("local AWS endpoint:")).group(0)
    assert f"(through the local endpoint {endpoint})" in local.line_with("listening on")
    tree = process_tree(local.process.pid)

    local.process.send_signal(signal.SIGINT)

    # no message is in flight: the watcher is not left to finish its 20-second long poll
    assert local.process.wait(30) == 0, "\n".join(local.snapshot())
    lines = local.snapshot()
    assert any("stopping: no message in flight, so the watcher stops now" in line for line in lines), lines
    assert not any("running jobs get up to" in line for line in lines)
    assert {pid for pid, start in tree.items() if still_running(pid, start)} == set()
