"""The scheduler: slots, prefetch, FIFO groups and the volume-emptying hold, without threads or SQS."""

from __future__ import annotations

import os
import threading
import time

import pytest

from watchbot_cfn.runtime.hold import Hold
from watchbot_cfn.runtime.message import Message
from watchbot_cfn.runtime.schedule import FIFO_BUSY_POLL, LONG_POLL, Scheduler
from watchbot_cfn.runtime.volumes import clean_volumes

NOT_STOPPING = threading.Event()


def hold(name: str, group: str | None = None) -> Hold:
    return Hold(Message(name, f"rh-{name}", "body", None, 1, None, None, group_id=group))


def receive(scheduler: Scheduler, *holds: Hold) -> int:
    """One receive: reserve, then hand over what came; the count asked for."""
    asked, _ = scheduler.reserve(NOT_STOPPING)
    assert asked >= len(holds)
    assert scheduler.received(list(holds), asked) == []
    return asked


def take_all(scheduler: Scheduler) -> list[str]:
    started = []
    while (next_hold := scheduler.take()) is not None:
        started.append(next_hold.message_id)
    return started


def in_thread(function):
    got: list = []
    thread = threading.Thread(target=lambda: got.append(function()), daemon=True)
    thread.start()
    return thread, got


# -- slots and prefetch ----------------------------------------------------------------------------

def test_before_any_job_has_finished_receives_ask_only_for_free_slots():
    scheduler = Scheduler(3, prefetch_limit=3)
    assert scheduler.reserve(NOT_STOPPING) == (3, LONG_POLL)
    thread, got = in_thread(lambda: scheduler.reserve(NOT_STOPPING))
    time.sleep(0.1)
    assert got == []  # every slot is reserved by the receive on the wire
    scheduler.received([hold("a")], 3)  # it brought one message
    thread.join(2)
    assert got == [(2, LONG_POLL)]
    assert take_all(scheduler) == ["a"] and scheduler.running == 1


def test_short_jobs_earn_a_prefetch_bounded_by_its_limit_and_long_jobs_none():
    scheduler = Scheduler(4, prefetch_limit=3)
    receive(scheduler, *[hold(f"m{i}") for i in range(4)])
    assert take_all(scheduler) == ["m0", "m1", "m2", "m3"]
    scheduler.ended(0.1)  # 4 slots x 1 s / 0.1 s = 40 expected within the horizon: the limit, 3
    assert scheduler.prefetch() == 3
    asked, _ = scheduler.reserve(NOT_STOPPING)
    assert asked == 1 + 3  # the free slot and three held ahead
    scheduler.received([hold(f"n{i}") for i in range(4)], asked)
    while scheduler.running or scheduler.held():  # then jobs of a minute each
        take_all(scheduler)
        scheduler.ended(60.0)
    assert scheduler.prefetch() == 0  # a held message would wait about 15 s: hold none


def test_held_messages_start_in_the_order_received_as_slots_free():
    scheduler = Scheduler(2, prefetch_limit=2)
    receive(scheduler, hold("a"), hold("b"))
    assert take_all(scheduler) == ["a", "b"]
    scheduler.ended(0.05)
    scheduler.received([hold("c"), hold("d")], scheduler.reserve(NOT_STOPPING)[0])
    assert take_all(scheduler) == ["c"]  # one slot free
    scheduler.ended(0.05)
    assert take_all(scheduler) == ["d"]


def test_stop_hands_back_the_held_messages_and_refuses_those_still_arriving():
    scheduler = Scheduler(1, prefetch_limit=1)
    receive(scheduler, hold("a"))
    take_all(scheduler)
    scheduler.ended(0.01)
    asked, _ = scheduler.reserve(NOT_STOPPING)
    late = hold("late")
    scheduler.received([hold("held")], 1)
    assert [h.message_id for h in scheduler.stop()] == ["held"]
    assert [h.message_id for h in scheduler.received([late], asked - 1)] == ["late"]
    assert scheduler.take() is None and scheduler.reserve(NOT_STOPPING) == (0, 0)


# -- volumes -----------------------------------------------------------------------------------------

def test_volumes_are_emptied_whenever_no_job_runs_and_nothing_starts_meanwhile():
    scheduler = Scheduler(2, prefetch_limit=2, volumes=True)
    receive(scheduler, hold("a"), hold("b"))
    take_all(scheduler)
    assert scheduler.ended(0.1) is False  # another job still runs: no emptying, no barrier
    scheduler.received([hold("c")], scheduler.reserve(NOT_STOPPING)[0])
    assert take_all(scheduler) == ["c"]
    assert scheduler.ended(0.1) is False
    assert scheduler.ended(0.1) is True  # the last one: empty them now
    scheduler.received([hold("d")], scheduler.reserve(NOT_STOPPING)[0])
    assert scheduler.take() is None  # held until the volumes are empty
    scheduler.cleaned()
    assert take_all(scheduler) == ["d"]


def test_with_one_slot_the_volumes_are_emptied_after_every_job():
    scheduler = Scheduler(1, prefetch_limit=1, volumes=True)
    for name in ("a", "b", "c"):
        scheduler.received([hold(name)], scheduler.reserve(NOT_STOPPING)[0])
        assert take_all(scheduler) == [name]
        assert scheduler.ended(0.01) is True
        scheduler.cleaned()


