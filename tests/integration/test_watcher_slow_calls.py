"""Slow, failing and empty SQS answers, and failing credentials, against a real watcher and moto.

The watcher talks to moto through ``FaultProxy`` (tests/support/faultproxy.py),
which slows, holds, fails or empties chosen calls; the test reads the queue
from moto directly. What every test checks, in its own scenario: no message
becomes visible (or is received again) because the watcher was slow to extend
it, a slow call holds up only its own batch, and every message is settled
exactly once.
"""

from __future__ import annotations

import re
import signal

import pytest

from tests.support.fakecreds import CredentialsEndpoint
from tests.support.faultproxy import FaultProxy, Rule
from tests.support.motoserver import MotoServer
from tests.support.waiting import until
from tests.support.watcherproc import WatcherProcess, create_queue, depth_becomes, queue_depth, summaries

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

EXTEND = "ChangeMessageVisibilityBatch"
DELETE = "DeleteMessageBatch"


def final_counts(watcher: WatcherProcess) -> dict[str, int]:
    """Stop the watcher and read its last line, ``stopped: deleted 3, extensions 7, ...``."""
    watcher.signal(signal.SIGTERM)
    assert watcher.wait(30) == 0
    [line] = watcher.wait_for(lambda lines: any("stopped:" in line for line in lines), 5)[-1:]
    assert "stopped:" in line, line
    return {name: int(count) for name, count in re.findall(r"([a-z_]+) (\d+)", line.split("stopped:", 1)[1])}


def notable(watcher: WatcherProcess) -> str:
    """The watcher's warnings and errors, for an assertion's message."""
    return "\n".join(line for line in watcher.snapshot()
                     if any(word in line for word in ("lapsed", "again", "failed", "lost", "error")))


def send(server: MotoServer, url: str, bodies: list[str]) -> None:
    sqs = server.client("sqs")
    for start in range(0, len(bodies), 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(index), "MessageBody": body} for index, body in enumerate(bodies[start:start + 10])])


def through(proxy: FaultProxy, watcher: WatcherProcess) -> WatcherProcess:
    watcher.env["AWS_ENDPOINT_URL"] = proxy.endpoint
    return watcher


class DepthWatch:
    """The largest visible depth seen while polling moto directly (a lapse shows as a visible message)."""

    def __init__(self, server: MotoServer, url: str) -> None:
        self.server, self.url, self.most_visible = server, url, 0

    def look(self) -> tuple[int, int]:
        depth = queue_depth(self.server, self.url)
        self.most_visible = max(self.most_visible, depth[0])
        return depth


def test_extensions_go_out_side_by_side_so_fifty_slow_ones_keep_every_message_hidden(moto_server):
    # given 50 running jobs, visibility 30 s (extended at 20 s, 10 s left) and 2.5 s per extension call:
    # five batches one after another need 12.5 s, so the last ones would reach SQS after their messages
    # reappeared
    url, _ = create_queue(moto_server, visibility=30)
    proxy = FaultProxy(moto_server.port, [Rule(EXTEND, "delay", delay=2.5)])
    try:
        send(moto_server, url, [f"m{index}" for index in range(50)])
        watch = DepthWatch(moto_server, url)
        with through(proxy, WatcherProcess(moto_server, url, "echo started; sleep 26", concurrency="50",
                                           visibilityTimeout="30")) as watcher:
            watcher.wait_for(lambda lines: sum(line.endswith("] started") for line in lines) == 50, 60)
            # when every job runs through a round of extensions
            until(lambda: watch.look() == (0, 0), 90, "all 50 messages to be deleted")
            counts = final_counts(watcher)
        # then no message was ever visible, received again or run twice, and none lapsed
        assert watch.most_visible == 0
        assert len(summaries(watcher.snapshot())) == 50
        assert counts["received"] == 50 and counts["deleted"] == 50, notable(watcher)
        assert counts["extensions"] >= 50  # every message extended at least once, through the slow calls
        assert "received_while_running" not in counts and "visibility_lapsed" not in counts
        delayed = proxy.of(EXTEND)
        assert any(call.concurrent.get(EXTEND, 0) >= 4 for call in delayed)  # the calls were on the wire together
    finally:
        proxy.close()


