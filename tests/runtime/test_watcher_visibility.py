"""Heartbeat and settling: extensions on schedule, never after the final decision."""

from __future__ import annotations

import threading
import time

from tests.runtime.helpers import CapturingLogger, FakeSqs
from tests.support.waiting import wait_for
from watchbot_cfn.runtime.hold import Hold
from watchbot_cfn.runtime.message import Message
from watchbot_cfn.runtime.queue import QueueClient
from watchbot_cfn.runtime.settle import Settler
from watchbot_cfn.runtime.stats import Stats
from watchbot_cfn.runtime.visibility import Heartbeat, remaining_visibility


def message(mid: str = "m", held: float = 0.0) -> Message:
    return Message(mid, f"rh-{mid}", "body", None, 1, None, None, received_at=time.monotonic() - held)



def heartbeat(sqs: FakeSqs, interval: float = 0.2):
    logger, stats = CapturingLogger(), Stats()
    beat = Heartbeat(QueueClient("q", sqs, logger, max_backoff=0.01), logger, stats, 7, interval).start()
    return beat, logger, stats


def test_tracked_messages_are_extended_every_interval_in_batches():
    sqs = FakeSqs()
    beat, _, stats = heartbeat(sqs)
    for i in range(12):
        beat.track(Hold(message(f"m{i}")))
    assert wait_for(lambda: stats.get("extensions") >= 24)
    calls = sqs.of("change_message_visibility_batch")
    assert all(len(call["Entries"]) <= 10 for call in calls)
    assert {entry["VisibilityTimeout"] for call in calls for entry in call["Entries"]} == {7}
    beat.close()


def test_nothing_is_extended_before_the_interval():
    sqs = FakeSqs()
    beat, _, _ = heartbeat(sqs, interval=1.0)
    beat.track(Hold(message()))
    time.sleep(0.5)
    assert sqs.of("change_message_visibility_batch") == []
    beat.close()


def test_untrack_waits_for_an_extension_on_the_wire():
    sqs = FakeSqs()
    on_wire, release = threading.Event(), threading.Event()

    def slow(kwargs):
        on_wire.set()
        release.wait(5)
        return {"Successful": [{"Id": e["Id"]} for e in kwargs["Entries"]]}
    sqs.script("change_message_visibility_batch", slow)
    beat, _, _ = heartbeat(sqs, interval=0.05)
    hold = Hold(message())
    beat.track(hold)
    assert on_wire.wait(5)
    done = threading.Event()
    threading.Thread(target=lambda: (beat.untrack(hold), done.set())).start()
    time.sleep(0.2)
    assert not done.is_set()  # still waiting for the extension in flight
    release.set()
    assert done.wait(5)
    count = len(sqs.of("change_message_visibility_batch"))
    time.sleep(0.3)
    assert len(sqs.of("change_message_visibility_batch")) == count  # and none after
    beat.close()


def test_lost_ownership_is_counted_and_logged():
    sqs = FakeSqs()
    sqs.script("change_message_visibility_batch", lambda kwargs: {"Failed": [
        {"Id": "0", "SenderFault": True, "Code": "ReceiptHandleIsInvalid", "Message": "gone"}]})
    beat, logger, stats = heartbeat(sqs, interval=0.05)
    beat.track(Hold(message()))
    assert wait_for(lambda: stats.get("ownership_lost") == 1)
    assert any("ownership lost" in line and "[m]" in line for line in logger.lines)
    time.sleep(0.2)
    assert len(sqs.of("change_message_visibility_batch")) == 1  # no longer tracked
    beat.close()


def test_a_settle_held_up_by_a_slow_extension_says_so(monkeypatch):
    from watchbot_cfn.runtime import visibility

    monkeypatch.setattr(visibility, "_SLOW_EXTENSION", 0.1)
    sqs = FakeSqs()
    on_wire, release = threading.Event(), threading.Event()

    def hung(kwargs):
        on_wire.set()
        release.wait(5)
        return {"Successful": [{"Id": e["Id"]} for e in kwargs["Entries"]]}
    sqs.script("change_message_visibility_batch", hung)
    beat, logger, _ = heartbeat(sqs, interval=0.05)
    hold = Hold(message())
    beat.track(hold)
    assert on_wire.wait(5)
    threading.Timer(0.5, release.set).start()
    beat.untrack(hold)  # returns once the extension is answered
    assert release.is_set()
    assert sum("settling waits for a visibility extension still in flight" in line for line in logger.lines) == 1
    beat.close()


def test_two_holds_of_one_message_id_never_share_an_entry():
    sqs = FakeSqs()
    beat, _, _ = heartbeat(sqs, interval=0.05)
    first, second = Hold(message("same")), Hold(message("same"))
    beat.track(first)
    beat.track(second)
    assert beat.tracking() == 2
    beat.untrack(first)
    assert beat.tracking() == 1  # the other run is still extended
    beat.untrack(second)
    assert beat.tracking() == 0
    beat.close()


def test_a_newer_receipt_is_extended_and_the_stale_ones_loss_is_not_ownership_lost():
    sqs = FakeSqs()
    on_wire, release = threading.Event(), threading.Event()

    def stale(kwargs):  # the first extension goes out with the old handle, which SQS refuses
        on_wire.set()
        release.wait(5)
        return {"Failed": [{"Id": e["Id"], "SenderFault": True, "Code": "ReceiptHandleIsInvalid", "Message": "old"}
                           for e in kwargs["Entries"]]}
    sqs.script("change_message_visibility_batch", stale)
    beat, logger, stats = heartbeat(sqs, interval=0.05)
    hold = Hold(message("m"))
    beat.track(hold)
    assert on_wire.wait(5)
    hold.adopt(Message("m", "rh-newer", "body", None, 2, None, None))
    beat.renew(hold)
    release.set()
    assert wait_for(lambda: any(e["ReceiptHandle"] == "rh-newer"
                                for call in sqs.of("change_message_visibility_batch") for e in call["Entries"]))
    assert stats.get("ownership_lost") == 0 and beat.tracking() == 1
    assert not any("ownership lost" in line for line in logger.lines)
    beat.untrack(hold)
    beat.close()


def test_the_twelve_hour_budget_caps_every_visibility():
    assert remaining_visibility(message(held=0), 180) == 180
    assert remaining_visibility(message(held=43_200 - 100), 180) == 95
    assert remaining_visibility(message(held=43_200), 180) == 0


def test_settler_batches_and_reports():
    sqs = FakeSqs()
    gate = threading.Event()

    def first(kwargs):
        gate.wait(5)
        return {"Successful": [{"Id": e["Id"]} for e in kwargs["Entries"]]}
    sqs.script("delete_message_batch", first)
    logger, stats = CapturingLogger(), Stats()
    settler = Settler(QueueClient("q", sqs, logger, max_backoff=0.01), logger, stats).start()
    settler.delete("a", "rh-a")
    assert wait_for(lambda: len(sqs.of("delete_message_batch")) == 1)
    for i in range(15):  # gather while the first call is on the wire
        settler.delete(f"d{i}", f"rh-d{i}")
    settler.release("r", "rh-r", 16)
    gate.set()
    assert settler.drain(5)
    deletes = sqs.of("delete_message_batch")
    assert [len(call["Entries"]) for call in deletes] == [1, 10, 5]
    returns = sqs.of("change_message_visibility_batch")
    assert returns[0]["Entries"] == [{"Id": "0", "ReceiptHandle": "rh-r", "VisibilityTimeout": 16}]
    assert stats.get("deleted") == 16 and stats.get("returned") == 1
    settler.close()
