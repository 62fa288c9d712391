"""Slots and volume cleaning: never more jobs (or messages) than slots, volumes cleaned only when no job runs."""

from __future__ import annotations

import os
import threading
import time

from watchbot_cfn.runtime.volumes import clean_volumes
from watchbot_cfn.runtime.watcher import Slots


def in_thread(function):
    got: list = []
    thread = threading.Thread(target=lambda: got.append(function()))
    thread.start()
    return thread, got


def test_reservations_and_jobs_never_exceed_the_capacity():
    slots, stopping = Slots(3), threading.Event()
    assert slots.reserve(stopping, 10) == 3
    thread, got = in_thread(lambda: slots.reserve(stopping, 10))
    time.sleep(0.1)
    assert got == []  # all three reserved by the receive on the wire
    slots.start()
    slots.unreserve(2)  # the receive brought one message
    thread.join(2)
    assert got == [2] and slots.running == 1 and slots.reserved == 2
    assert slots.finish() is False  # no volumes: nothing to clean
    assert slots.reserve(stopping, 10) == 1


def test_waiting_for_a_slot_ends_when_one_frees_or_on_stop():
    slots, stopping = Slots(1), threading.Event()
    slots.reserve(stopping, 1)
    slots.start()
    thread, got = in_thread(lambda: slots.reserve(stopping, 5))
    time.sleep(0.1)
    assert got == []
    slots.finish()
    thread.join(2)
    assert got == [1]
    slots.start()
    thread, got = in_thread(lambda: slots.reserve(stopping, 5))
    stopping.set()
    slots.wake()
    thread.join(2)
    assert got == [0]


def test_one_slot_cleans_after_every_job():
    slots, stopping = Slots(1, volumes=True), threading.Event()
    slots.reserve(stopping, 1)
    slots.start()
    assert slots.finish() is True
    thread, got = in_thread(lambda: slots.reserve(stopping, 1))
    time.sleep(0.1)
    assert got == []  # held until the volumes are clean
    slots.cleaned()
    thread.join(2)
    assert got == [1]


def test_a_job_never_starts_while_volumes_are_cleaned():
    slots, stopping = Slots(2, volumes=True), threading.Event()
    assert slots.reserve(stopping, 1) == 1
    slots.start()
    assert slots.reserve(stopping, 1) == 1  # a receive goes on the wire
    assert slots.finish() is True  # the only job ended: clean now
    thread, got = in_thread(slots.start)  # the receive brings a message meanwhile
    time.sleep(0.1)
    assert got == [] and slots.running == 0
    slots.cleaned()
    thread.join(2)
    assert slots.running == 1


def test_many_slots_clean_when_idle_and_hold_receives_after_capacity_finished():
    slots, stopping = Slots(2, volumes=True), threading.Event()
    assert slots.reserve(stopping, 5) == 2
    slots.start()
    slots.start()
    assert slots.finish() is False  # another job still uses the volumes
    assert slots.reserve(stopping, 5) == 1
    slots.start()
    assert slots.finish() is False  # second finished job since cleaning: receives are now held
    thread, got = in_thread(lambda: slots.reserve(stopping, 5))
    time.sleep(0.1)
    assert got == []
    assert slots.finish() is True  # the last one cleans
    slots.cleaned()
    thread.join(2)
    assert got == [2]


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
