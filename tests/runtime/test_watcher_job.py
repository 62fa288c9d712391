"""One job: exit codes, output relay, time limit over the whole process group, shutdown stop."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from tests.runtime.helpers import CapturingLogger
from tests.support.procfs import alive
from tests.support.waiting import wait_for
from watchbot_cfn.runtime.children import DirectChildren
from watchbot_cfn.runtime.job import Job, describe


def run(command: str, **kwargs):
    logger = CapturingLogger()
    job = Job(command, dict(os.environ), "msg-1", logger, DirectChildren(), **kwargs)
    return job, job.run(), logger


def returns_within(seconds: float, function):
    """``function()``'s result, failing the test if it has not returned after ``seconds``."""
    got: list = []
    thread = threading.Thread(target=lambda: got.append(function()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert got, f"still running after {seconds} s"
    return got[0]



@pytest.mark.parametrize("code", [0, 1, 3, 4, 77])
def test_exit_codes_come_back(code):
    _, result, _ = run(f"exit {code}")
    assert result.returncode == code and result.exit_code == code and result.signal is None
    assert not result.timed_out and not result.interrupted and result.start_error is None


def test_output_is_relayed_line_by_line_with_the_message_id():
    _, result, logger = run("echo one; echo two >&2; printf 'no newline'")
    assert result.exit_code == 0
    texts = [line.split("] ", 3)[-1] for line in logger.lines]
    assert sorted(texts) == ["no newline", "one", "two"]
    assert all("[worker] [msg-1]" in line for line in logger.lines)


def test_structured_output_of_both_streams_is_a_worker_line_with_the_message_id():
    logger = CapturingLogger(structured=True)
    Job("echo out; echo err >&2", dict(os.environ), "m", logger, DirectChildren()).run()
    records = {record["msg"]: record for record in logger.records()}
    assert sorted(records) == ["err", "out"]
    for record in records.values():
        assert record["name"] == "worker" and record["watchbot_sqs_message_id"] == "m" and record["level"] == 30


def test_a_killed_job_reports_its_signal():
    _, result, _ = run("kill -KILL $$")
    assert result.signal == signal.SIGKILL and result.exit_code is None
    assert describe(result) == "killed by SIGKILL"


def test_max_duration_kills_grandchildren_too(tmp_path):
    pidfile = tmp_path / "pid"
    _, result, _ = returns_within(5, lambda: run(f"sleep 60 & echo $! > {pidfile}; wait", max_duration=0.5))
    assert result.timed_out
    grandchild = int(pidfile.read_text())
    assert wait_for(lambda: not alive(grandchild), 3)


def test_sigterm_is_followed_by_sigkill_after_the_grace():
    started = time.monotonic()
    _, result, _ = run("trap '' TERM; sleep 30", max_duration=0.3, kill_grace=0.4)
    elapsed = time.monotonic() - started
    assert result.timed_out and result.signal == signal.SIGKILL
    assert 0.6 <= elapsed < 3


def test_leftover_processes_die_with_the_job(tmp_path):
    pidfile = tmp_path / "pid"
    _, result, _ = returns_within(3, lambda: run(f"(sleep 60 & echo $! > {pidfile}); exit 0"))
    assert result.exit_code == 0  # and it did not wait for the leftover's 60 s
    grandchild = int(pidfile.read_text())
    assert wait_for(lambda: not alive(grandchild), 3)


def test_stop_ends_a_running_job_as_interrupted():
    logger = CapturingLogger()
    job = Job("echo running; sleep 30", dict(os.environ), "m", logger, DirectChildren(), kill_grace=0.5)
    got: list = []
    thread = threading.Thread(target=lambda: got.append(job.run()), daemon=True)
    thread.start()
    assert wait_for(lambda: any(line.endswith("] running") for line in logger.lines), 5)
    job.stop()
    thread.join(3)  # not the 30 s of its sleep
    [result] = got
    assert result.interrupted and not result.timed_out


def test_a_command_that_cannot_start_is_a_result_not_an_exception():
    logger = CapturingLogger()
    result = Job("true", {"BAD": "nul\0byte"}, "m", logger, DirectChildren()).run()
    assert result.start_error and result.returncode is None
    assert describe(result).startswith("could not start the command")


def test_a_missing_program_is_an_ordinary_failure():
    _, result, logger = run("definitely-not-a-program-xyz")
    assert result.exit_code == 127
    assert any("not found" in line for line in logger.lines)
