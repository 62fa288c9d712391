"""Heartbeat and settling: extensions on schedule, never after the final decision."""

from __future__ import annotations

import threading
import time

from tests.runtime.helpers import CapturingLogger, FakeSqs
from tests.runtime.helpers import ManualClock as Clock
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
    clock = Clock()
    logger, stats = CapturingLogger(), Stats()
    beat = Heartbeat(QueueClient("q", sqs, logger, max_backoff=0.01), logger, stats, 30, 20.0, clock=clock).start()
    first = Hold(Message("a", "rh-a", "body", None, 1, None, None, received_at=clock.now))
    assert wait_for(lambda: clock.reads >= 1)  # the scheduler is waiting for work
    reads = clock.reads
    beat.track(first)
    assert wait_for(lambda: clock.reads > reads)  # it looked at the clock, and went back to sleep
    clock.now += 19.9
    reads = clock.reads
    beat.track(Hold(Message("b", "rh-b", "body", None, 1, None, None, received_at=clock.now)))
    assert wait_for(lambda: clock.reads > reads)
    assert sqs.of("change_message_visibility_batch") == []
    clock.now += 0.2  # 20.1 s after the first receive: the first is due, the second is not
    beat.track(Hold(Message("c", "rh-c", "body", None, 1, None, None, received_at=clock.now)))
    assert wait_for(lambda: stats.get("extensions") == 1)
    [call] = sqs.of("change_message_visibility_batch")
    assert [entry["ReceiptHandle"] for entry in call["Entries"]] == ["rh-a"]
    beat.close()


def test_due_batches_go_out_side_by_side():
    sqs = FakeSqs()
    gate, lock = threading.Event(), threading.Lock()
    on_wire: list[int] = []

    def slow(kwargs):
        with lock:
            on_wire.append(len(kwargs["Entries"]))
        gate.wait(5)
        return {"Successful": [{"Id": e["Id"]} for e in kwargs["Entries"]]}
    sqs.script("change_message_visibility_batch", *[slow] * 50)
    beat, logger, stats = heartbeat(sqs, interval=0.05)
    for i in range(50):
        beat.track(Hold(message(f"m{i}")))
    # All fifty on the wire together: no call waits for another to be answered.
    assert wait_for(lambda: sum(on_wire) == 50)
    assert stats.get("extensions") == 0 and len(on_wire) <= 10
    gate.set()
    assert wait_for(lambda: stats.get("extensions") >= 50)
    assert stats.get("visibility_lapsed") == 0
    beat.close()


def test_untrack_never_waits_and_a_return_follows_the_extension_on_the_wire():
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
    returned = threading.Event()
    beat.untrack(hold, then=returned.set)  # returns at once
    assert beat.tracking() == 0 and not returned.is_set()  # the return waits for the extension in flight
    release.set()
    assert returned.wait(5)
    untracked_now = threading.Event()
    beat.untrack(Hold(message("other")), then=untracked_now.set)  # nothing in flight: at once
    assert untracked_now.is_set()
    beat.close()


def test_a_message_whose_visibility_ran_out_before_its_extension_went_out_is_said_and_counted():
    sqs = FakeSqs()
    clock = Clock()
    logger, stats = CapturingLogger(), Stats()
    beat = Heartbeat(QueueClient("q", sqs, logger, max_backoff=0.01), logger, stats, 30, 20.0, clock=clock).start()
    beat.track(Hold(Message("m", "rh", "body", None, 1, None, None, received_at=clock.now - 31)))
    assert wait_for(lambda: stats.get("extensions") == 1)
    assert stats.get("visibility_lapsed") == 1
    [line] = [line for line in logger.lines if "visibility lapsed" in line]
    assert "[m]" in line and "before its extension went out" in line
    beat.close()


