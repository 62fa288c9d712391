"""Task scale-in protection: a real watcher process, moto, and a fake ECS agent on loopback that records calls."""

from __future__ import annotations

import signal
import socket
import time

import pytest

from tests.support.fakeagent import FakeAgent
from tests.support.watcherproc import WatcherProcess, create_queue, depth_becomes, summaries

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def test_set_before_the_first_job_renewed_during_a_long_one_cleared_after_the_last_never_while_idle(
        moto_server, tmp_path):
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    started = tmp_path / "started"
    # maxJobDuration 8: renewed every (8 + 2) / 2 = 5 s while a job runs; the job takes 6 s
    command = f'date +%s.%N >> {started}; case "$Message" in long) sleep 6;; esac'
    with FakeAgent() as agent:
        watcher = WatcherProcess(moto_server, url, command, maxJobDuration="8", concurrency="2")
        watcher.env["ECS_AGENT_URI"] = agent.uri
        with watcher:
            time.sleep(1.0)
            assert agent.snapshot() == []  # idle: never protected
            sqs.send_message(QueueUrl=url, MessageBody="long")
            watcher.wait_for(lambda lines: len(summaries(lines)) == 1, 20)
            for index in range(3):  # short jobs after it
                sqs.send_message(QueueUrl=url, MessageBody=f"short {index}")
            watcher.wait_for(lambda lines: len(summaries(lines)) == 4, 20)
            assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)
            deadline = time.monotonic() + 5
            while agent.enabled and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.5)  # idle again: nothing more is sent
            calls = agent.snapshot()
            watcher.signal(signal.SIGTERM)
            assert watcher.wait(10) == 0
        first_start = float(started.read_text().split()[0])
        assert calls[0].enabled and calls[0].at < first_start  # protected before the command ran
        assert calls[0].minutes == 2  # 8 s + a minute, in whole minutes
        renewals = [call for call in calls[1:] if call.enabled and call.at < first_start + 6]
        assert len(renewals) == 1 and 4 < renewals[0].at - calls[0].at < 6.5  # renewed during the long job
        assert not calls[-1].enabled  # cleared after the last job ...
        assert calls[-1].at > float(started.read_text().split()[-1])
        assert len(agent.snapshot()) == len(calls)  # ... and, idle, never set again (not even to stop)
        assert not agent.enabled


def closed_port_uri() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/api/container-id"


@pytest.mark.parametrize("fault", ["error", "hang", "refused"])
def test_an_agent_that_fails_or_never_answers_changes_nothing_for_the_jobs(moto_server, tmp_path, fault):
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    with FakeAgent(mode=fault if fault != "refused" else "ok") as agent:
        watcher = WatcherProcess(moto_server, url, 'echo "ran $Message"; exit "$Message"', concurrency="2")
        watcher.env["ECS_AGENT_URI"] = closed_port_uri() if fault == "refused" else agent.uri
        with watcher:
            sent = time.monotonic()
            for code in ("0", "3", "0", "4", "0", "0"):
                sqs.send_message(QueueUrl=url, MessageBody=code)
            lines = watcher.wait_for(lambda lines: len(summaries(lines)) == 6, 20)
            assert time.monotonic() - sent < 8  # at most the first job waited, a second
            assert depth_becomes(moto_server, url, (0, 1)) == (0, 1)  # the exit 4 waits its backoff
            outcomes = sorted(line.rsplit("outcome ", 1)[1] for line in summaries(lines))
            assert outcomes == ["noop", "rejected", "success", "success", "success", "success"]
            warnings = [line for line in lines if "task protection: could not protect" in line]
            assert len(warnings) == 1, warnings  # said once for the whole failing spell
            stopped = time.monotonic()
            watcher.signal(signal.SIGTERM)
            assert watcher.wait(10) == 0
            assert time.monotonic() - stopped < 6  # a hung agent does not hold up the exit
        if fault != "refused":
            assert len(agent.snapshot()) >= 1


def test_with_task_protection_off_the_agent_is_never_called(moto_server):
    url, _ = create_queue(moto_server)
    with FakeAgent() as agent:
        watcher = WatcherProcess(moto_server, url, "true", taskProtection="false")
        watcher.env["ECS_AGENT_URI"] = agent.uri
        with watcher:
            moto_server.client("sqs").send_message(QueueUrl=url, MessageBody="x")
            watcher.wait_for(lambda lines: len(summaries(lines)) == 1, 20)
            time.sleep(1.5)
        assert agent.snapshot() == []
