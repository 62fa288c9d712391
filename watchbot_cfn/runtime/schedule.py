"""Which received message runs next, how many more to receive, and when volumes are emptied.

One lock guards the whole picture: jobs running, messages held (received,
not started), receives in flight, FIFO groups busy, and whether the volumes
are being emptied. Nothing here blocks on I/O or starts threads; the watcher
asks ``take`` for the next message to start and ``reserve`` how many to ask
SQS for.

- **No barrier between jobs.** A freed slot takes the next held message at
  once. The shared volumes are emptied only when no job runs (with one slot
  that is after every job, as the original did); a start waits only while
  that happens, or when a volume is running short of space (``space_ok``):
  then new starts wait until the running jobs end and the volumes are emptied.
- **A small, bounded prefetch.** Beyond the free slots the watcher may hold up
  to ``prefetch_limit`` messages, so a slot that frees never waits for a
  receive. How many it holds follows the jobs: as many as are expected to
  start within ``PREFETCH_HORIZON`` seconds (slots x horizon / typical job
  time), none until a job has finished; so long jobs never sit on messages
  another task could run.
- **FIFO groups in parallel, order kept within each.** A message starts only
  when no earlier message of its group runs or waits here; messages queued
  behind another of their group take no slot and hold no prefetch place
  beyond the allowance. When a message is returned instead of deleted, the
  messages of its group held behind it are handed back (``settled``) to be
  returned at once, so none overtakes it.
- **Messages behind a failing FIFO head do not pay for its receives.** Every
  receive raises the receive count of each message it returns, SQS
  dead-letters by that count, a FIFO receive returns as many messages of one
  group as it can, and none of a group while one of its messages is in flight.
  So around the time a message this watcher returned (failed, exit 4,
  stopped) becomes visible again, receives ask for one message, one receive
  at a time (``returned``): it comes back alone, and the messages behind it
  stay in the queue, uncounted, until it is deleted or dead-lettered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from watchbot_cfn.runtime.hold import Hold

__all__ = ["PREFETCH_HORIZON", "Scheduler", "FIFO_BUSY_POLL", "FIFO_RETURN_SLACK", "LONG_POLL"]

#: Held messages are kept to about what the slots get through in this many seconds.
PREFETCH_HORIZON = 1.0
#: Weight of the newest job in the typical job time (an exponential average).
_DURATION_WEIGHT = 0.3
#: Long-poll wait when idle (and always on a standard queue).
LONG_POLL = 20
#: A FIFO watcher with work in hand receives without waiting (moto and SQS need
#: not wake a waiting receive when a group unlocks): at once when a group it
#: held is released or the last receive brought messages, else this often.
FIFO_BUSY_POLL = 1.0
#: Seconds after a returned FIFO message becomes visible again that receives
#: still ask for one message (it comes back alone, or another consumer has it).
FIFO_RETURN_SLACK = 10.0
#: ... and seconds before: a long poll that starts then may still be waiting
#: when it becomes visible. Until then it is in flight, and SQS hands out
#: nothing of its group, so receives ask for as many as they have room for.
_FIFO_RETURN_LEAD = LONG_POLL + 2.0


class Scheduler:
    """Slots, held messages, receives in flight, FIFO groups and the volume-emptying hold."""

    def __init__(self, capacity: int, *, fifo: bool = False, prefetch_limit: int = 0, volumes: bool = False,
                 space_ok: Callable[[], bool] | None = None, batch_limit: int = 10) -> None:
        self.capacity = capacity
        self.fifo = fifo
        self.prefetch_limit = prefetch_limit
        self.volumes = volumes
        self.space_ok = space_ok or (lambda: True)
        self.batch_limit = batch_limit
        #: Held messages in all, at most (FIFO: those queued behind a running one included).
        self.hold_limit = capacity + prefetch_limit + (batch_limit if fifo else 0)
        self.running = 0
        self.reserved = 0
        self.typical_job: float | None = None  # seconds, once a job has finished
        self._held: list[Hold] = []
        self._active_groups: set[str] = set()  # FIFO groups with a started message not yet settled
        self._cleaning = False
        self._short_of_space = False
        self._stopped = False
        self._poll_due = True
        self._next_poll = 0.0
        self._due_back: dict[str, tuple[float, float]] = {}  # FIFO: returned message id -> (from, until)
        self._cond = threading.Condition()

    # -- receiving ----------------------------------------------------------------

    def prefetch(self) -> int:
        """Messages to hold beyond the free slots now (see the module's docstring)."""
        if self.prefetch_limit <= 0 or self.typical_job is None:
            return 0
        expected = self.capacity * PREFETCH_HORIZON / max(self.typical_job, 1e-3)
        return min(self.prefetch_limit, int(expected))

    def _room(self) -> int:
        """How many more messages a receive may ask for now.

        Held messages are topped up once half the prefetch has gone, not one
        by one (fewer receives), unless a slot is free with nothing to start.
        """
        waiting, behind = self._waiting_and_behind()
        free = self.capacity - self.running - waiting
        prefetch = self.prefetch()
        room = free + max(0, prefetch - behind) - self.reserved
        room = min(room, self.hold_limit - len(self._held) - self.reserved, self.batch_limit)
        starved = free > self.reserved
        if self._one_at_a_time():
            room = min(room, 1) if self.reserved == 0 else 0  # and one receive at a time
        if room < max(1, (prefetch + 1) // 2) and not starved:
            return 0
        return max(room, 0)

    def _one_at_a_time(self) -> bool:
        """FIFO: a returned message is due back, so a receive must not bring others of its group with it."""
        if not self._due_back:
            return False
        now = time.monotonic()
        for message_id in [key for key, (_, until) in self._due_back.items() if until <= now]:
            del self._due_back[message_id]  # another consumer has it, or SQS dead-lettered it
        return any(begin <= now for begin, _ in self._due_back.values())

    def returned(self, message_id: str, visibility: float) -> None:
        """A started FIFO message goes back to the queue, visible again after ``visibility`` seconds."""
        if not self.fifo:
            return
        with self._cond:
            visible_at = time.monotonic() + visibility
            self._due_back[message_id] = (visible_at - _FIFO_RETURN_LEAD, visible_at + FIFO_RETURN_SLACK)
            self._cond.notify_all()

    def room(self) -> int:
        """How many more messages a receive may ask for now (without reserving them)."""
        with self._cond:
            return self._room()

    def _waiting_and_behind(self) -> tuple[int, int]:
        """Held messages that each need a slot, and those queued behind another of their FIFO group."""
        if not self.fifo:
            return len(self._held), 0
        heads: set[str] = set()
        behind = 0
        for hold in self._held:
            group = self._group(hold)
            if group in self._active_groups or group in heads:
                behind += 1
            else:
                heads.add(group)
        return len(heads), behind

    def idle(self) -> bool:
        """No job runs and no message is held."""
        with self._cond:
            return self.running == 0 and not self._held

    def reserve(self, stopping: threading.Event) -> tuple[int, int]:
        """Block until a receive may go out: (messages to ask for, seconds to wait); (0, 0) once stopping."""
        with self._cond:
            while True:
                if stopping.is_set() or self._stopped:
                    return 0, 0
                room = self._room()
                timeout: float | None = None
                if room > 0:
                    idle = self.running == 0 and not self._held and self.reserved == 0
                    if not self.fifo or idle:
                        self.reserved += room
                        return room, LONG_POLL
                    now = time.monotonic()
                    if self._poll_due or now >= self._next_poll:
                        self._poll_due = False
                        self.reserved += room
                        return room, 0
                    timeout = self._next_poll - now
                self._cond.wait(timeout)

    def received(self, holds: list[Hold], asked: int) -> list[Hold]:
        """A receive that asked for ``asked`` messages is back with ``holds`` (new ones only).

        Returns those refused because the watcher is stopping: return them at once.
        """
        with self._cond:
            self.reserved -= asked
            if self._stopped:
                self._cond.notify_all()
                return list(holds)
            self._held.extend(holds)
            for hold in holds:
                self._due_back.pop(hold.message_id, None)
            if self.fifo:
                if holds:
                    self._poll_due = True  # there may be more where these came from
                else:
                    self._next_poll = time.monotonic() + FIFO_BUSY_POLL
            self._cond.notify_all()
            return []

    def group_released(self) -> None:
        """SQS has the settle of a FIFO group's last message here: the group may have more to give."""
        with self._cond:
            self._poll_due = True
            self._cond.notify_all()

    # -- starting and ending jobs ---------------------------------------------------

    def take(self) -> Hold | None:
        """The next held message to start now, with its slot taken; None when none may start."""
        with self._cond:
            if self._stopped or self._cleaning or self.running >= self.capacity or not self._held:
                return None
            if self.volumes and self.running > 0:
                if self._short_of_space or not self.space_ok():
                    self._short_of_space = True  # until the running jobs end and the volumes are emptied
                    return None
            index = self._next_index()
            if index is None:
                return None
            hold = self._held.pop(index)
            self.running += 1
            if self.fifo:  # on a standard queue a start leaves the room for receives as it was
                self._active_groups.add(self._group(hold))
                self._cond.notify_all()
            return hold

    def _next_index(self) -> int | None:
        if not self.fifo:
            return 0
        blocked: set[str] = set()
        for index, hold in enumerate(self._held):
            group = self._group(hold)
            if group in self._active_groups or group in blocked:
                blocked.add(group)
                continue
            return index
        return None

    @staticmethod
    def _group(hold: Hold) -> str:
        group = hold.message.group_id
        return group if group is not None else f"\0{hold.message_id}"  # no group: a group of its own

    def ended(self, seconds: float | None) -> bool:
        """A started job is over (``seconds`` it ran, None if it never ran); True: empty the volumes now.

        The caller empties them, then calls ``cleaned``; no job starts meanwhile.
        """
        with self._cond:
            self.running -= 1
            if seconds is not None:
                if self.typical_job is None:
                    self.typical_job = seconds
                else:
                    self.typical_job += _DURATION_WEIGHT * (seconds - self.typical_job)
            self._cond.notify_all()
            if self.volumes and self.running == 0 and seconds is not None:
                self._cleaning = True
                return True
            return False

    def cleaned(self) -> None:
        with self._cond:
            self._cleaning = False
            self._short_of_space = False
            self._cond.notify_all()

    def settled(self, hold: Hold, kept_order: bool) -> tuple[list[Hold], bool]:
        """A started message was deleted (``kept_order``) or returned.

        Returns the held messages of its FIFO group to return at once (it was
        returned, so they must not overtake it), and whether nothing of its
        group is left here (SQS unlocks the group once this settle lands).
        """
        if not self.fifo:
            return [], False
        with self._cond:
            group = self._group(hold)
            self._active_groups.discard(group)
            behind: list[Hold] = []
            if not kept_order:
                behind = [held for held in self._held if self._group(held) == group]
                self._held = [held for held in self._held if self._group(held) != group]
            released = not any(self._group(held) == group for held in self._held)
            self._cond.notify_all()
            return behind, released

    def stop(self) -> list[Hold]:
        """No more starts or receives; the held messages, to be returned."""
        with self._cond:
            self._stopped = True
            held, self._held = self._held, []
            self._cond.notify_all()
            return held

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def held(self) -> int:
        with self._cond:
            return len(self._held)