def test_an_extension_answered_after_the_visibility_ran_out_is_said_and_counted():
    sqs = FakeSqs()
    clock = Clock()

    def slow(kwargs):
        clock.now += 15  # the call took 15 s; 10 were left
        return {"Successful": [{"Id": e["Id"]} for e in kwargs["Entries"]]}
    sqs.script("change_message_visibility_batch", slow)
    logger, stats = CapturingLogger(), Stats()
    beat = Heartbeat(QueueClient("q", sqs, logger, max_backoff=0.01), logger, stats, 30, 20.0, clock=clock).start()
    beat.track(Hold(Message("m", "rh", "body", None, 1, None, None, received_at=clock.now - 20)))
    assert wait_for(lambda: stats.get("extensions") >= 1)
    assert stats.get("visibility_lapsed") == 1
    assert any("before its extension was answered" in line for line in logger.lines)
    beat.close()


def test_slow_calls_bring_the_next_extension_forward():
    sqs = FakeSqs()
    clock = Clock()
    calls: list[float] = []

    def slow(kwargs):
        calls.append(clock.now)
        clock.now += 6  # each call takes 6 s: 2 x 6 + 1 = 13 s must be left, not 10
        return {"Successful": [{"Id": e["Id"]} for e in kwargs["Entries"]]}
    sqs.script("change_message_visibility_batch", slow, slow)
    logger, stats = CapturingLogger(), Stats()
    beat = Heartbeat(QueueClient("q", sqs, logger, max_backoff=0.01), logger, stats, 30, 20.0, clock=clock).start()
    received = clock.now - 20
    beat.track(Hold(Message("m", "rh", "body", None, 1, None, None, received_at=received)))
    assert wait_for(lambda: stats.get("extensions") == 1)
    sent = calls[0]
    clock.now = sent + 16.9  # not due yet: due 17 s after the last extension went out
    beat.track(Hold(Message("x", "rh-x", "body", None, 1, None, None, received_at=clock.now)))
    reads = clock.reads
    assert wait_for(lambda: clock.reads > reads)
    assert len(calls) == 1
    clock.now = sent + 17.1
    beat.track(Hold(Message("y", "rh-y", "body", None, 1, None, None, received_at=clock.now)))
    assert wait_for(lambda: stats.get("extensions") == 2)
    assert stats.get("visibility_lapsed") == 0
    beat.close()


def test_lost_ownership_is_counted_and_logged():
    sqs = FakeSqs()
    sqs.script("change_message_visibility_batch", lambda kwargs: {"Failed": [
        {"Id": "0", "SenderFault": True, "Code": "ReceiptHandleIsInvalid", "Message": "gone"}]})
    beat, logger, stats = heartbeat(sqs, interval=0.05)
    beat.track(Hold(message()))
    assert wait_for(lambda: stats.get("ownership_lost") == 1)
    assert any("ownership lost" in line and "[m]" in line for line in logger.lines)
    assert beat.tracking() == 0  # no longer tracked, so never extended again
    assert len(sqs.of("change_message_visibility_batch")) == 1
    beat.close()


def test_a_refused_extension_of_a_message_being_deleted_is_not_ownership_lost():
    sqs = FakeSqs()
    sqs.script("change_message_visibility_batch", lambda kwargs: {"Failed": [
        {"Id": "0", "SenderFault": True, "Code": "ReceiptHandleIsInvalid", "Message": "deleted"}]})
    beat, logger, stats = heartbeat(sqs, interval=0.05)
    hold = Hold(message())
    beat.track(hold)
    beat.deleting(hold)  # its delete landed first
    assert wait_for(lambda: beat.tracking() == 0)
    assert stats.get("ownership_lost") == 0 and not any("ownership lost" in line for line in logger.lines)
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


