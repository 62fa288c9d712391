"""Shutdown: stop receiving at once, drain until the deadline, return what is left, exit 0."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.support.procfs import alive
from tests.support.watcherproc import (
    WatcherProcess,
    create_queue,
    depth_becomes,
    queue_depth,
    signal_one_thread,
    summaries,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


def test_a_job_that_finishes_within_the_deadline_is_completed_and_deleted(moto_server):
    url, _ = create_queue(moto_server)
    moto_server.client("sqs").send_message(QueueUrl=url, MessageBody="finish me")
    with WatcherProcess(moto_server, url, "echo started; sleep 1.5; echo finished", drainTimeout="10") as watcher:
        watcher.wait_for(lambda lines: any(line.endswith("] started") for line in lines), 20)
        signalled = time.monotonic()
        watcher.signal(signal.SIGTERM)
        assert watcher.wait(15) == 0
        took = time.monotonic() - signalled
    lines = watcher.snapshot()
    assert any(line.endswith("] finished") for line in lines)
    assert "outcome success" in summaries(lines)[0]
    assert took < 5  # it left as soon as the job was done, not at the deadline
    assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)


def test_a_job_past_the_deadline_is_stopped_and_its_message_is_visible_again_at_once(moto_server, tmp_path):
    url, _ = create_queue(moto_server, visibility=120)
    sqs = moto_server.client("sqs")
    stuck_id = sqs.send_message(QueueUrl=url, MessageBody="stuck")["MessageId"]
    pids = tmp_path / "pids"
    command = f"echo started; sh -c 'trap \"\" TERM; sleep 60' & echo $! > {pids}; wait"
    with WatcherProcess(moto_server, url, command, drainTimeout="1", concurrency="2") as watcher:
        watcher.wait_for(lambda lines: any(line.endswith("] started") for line in lines), 20)
        signalled = time.monotonic()
        watcher.signal(signal.SIGTERM)
        time.sleep(0.3)
        # a message sent after the signal must not be started, even with a free slot
        late_id = sqs.send_message(QueueUrl=url, MessageBody="late")["MessageId"]
        assert watcher.wait(15) == 0
        took = time.monotonic() - signalled
    lines = watcher.snapshot()
    assert took < 1 + 2 + 3  # deadline + kill grace + returning the message
    assert sum(line.endswith("] started") for line in lines) == 1
    assert not any(line.endswith("[failure]") or "[failure]" in line for line in lines)  # not the job's fault
    assert any("stopped by shutdown" in line for line in lines)
    grandchild = int(pids.read_text())
    time.sleep(0.2)
    assert not alive(grandchild)  # a zombie at most, or gone entirely
    # both messages can be received right away, well inside the 120 s visibility timeout
    received = {}
    deadline = time.monotonic() + 5
    while len(received) < 2 and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                           MessageSystemAttributeNames=["ApproximateReceiveCount"]
                                           ).get("Messages", []):
            received[message["MessageId"]] = int(message["Attributes"]["ApproximateReceiveCount"])
    assert set(received) == {stuck_id, late_id}
    assert received[stuck_id] == 2


def test_an_idle_watcher_stops_on_sigint(moto_server):
    url, _ = create_queue(moto_server)
    with WatcherProcess(moto_server, url, "true", drainTimeout="1") as watcher:
        time.sleep(0.5)  # a long poll is on the wire
        signalled = time.monotonic()
        watcher.signal(signal.SIGINT)
        assert watcher.wait(10) == 0
        assert time.monotonic() - signalled < 3
        assert any("stopped:" in line for line in watcher.snapshot())


def test_a_second_signal_skips_the_rest_of_the_drain(moto_server):
    url, _ = create_queue(moto_server)
    moto_server.client("sqs").send_message(QueueUrl=url, MessageBody="long")
    with WatcherProcess(moto_server, url, "echo started; sleep 60", drainTimeout="30") as watcher:
        watcher.wait_for(lambda lines: any(line.endswith("] started") for line in lines), 20)
        watcher.signal(signal.SIGTERM)
        time.sleep(0.5)
        signalled = time.monotonic()
        watcher.signal(signal.SIGTERM)
        assert watcher.wait(10) == 0
        assert time.monotonic() - signalled < 5
    visible, _ = queue_depth(moto_server, url)
    assert visible == 1


def test_sigterm_returns_messages_held_behind_a_running_fifo_job_at_once(moto_server):
    url, _ = create_queue(moto_server, visibility=120, fifo=True)
    sqs = moto_server.client("sqs")
    sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(index), "MessageBody": f"m{index}", "MessageGroupId": "g"} for index in range(3)])
    with WatcherProcess(moto_server, url, 'echo "started $Message"; sleep 60', concurrency="2", Fifo="true",
                        drainTimeout="20") as watcher:
        watcher.wait_for(lambda lines: any(line.endswith("] started m0") for line in lines), 20)
        assert queue_depth(moto_server, url)[1] == 2  # m0 runs, m1 waits behind it in this watcher
        signalled = time.monotonic()
        watcher.signal(signal.SIGTERM)
        # m1 goes back at once, while m0 still has its drain time
        assert depth_becomes(moto_server, url, (2, 1), timeout=3) == (2, 1)
        assert time.monotonic() - signalled < 3
        lines = watcher.snapshot()
        assert any("1 held message(s) returned at once" in line for line in lines)
        watcher.signal(signal.SIGTERM)
        assert watcher.wait(10) == 0
    assert depth_becomes(moto_server, url, (3, 0)) == (3, 0)


def test_sigterm_returns_prefetched_messages_at_once(moto_server):
    url, _ = create_queue(moto_server, visibility=120)
    sqs = moto_server.client("sqs")
    command = 'case "$Message" in long*) echo started; sleep 60;; *) sleep 0.05;; esac'
    with WatcherProcess(moto_server, url, command, concurrency="2", drainTimeout="20") as watcher:
        for index in range(4):  # short jobs first: the watcher learns to hold messages ahead
            sqs.send_message(QueueUrl=url, MessageBody=f"short {index}")
        watcher.wait_for(lambda lines: len(summaries(lines)) == 4, 20)
        for index in range(2):
            sqs.send_message(QueueUrl=url, MessageBody=f"long {index}")
        watcher.wait_for(lambda lines: sum(line.endswith("] started") for line in lines) == 2, 20)
        for index in range(3):
            sqs.send_message(QueueUrl=url, MessageBody=f"waiting {index}")
        # both slots are busy; two messages are held ahead, the third stays in the queue
        assert depth_becomes(moto_server, url, (1, 4), timeout=5) == (1, 4)
        watcher.signal(signal.SIGTERM)
        assert depth_becomes(moto_server, url, (3, 2), timeout=3) == (3, 2)
        assert any("2 held message(s) returned at once" in line for line in watcher.snapshot())
        watcher.signal(signal.SIGTERM)
        assert watcher.wait(10) == 0
    assert depth_becomes(moto_server, url, (5, 0)) == (5, 0)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_taken_by_another_thread_still_stops_an_idle_watcher(moto_server, signum):
    url, _ = create_queue(moto_server)
    with WatcherProcess(moto_server, url, "true", drainTimeout="1", concurrency="4") as watcher:
        assert watcher.process
        pid = watcher.process.pid
        time.sleep(0.5)  # the main thread is asleep, waiting to be woken; the pollers are on the wire
        others = sorted(int(name) for name in os.listdir(f"/proc/{pid}/task") if int(name) != pid)
        assert others, "the watcher runs its pollers in threads of their own"
        signalled = time.monotonic()
        signal_one_thread(pid, others[-1], signum)
        assert watcher.wait(10) == 0
        assert time.monotonic() - signalled < 3
        assert any("stopped:" in line for line in watcher.snapshot())
