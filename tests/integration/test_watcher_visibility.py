"""Visibility: long jobs keep their message, failures reach the DLQ, time limits stop whole trees."""

from __future__ import annotations

import time

import pytest

from tests.support.procfs import alive, children_of, is_zombie, parent_of
from tests.support.watcherproc import WatcherProcess, create_queue, depth_becomes, summaries

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]



def test_a_job_longer_than_the_visibility_timeout_is_not_delivered_twice(moto_server, tmp_path):
    # given a 2 s visibility timeout and a 5 s job, with a free slot that keeps polling
    url, _ = create_queue(moto_server, visibility=2)
    moto_server.client("sqs").send_message(QueueUrl=url, MessageBody="slow")
    runs = tmp_path / "runs"
    with WatcherProcess(moto_server, url, f"echo run >> {runs}; sleep 5", visibilityTimeout="2",
                        concurrency="2") as watcher:
        lines = watcher.wait_for(lambda lines: len(summaries(lines)) >= 1, 20)
        time.sleep(2.5)  # a duplicate would have started by now
        # then it ran once, with one receive, and is gone
        assert runs.read_text() == "run\n"
        assert "after 1 receives" in summaries(lines)[0] and "outcome success" in summaries(lines)[0]
        assert len(summaries(watcher.snapshot())) == 1
        assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)


def test_failing_messages_move_to_the_dead_letter_queue(moto_server):
    url, dlq = create_queue(moto_server, dead_letter_after=2)
    sqs = moto_server.client("sqs")
    message_id = sqs.send_message(QueueUrl=url, MessageBody="poison")["MessageId"]
    with WatcherProcess(moto_server, url, "exit 1") as watcher:
        deadline = time.monotonic() + 20
        dead = []
        while not dead and time.monotonic() < deadline:
            dead = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages", [])
        assert [m["MessageId"] for m in dead] == [message_id]
        assert watcher.count("[failure] exit code 1") == 2  # maxReceiveCount receives, then redrive
    assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)


def test_max_job_duration_stops_the_whole_process_tree_and_returns_the_message(moto_server, tmp_path):
    url, _ = create_queue(moto_server)
    moto_server.client("sqs").send_message(QueueUrl=url, MessageBody="stuck")
    pids = tmp_path / "pids"
    # a grandchild that ignores SIGTERM, under a shell that waits for it
    command = f"sh -c 'trap \"\" TERM; sleep 60' & echo $! >> {pids}; wait"
    with WatcherProcess(moto_server, url, command, maxJobDuration="1") as watcher:
        started = time.monotonic()
        lines = watcher.wait_for(lambda lines: len(summaries(lines)) >= 1, 20)
        assert time.monotonic() - started < 6  # 1 s limit + 2 s grace, not 60 s
        assert any("[failure] exceeded maxJobDuration of 1 s" in line for line in lines)
        assert "outcome failure" in summaries(lines)[0]
        grandchild = int(pids.read_text().split()[0])
        deadline = time.monotonic() + 3
        while alive(grandchild) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(grandchild)
        # and the message comes back after its backoff (2 s) for another try
        watcher.wait_for(lambda lines: len(summaries(lines)) >= 2, 10)
        assert "after 2 receives" in summaries(watcher.snapshot())[1]


def test_orphans_are_reaped(moto_server, tmp_path):
    # given a job that leaves a process in its own session (out of reach of the group kill)
    url, _ = create_queue(moto_server)
    moto_server.client("sqs").send_message(QueueUrl=url, MessageBody="x")
    orphan_pid = tmp_path / "orphan"
    command = f"setsid sh -c 'echo $$ > {orphan_pid}; exec sleep 1' > /dev/null 2>&1 & sleep 0.3"
    with WatcherProcess(moto_server, url, command) as watcher:
        watcher.wait_for(lambda lines: len(summaries(lines)) >= 1, 20)
        pid = int(orphan_pid.read_text())
        watcher_pid = watcher.process.pid
        assert parent_of(pid) == watcher_pid  # the watcher adopts orphans, as PID 1 does
        time.sleep(1.5)  # the orphan has exited by now
        zombies = [child for child in children_of(watcher_pid) if is_zombie(child)]
        assert zombies == []
