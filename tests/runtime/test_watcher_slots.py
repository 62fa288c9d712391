"""Slots and volume cleaning: never more jobs than slots, volumes cleaned only when no job runs."""

from __future__ import annotations

import os
import threading
import time

from watchbot_cfn.runtime.volumes import clean_volumes
from watchbot_cfn.runtime.watcher import Slots


def test_free_slots_are_counted():
    slots, stopping = Slots(3), threading.Event()
    assert slots.wait_free(stopping) == 3
    slots.take()
    slots.take()
    assert slots.wait_free(stopping) == 1
    assert slots.finish() is False  # no volumes: nothing to clean
    assert slots.wait_free(stopping) == 2


def test_waiting_for_a_slot_ends_when_one_frees_or_on_stop():
    slots, stopping = Slots(1), threading.Event()
    slots.take()
    got = []
    waiter = threading.Thread(target=lambda: got.append(slots.wait_free(stopping)))
    waiter.start()
    time.sleep(0.1)
    assert got == []
    slots.finish()
    waiter.join(2)
    assert got == [1]
    slots.take()
    waiter = threading.Thread(target=lambda: got.append(slots.wait_free(stopping)))
    waiter.start()
    stopping.set()
    slots.wake()
    waiter.join(2)
    assert got == [1, 0]


def test_one_slot_cleans_after_every_job():
    slots, stopping = Slots(1, volumes=True), threading.Event()
    slots.take()
    assert slots.finish() is True
    got = []
    waiter = threading.Thread(target=lambda: got.append(slots.wait_free(stopping)))
    waiter.start()
    time.sleep(0.1)
    assert got == []  # held until the volumes are clean
    slots.cleaned()
    waiter.join(2)
    assert got == [1]


def test_many_slots_clean_when_idle_and_hold_new_jobs_after_capacity_finished():
    slots, stopping = Slots(2, volumes=True), threading.Event()
    slots.take()
    slots.take()
    assert slots.finish() is False  # another job still uses the volumes
    assert slots.wait_free(stopping) == 1
    slots.take()
    assert slots.finish() is False  # second finished job since cleaning: new jobs are now held
    got = []
    waiter = threading.Thread(target=lambda: got.append(slots.wait_free(stopping)))
    waiter.start()
    time.sleep(0.1)
    assert got == []
    assert slots.finish() is True  # the last one cleans
    slots.cleaned()
    waiter.join(2)
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
    assert removed == 4
    assert sorted(os.listdir(volume)) == ["watchbot-messages-1"]
    assert (outside / "precious").exists()  # a symlink is removed, never followed
    assert (keep / "message").exists()
