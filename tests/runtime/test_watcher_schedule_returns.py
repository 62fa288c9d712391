"""FIFO: while a message this watcher returned is due back, receives ask for one message.

A FIFO receive brings as many messages of one group as it can, and every
receive counts against each message it brings; asking for one lets the returned
head come back alone, so the messages behind it pay nothing for its retries.
"""

from __future__ import annotations

import threading

from watchbot_cfn.runtime.hold import Hold
from watchbot_cfn.runtime.message import Message
from watchbot_cfn.runtime.schedule import Scheduler

NOT_STOPPING = threading.Event()


def hold(name: str, group: str) -> Hold:
    return Hold(Message(name, f"rh-{name}", "body", None, 1, None, None, group_id=group))


def test_receives_ask_for_one_message_until_the_returned_one_is_back_then_for_the_free_slots():
    scheduler = Scheduler(4, fifo=True)
    assert scheduler.reserve(NOT_STOPPING)[0] == 4
    head = hold("a1", "a")
    scheduler.received([head, hold("a2", "a")], 4)
    assert scheduler.take() is head
    scheduler.ended(0.1)
    behind, _ = scheduler.settled(head, kept_order=False)
    scheduler.returned("a1", 2)
    assert [h.message_id for h in behind] == ["a2"]
    asked, _ = scheduler.reserve(NOT_STOPPING)
    assert asked == 1
    scheduler.received([hold("a1", "a")], asked)  # back alone
    assert scheduler.reserve(NOT_STOPPING)[0] == 3  # the other slots fill as before


def test_a_returned_message_that_never_comes_back_stops_limiting_receives_after_its_visibility_and_slack(
        monkeypatch):
    from watchbot_cfn.runtime import schedule
    now = [1000.0]
    monkeypatch.setattr(schedule.time, "monotonic", lambda: now[0])
    scheduler = Scheduler(4, fifo=True)
    scheduler.returned("gone", 8)
    assert scheduler.room() == 1
    now[0] += 8 + schedule.FIFO_RETURN_SLACK - 0.1
    assert scheduler.room() == 1
    now[0] += 0.2  # dead-lettered, or another consumer has it
    assert scheduler.room() == 4


def test_a_standard_queue_ignores_returns():
    scheduler = Scheduler(4, prefetch_limit=4)
    scheduler.returned("x", 8)
    assert scheduler.room() == 4


def test_receives_ask_for_one_only_from_a_long_poll_before_the_returned_message_is_visible_again(monkeypatch):
    from watchbot_cfn.runtime import schedule
    now = [1000.0]
    monkeypatch.setattr(schedule.time, "monotonic", lambda: now[0])
    scheduler = Scheduler(4, fifo=True)
    scheduler.returned("later", 600)  # a long backoff: meanwhile it is in flight and its group is locked
    assert scheduler.room() == 4
    now[0] += 600 - schedule.LONG_POLL - 1  # a long poll starting now could still be out when it shows
    assert scheduler.room() == 1