def test_settler_batches_and_a_slow_call_holds_up_only_its_own_batch():
    sqs = FakeSqs()
    gate = threading.Event()

    def first(kwargs):
        gate.wait(5)
        return {"Successful": [{"Id": e["Id"]} for e in kwargs["Entries"]]}
    sqs.script("delete_message_batch", first)
    logger, stats = CapturingLogger(), Stats()
    settler = Settler(QueueClient("q", sqs, logger, max_backoff=0.01), logger, stats).start()
    settler.delete("a", "rh-a", hold=None)
    assert wait_for(lambda: len(sqs.of("delete_message_batch")) == 1)
    for i in range(15):
        settler.delete(f"d{i}", f"rh-d{i}", hold=None)
    settler.release("r", "rh-r", 16, hold=None)
    # All of them land while the first call is still on the wire.
    assert wait_for(lambda: stats.get("deleted") == 15 and stats.get("returned") == 1)
    assert not gate.is_set()
    gate.set()
    assert settler.drain(5)
    deletes = sqs.of("delete_message_batch")
    assert sorted(len(call["Entries"]) for call in deletes) == [1, 5, 10]
    returns = sqs.of("change_message_visibility_batch")
    assert returns[0]["Entries"] == [{"Id": "0", "ReceiptHandle": "rh-r", "VisibilityTimeout": 16}]
    assert stats.get("deleted") == 16 and stats.get("returned") == 1
    settler.close()


def test_a_message_awaiting_its_delete_is_extended_until_the_delete_lands():
    sqs = FakeSqs()
    gate = threading.Event()

    def slow(kwargs):
        gate.wait(5)
        return {"Successful": [{"Id": e["Id"]} for e in kwargs["Entries"]]}
    sqs.script("delete_message_batch", slow)
    beat, logger, stats = heartbeat(sqs, interval=0.05)
    settler = Settler(beat.queue, logger, stats, heartbeat=beat).start()
    hold = Hold(message())
    beat.track(hold)
    settler.delete("m", "rh-m", hold=hold)
    assert wait_for(lambda: len(sqs.of("delete_message_batch")) == 1)
    extended = stats.get("extensions")
    assert wait_for(lambda: stats.get("extensions") >= extended + 2)  # still extended while the delete waits
    assert beat.tracking() == 1
    gate.set()
    assert settler.drain(5) and stats.get("deleted") == 1
    assert beat.tracking() == 0  # and never after
    settler.close()
    beat.close()


def test_a_return_goes_out_only_after_the_extension_on_the_wire_is_answered():
    sqs = FakeSqs()
    on_wire, release = threading.Event(), threading.Event()
    order: list[str] = []

    def slow(kwargs):
        on_wire.set()
        release.wait(5)
        order.append("extension answered")
        return {"Successful": [{"Id": e["Id"]} for e in kwargs["Entries"]]}

    def returned(kwargs):
        order.append(f"return to {kwargs['Entries'][0]['VisibilityTimeout']}")
        return {"Successful": [{"Id": e["Id"]} for e in kwargs["Entries"]]}
    sqs.script("change_message_visibility_batch", slow, returned)
    beat, logger, stats = heartbeat(sqs, interval=0.05)
    settler = Settler(beat.queue, logger, stats, heartbeat=beat).start()
    hold = Hold(message())
    beat.track(hold)
    assert on_wire.wait(5)
    settler.release("m", "rh-m", 4, hold=hold)  # never waits
    assert not settler.drain(0.2)  # the return waits for the extension, not the settler
    release.set()
    assert settler.drain(5)
    assert order == ["extension answered", "return to 4"] and stats.get("returned") == 1
    settler.close()
    beat.close()


def test_a_batch_whose_call_raises_is_kept_sent_again_and_counted(monkeypatch):
    from watchbot_cfn.runtime import settle

    monkeypatch.setattr(settle, "_ERROR_PAUSE", 0.01)
    sqs = FakeSqs()
    logger, stats = CapturingLogger(), Stats()
    queue = QueueClient("q", sqs, logger, max_backoff=0.01)
    real_delete = queue.delete
    raised: list[int] = []

    def delete(entries, give_up_after):
        if not raised:
            raised.append(1)
            raise KeyError("AccessKeyId")
        return real_delete(entries, give_up_after=give_up_after)
    monkeypatch.setattr(queue, "delete", delete)
    settler = Settler(queue, logger, stats).start()
    settler.delete("m", "rh-m", hold=None)
    assert settler.drain(5)
    assert stats.get("deleted") == 1 and stats.get("delete_errors") == 1 and stats.get("delete_failed") == 0
    assert any("delete batch error: KeyError" in line and "sending it again" in line for line in logger.lines)
    settler.close()