def test_settles_go_out_while_every_extension_call_hangs(moto_server, tmp_path):
    # given 40 running jobs, visibility 60 s, and an SQS that holds every extension call unanswered from
    # the first one on (a saturated heartbeat: its calls are on the wire when the jobs end); 60 s leaves
    # 20 s between the first extension and the first message reappearing, for 40 jobs to end on a loaded
    # machine (with 30 s, a job still ending after 10 s was received again: the scenario, not the watcher)
    url, _ = create_queue(moto_server, visibility=60)
    hang = Rule(EXTEND, "hold")
    proxy = FaultProxy(moto_server.port, [hang])
    go = tmp_path / "go"
    try:
        send(moto_server, url, [f"m{index}" for index in range(40)])
        command = f"while [ ! -e {go} ]; do sleep 1; done"
        with through(proxy, WatcherProcess(moto_server, url, command, concurrency="40",
                                           visibilityTimeout="60")) as watcher:
            until(lambda: len(proxy.of(EXTEND)) >= 1, 90, "the first extension call")
            # when the jobs end while extension calls hang (20 s before the first messages would reappear)
            go.touch()
            until(lambda: len(summaries(watcher.snapshot())) == 40, 60, "all 40 jobs to end")
            # then every message is deleted without waiting for them
            assert depth_becomes(moto_server, url, (0, 0), timeout=8) == (0, 0)
            assert not hang.gate.is_set() and proxy.in_flight(EXTEND) >= 1
            hang.open()
            counts = final_counts(watcher)
        assert counts["received"] == 40 and counts["deleted"] == 40 and "delete_failed" not in counts, notable(watcher)
        assert "received_while_running" not in counts
    finally:
        proxy.close()


def test_a_slow_delete_holds_up_only_its_own_batch(moto_server):
    # given an SQS that leaves the first delete call unanswered (until the watcher gives it up, after 5 s)
    url, _ = create_queue(moto_server)
    stuck = Rule(DELETE, "hold", times=1)
    proxy = FaultProxy(moto_server.port, [stuck])
    try:
        # one job ends first (its delete hangs), nine end two seconds later
        send(moto_server, url, ["1"] + ["3"] * 9)
        with through(proxy, WatcherProcess(moto_server, url, 'sleep "$Message"', concurrency="10")) as watcher:
            until(lambda: queue_depth(moto_server, url) == (0, 0), 60, "all ten messages to be deleted")
            counts = final_counts(watcher)
        # then the later deletes went out, and were answered, while the first call still hung
        first, *later = proxy.of(DELETE)
        assert first.fault == "hold" and not first.answered and first.ended is not None
        assert later and all(call.answered for call in later)
        before = [call for call in later if call.ended is not None and call.ended < first.ended]
        assert before, "no delete was answered while the first one hung"
        # and each message was deleted once: the hung one by its retry
        assert counts["deleted"] == 10 and "delete_failed" not in counts and "ownership_lost" not in counts
        assert len(summaries(watcher.snapshot())) == 10
        assert any(f"{DELETE} failed" in line and "timeout" in line.lower() for line in watcher.snapshot())
    finally:
        proxy.close()


def test_a_message_awaiting_its_delete_is_extended_until_the_delete_lands(moto_server):
    # given visibility 6 s and an SQS that leaves every delete unanswered for longer than that
    url, _ = create_queue(moto_server, visibility=6)
    stuck = Rule(DELETE, "hold")
    proxy = FaultProxy(moto_server.port, [stuck])
    try:
        send(moto_server, url, [f"m{index}" for index in range(5)])
        watch = DepthWatch(moto_server, url)
        with through(proxy, WatcherProcess(moto_server, url, "true", concurrency="5",
                                           visibilityTimeout="6")) as watcher:
            until(lambda: len(summaries(watcher.snapshot())) == 5, 30, "the five jobs to end")
            extended = len(proxy.of(EXTEND))
            # when the deletes hang through three attempts of 5 s each (twice the visibility timeout) ...
            until(lambda: (watch.look(), len(proxy.of(DELETE)) >= 3)[1], 60, "three delete attempts")
            # ... the messages are extended meanwhile, and none becomes visible
            assert len(proxy.of(EXTEND)) > extended
            assert watch.most_visible == 0 and queue_depth(moto_server, url) == (0, 5)
            stuck.open()
            until(lambda: watch.look() == (0, 0), 30, "the deletes to land")
            counts = final_counts(watcher)
        assert watch.most_visible == 0
        assert counts["received"] == 5 and counts["deleted"] == 5 and "received_while_running" not in counts
        assert len(summaries(watcher.snapshot())) == 5
    finally:
        proxy.close()