def test_a_volume_short_of_space_holds_new_starts_until_the_running_jobs_end():
    space = {"ok": True}
    asked_about_space = []

    def space_ok():
        asked_about_space.append(1)
        return space["ok"]
    scheduler = Scheduler(3, prefetch_limit=3, volumes=True, space_ok=space_ok)
    receive(scheduler, hold("a"))
    assert take_all(scheduler) == ["a"] and asked_about_space == []  # no job ran: nothing to ask
    space["ok"] = False
    receive(scheduler, hold("b"), hold("c"))
    assert take_all(scheduler) == []
    space["ok"] = True
    assert take_all(scheduler) == []  # still held: the leftovers go only once no job runs
    assert scheduler.ended(0.1) is True
    scheduler.cleaned()
    assert take_all(scheduler) == ["b", "c"]


# -- FIFO groups -----------------------------------------------------------------------------------

def fifo(capacity: int = 5, prefetch: int = 5) -> Scheduler:
    return Scheduler(capacity, fifo=True, prefetch_limit=prefetch)


def test_fifo_groups_run_side_by_side_and_each_group_one_at_a_time_in_order():
    scheduler = fifo()
    messages = [hold("a1", "a"), hold("a2", "a"), hold("b1", "b"), hold("a3", "a"), hold("c1", "c")]
    receive(scheduler, *messages)
    started = {h.message_id: h for h in messages}
    assert take_all(scheduler) == ["a1", "b1", "c1"]
    scheduler.ended(0.1)
    assert scheduler.settled(started["a1"], kept_order=True) == ([], False)  # a2 and a3 still wait here
    assert take_all(scheduler) == ["a2"]
    assert take_all(scheduler) == []  # a3 waits for a2, though a slot is free
    scheduler.ended(0.1)
    scheduler.settled(started["a2"], kept_order=True)
    assert take_all(scheduler) == ["a3"]


def test_a_returned_fifo_message_hands_back_the_messages_of_its_group_held_behind_it():
    scheduler = fifo()
    messages = [hold("a1", "a"), hold("a2", "a"), hold("b1", "b"), hold("a3", "a"), hold("b2", "b")]
    receive(scheduler, *messages)
    assert take_all(scheduler) == ["a1", "b1"]
    scheduler.ended(0.1)
    behind, released = scheduler.settled(messages[0], kept_order=False)
    assert [h.message_id for h in behind] == ["a2", "a3"] and released is True
    assert take_all(scheduler) == []  # b2 still waits for b1
    scheduler.ended(0.1)
    assert scheduler.settled(messages[2], kept_order=True) == ([], False)
    assert take_all(scheduler) == ["b2"]


def test_fifo_messages_queued_behind_their_group_do_not_use_up_the_room_for_other_groups():
    scheduler = fifo(capacity=4, prefetch=0)
    # SQS gives as many messages of one group as it can: all four of group a
    receive(scheduler, *[hold(f"a{i}", "a") for i in range(4)])
    assert take_all(scheduler) == ["a0"]
    asked, wait = scheduler.reserve(NOT_STOPPING)
    assert asked == 3 and wait == 0  # three slots still free for other groups; busy, so no long poll


def test_a_busy_fifo_watcher_polls_without_waiting_when_due_and_long_polls_when_idle():
    scheduler = fifo(capacity=4, prefetch=0)
    assert scheduler.reserve(NOT_STOPPING) == (4, LONG_POLL)  # idle
    scheduler.received([hold("a1", "a")], 4)
    first = scheduler.take()
    assert first is not None
    asked, wait = scheduler.reserve(NOT_STOPPING)  # the last receive brought something: again at once
    assert wait == 0
    scheduler.received([], asked)  # nothing: the next poll waits for a released group or the interval
    thread, got = in_thread(lambda: scheduler.reserve(NOT_STOPPING))
    time.sleep(0.2)
    assert got == []
    scheduler.group_released()
    thread.join(2)
    assert got and got[0][1] == 0
    scheduler.received([], got[0][0])
    began = time.monotonic()
    asked, wait = scheduler.reserve(NOT_STOPPING)
    assert wait == 0 and FIFO_BUSY_POLL - 0.2 <= time.monotonic() - began <= FIFO_BUSY_POLL + 1
    scheduler.received([], asked)
    scheduler.ended(0.1)
    scheduler.settled(first, kept_order=True)
    assert scheduler.reserve(NOT_STOPPING) == (4, LONG_POLL)  # idle again


@pytest.mark.parametrize("capacity", [1, 3])
def test_the_hold_limit_bounds_what_a_fifo_watcher_keeps(capacity):
    scheduler = fifo(capacity=capacity, prefetch=capacity)
    scheduler.typical_job = 0.01
    total = 0
    while (asked := scheduler.room()) > 0:
        scheduler.reserve(NOT_STOPPING)
        scheduler.received([hold(f"a{total + i}", "a") for i in range(asked)], asked)
        total += asked
        take_all(scheduler)
    assert scheduler.running == 1 and 1 <= scheduler.held() <= scheduler.hold_limit


def test_clean_volumes_keeps_mount_points_and_the_watchers_files(tmp_path):
    volume = tmp_path / "tmp"
    (volume / "dir" / "deep").mkdir(parents=True)
    (volume / "dir" / "deep" / "f").write_text("x")
    (volume / "file").write_text("x")
    (volume / ".hidden").write_text("x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("x")
    os.symlink(outside, volume / "link")
    keep = volume / "watchbot-messages-1"
    keep.mkdir()
    (keep / "message").write_text("x")
    removed = clean_volumes([str(volume), str(tmp_path / "missing")], keep=[str(keep)])
    assert removed == 6  # every entry, at any depth: dir, dir/deep, dir/deep/f, file, .hidden, link
    assert sorted(os.listdir(volume)) == ["watchbot-messages-1"]
    assert (outside / "precious").exists()  # a symlink is removed, never followed
    assert (keep / "message").exists()