def test_credential_refresh_errors_keep_the_delete_batch_until_it_goes_through(moto_server, tmp_path):
    # given a watcher whose credentials come from a container endpoint, refreshed before every call
    url, _ = create_queue(moto_server)
    endpoint = CredentialsEndpoint("good")
    try:
        send(moto_server, url, [f"m{index}" for index in range(6)])
        go = tmp_path / "go"
        command = f'echo started; while [ ! -e {go} ]; do sleep 0.2; done'
        watcher = WatcherProcess(moto_server, url, command, concurrency="6")
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            watcher.env.pop(name, None)
        watcher.env.update(endpoint.env())
        with watcher:
            watcher.wait_for(lambda lines: sum(line.endswith("] started") for line in lines) == 6, 30)
            # when the jobs end while refreshes return expired credentials, then no credentials at all
            endpoint.set("expired")
            go.touch()
            watcher.wait_for(lambda lines: any(f"{DELETE} failed (RuntimeError" in line for line in lines), 30)
            endpoint.set("missing")
            watcher.wait_for(lambda lines: any(f"{DELETE} failed (KeyError" in line for line in lines), 60)
            assert queue_depth(moto_server, url) == (0, 6)
            endpoint.set("good")
            # then the kept batch goes through once they work again
            assert depth_becomes(moto_server, url, (0, 0), timeout=60) == (0, 0)
            counts = final_counts(watcher)
        assert counts["deleted"] == 6 and "delete_failed" not in counts and "delete_errors" not in counts
        assert counts["received"] == 6 and len(summaries(watcher.snapshot())) == 6
        assert not any("delete batch error" in line for line in watcher.snapshot())
    finally:
        endpoint.close()


@pytest.mark.parametrize("kind", ["empty", "empty_after", "error", "throttle"])
def test_a_delete_answered_empty_or_with_an_error_is_sent_again(moto_server, kind):
    # given an SQS whose first two delete answers are 200 with an empty body (without or after deleting),
    # a 500, or throttling
    url, _ = create_queue(moto_server)
    proxy = FaultProxy(moto_server.port, [Rule(DELETE, kind, times=2)])
    try:
        send(moto_server, url, ["a", "b", "c"])
        with through(proxy, WatcherProcess(moto_server, url, "true", concurrency="3")) as watcher:
            # then the deletes are sent again until SQS says they are done
            assert depth_becomes(moto_server, url, (0, 0), timeout=60) == (0, 0)
            until(lambda: len([c for c in proxy.of(DELETE) if c.fault == ""]) >= 1, 10, "a delete answered")
            counts = final_counts(watcher)
        assert counts["deleted"] == 3 and "delete_failed" not in counts and "ownership_lost" not in counts
        assert len(summaries(watcher.snapshot())) == 3
        lines = watcher.snapshot()
        said = "answered without a result" if kind.startswith("empty") else f"{DELETE} failed"
        assert any(said in line for line in lines)
    finally:
        proxy.close()


def test_a_lapse_the_watcher_could_not_prevent_is_said_and_counted(moto_server):
    # given visibility 6 s and an SQS that leaves every extension call unanswered for a while
    url, _ = create_queue(moto_server, visibility=6)
    hang = Rule(EXTEND, "hold")
    proxy = FaultProxy(moto_server.port, [hang])
    try:
        send(moto_server, url, ["m"])
        with through(proxy, WatcherProcess(moto_server, url, "echo started; sleep 14",
                                           visibilityTimeout="6")) as watcher:
            # when the message's visibility runs out before any extension reached SQS
            lines = watcher.wait_for(lambda lines: any("visibility lapsed" in line for line in lines), 30)
            hang.open()
            until(lambda: queue_depth(moto_server, url) == (0, 0), 30, "the message to be deleted")
            counts = final_counts(watcher)
        # then the watcher said so, for that message, and counted it
        said = [line for line in lines if "visibility lapsed" in line]
        assert all("may have been received by another consumer" in line for line in said)
        assert counts["visibility_lapsed"] >= 1 and counts["deleted"] == 1
        assert len(summaries(watcher.snapshot())) == 1
    finally:
        proxy.close()
