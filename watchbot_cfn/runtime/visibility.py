"""Keeping held messages hidden: one scheduler thread, extension calls on a small pool.

Each message is extended to the visibility timeout after 2/3 of it has passed
(the original: every 120 s, to 180 s), or earlier when calls are slow: the
next extension is due while twice the slowest recent call and a second are
still left (but never sooner than a quarter of the interval after the last).
Due messages go out ten to a call, and the calls go out side by
side (up to ``EXTENDERS`` at once), so fifty messages cost the time of one
call, not of five in a row. No lock is held across a call: a slow extension
holds up only its own batch, and settling never waits for it.

Two orders still matter, and both are kept per message without waiting:
- a message awaiting its delete is still extended (``untrack`` is called once
  the delete has landed), so a slow delete never lets it reappear;
- a return (a visibility change to the backoff, or to 0) must not be
  overtaken by an extension of the same message: ``untrack(hold, then=...)``
  runs ``then`` at once, or, when an extension of it is on the wire, right
  after that extension is answered.

A message whose visibility ran out before its extension went out (or was
answered) may have been received by another consumer: that is logged and
counted as ``visibility_lapsed``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from watchbot_cfn import contract
from watchbot_cfn.runtime.hold import Hold
from watchbot_cfn.runtime.logger import Logger
from watchbot_cfn.runtime.message import Message
from watchbot_cfn.runtime.queue import BatchEntry, EntryOutcome, QueueClient, chunks
from watchbot_cfn.runtime.stats import Stats

__all__ = ["EXTENDERS", "Heartbeat", "remaining_visibility"]

#: Seconds kept in hand below SQS's 12-hour limit on one receive.
_LIMIT_MARGIN = 5
#: After a failed extension, try again this soon (there is 1/3 of the timeout left).
_RETRY_AFTER = 2.0
#: Extension calls on the wire at once, at most (each takes up to ten messages).
EXTENDERS = 8
#: How many recent call durations the schedule looks at.
_RECENT_CALLS = 16


def remaining_visibility(message: Message, wanted: int) -> int:
    """``wanted`` seconds, or less if the receive's 12-hour visibility budget is nearly spent."""
    budget = contract.MAX_VISIBILITY - _LIMIT_MARGIN - int(message.held_for() + 0.999)
    return max(0, min(wanted, budget))


@dataclass
class _Tracked:
    hold: Hold
    due: float
    visible_until: float  # the latest moment SQS is known to keep it hidden until
    in_flight: bool = False
    deleting: bool = False  # its delete is handed over: a refusal of an extension is the delete's doing
    lapsed: bool = False  # said already, for the current lapse
    then: list[Callable[[], None]] = field(default_factory=list)  # run once the extension in flight is answered


class Heartbeat:
    """Extends the visibility of every tracked message on schedule, several calls at once."""

    def __init__(self, queue: QueueClient, logger: Logger, stats: Stats, visibility_timeout: int,
                 interval: float, extenders: int = EXTENDERS, clock: Callable[[], float] = time.monotonic) -> None:
        self.queue = queue
        self.logger = logger
        self.stats = stats
        self.visibility_timeout = visibility_timeout
        self.interval = interval
        self.clock = clock
        self._cond = threading.Condition()
        self._tracked: dict[int, _Tracked] = {}  # by hold token: two receives of one message never collide
        self._recent: deque[float] = deque(maxlen=_RECENT_CALLS)
        self._closed = False
        # Calls waiting for an extender thread; the threads are daemons started as needed, so a call
        # on the wire never holds up the watcher's exit.
        self._extenders = max(1, extenders)
        self._work_cond = threading.Condition()
        self._work: deque[list[tuple[BatchEntry, _Tracked]]] = deque()
        self._workers = 0
        self._idle = 0
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def track(self, hold: Hold) -> None:
        message = hold.message
        with self._cond:
            self._tracked[hold.token] = _Tracked(hold, self._due(message.received_at),
                                                 message.received_at + self.visibility_timeout)
            self._cond.notify()

    def renew(self, hold: Hold) -> None:
        """The hold adopted a newer receive: schedule from that receive."""
        message = hold.message
        with self._cond:
            tracked = self._tracked.get(hold.token)
            if tracked is not None:
                tracked.visible_until = max(tracked.visible_until, message.received_at + self.visibility_timeout)
                tracked.lapsed = False
                tracked.due = min(tracked.due, self._due(message.received_at))
                self._cond.notify()

    def tracking(self) -> int:
        with self._cond:
            return len(self._tracked)

    def deleting(self, hold: Hold) -> None:
        """Its delete is on the way: keep extending it until ``untrack``, but a lost handle is no news."""
        with self._cond:
            tracked = self._tracked.get(hold.token)
            if tracked is not None:
                tracked.deleting = True

    def untrack(self, hold: Hold, then: Callable[[], None] | None = None) -> None:
        """Stop extending, without waiting; ``then`` runs once no extension of it is on the wire."""
        with self._cond:
            tracked = self._tracked.pop(hold.token, None)
            if tracked is not None and tracked.in_flight and then is not None:
                tracked.then.append(then)
                return
        if then is not None:
            then()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        with self._work_cond:
            self._work_cond.notify_all()

    def _due(self, extended_at: float) -> float:
        """When the next extension goes out: after ``interval``, or earlier while calls are slow."""
        lead = 2 * max(self._recent, default=0.0) + 1.0
        return extended_at + max(min(self.interval, self.visibility_timeout - lead), self.interval / 4)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    now = self.clock()
                    soonest = min((t.due for t in self._tracked.values() if not t.in_flight), default=None)
                    if soonest is not None and soonest <= now:
                        break
                    self._cond.wait(None if soonest is None else soonest - now)
                if self._closed:
                    return
                due = [t for t in self._tracked.values() if not t.in_flight and t.due <= now]
                for tracked in due:
                    tracked.in_flight = True
            try:
                self._send(due)
            except Exception as error:  # pragma: no cover - a bug must not stop the heartbeat
                self.logger.notice(f"heartbeat error: {error!r}", level="error")
                self._answered(due, {}, self.clock(), self.clock())

    def _send(self, due: list[_Tracked]) -> None:
        """Put the due messages on the wire, ten to a call, the calls side by side."""
        entries: list[tuple[BatchEntry, _Tracked]] = []
        for tracked in due:
            message = tracked.hold.message
            seconds = remaining_visibility(message, self.visibility_timeout)
            if seconds <= 0:
                self.logger.notice("the 12-hour visibility limit is reached; the message will be "
                                   "visible to other consumers", message.message_id, level="warning")
                self._answered([tracked], {}, self.clock(), self.clock(), drop=True)
                continue
            entries.append((BatchEntry(str(tracked.hold.token), message.receipt_handle, seconds), tracked))
        for batch in chunks(entries):
            with self._work_cond:
                self._work.append(batch)
                grow = len(self._work) > self._idle and self._workers < self._extenders
                if grow:
                    self._workers += 1
                self._work_cond.notify()
            if grow:
                try:
                    threading.Thread(target=self._extender, name="extend", daemon=True).start()
                except RuntimeError:  # no thread for it (a process limit): send what waits from here
                    with self._work_cond:
                        self._workers -= 1
                        waiting = list(self._work)
                        self._work.clear()
                    for queued in waiting:
                        self._extend(queued)

    def _extender(self) -> None:
        """One of the threads that send extension calls, one batch at a time."""
        while True:
            with self._work_cond:
                while not self._work:
                    if self._closed:
                        self._workers -= 1
                        return
                    self._idle += 1
                    self._work_cond.wait()
                    self._idle -= 1
                batch = self._work.popleft()
            self._extend(batch)

    def _extend(self, batch: list[tuple[BatchEntry, _Tracked]]) -> None:
        began = self.clock()
        outcomes: dict[str, EntryOutcome] = {}
        try:
            self._say_lapses([tracked for _, tracked in batch], began, "before its extension went out")
            # Retry well inside the time still left, then leave it to the schedule.
            outcome_list = self.queue.change_visibility([entry for entry, _ in batch],
                                                        give_up_after=min(self.interval / 4, 10.0))
            outcomes = {outcome.key: outcome for outcome in outcome_list}
        except Exception as error:  # pragma: no cover - a bug must not stop extending
            self.logger.notice(f"heartbeat error: {error!r}", level="error")
        finally:
            ended = self.clock()
            with self._cond:
                self._recent.append(ended - began)
            self._answered([tracked for _, tracked in batch], outcomes, began, ended,
                           handles={entry.key: entry.receipt_handle for entry, _ in batch},
                           seconds={entry.key: int(entry.visibility or 0) for entry, _ in batch})

    def _say_lapses(self, batch: list[_Tracked], now: float, when: str) -> None:
        for tracked in batch:
            with self._cond:
                lapsed = now > tracked.visible_until and not tracked.lapsed
                tracked.lapsed = tracked.lapsed or lapsed
                late = now - tracked.visible_until
            if lapsed:
                self._lapsed(tracked, late, when)

    def _lapsed(self, tracked: _Tracked, late: float, when: str) -> None:
        self.stats.add("visibility_lapsed")
        self.logger.notice(f"visibility lapsed {late:.1f} s {when} (SQS was slow to answer): the message may "
                           "have been received by another consumer", tracked.hold.message_id, level="error")

    def _answered(self, batch: list[_Tracked], outcomes: dict[str, EntryOutcome], began: float, ended: float,
                  handles: dict[str, str] | None = None, seconds: dict[str, int] | None = None,
                  drop: bool = False) -> None:
        """Record each outcome, schedule the next extension, and run what waited for this one."""
        handles, seconds = handles or {}, seconds or {}
        ran_late: list[tuple[_Tracked, float]] = []
        waiting: list[Callable[[], None]] = []
        lost: list[tuple[_Tracked, str]] = []
        failed: list[tuple[_Tracked, str]] = []
        with self._cond:
            for tracked in batch:
                tracked.in_flight = False
                waiting.extend(tracked.then)
                tracked.then.clear()
                token = tracked.hold.token
                if self._tracked.get(token) is not tracked:
                    continue  # settled meanwhile
                if drop:
                    del self._tracked[token]
                    continue
                outcome = outcomes.get(str(token))
                if outcome is not None and outcome.ok:
                    if ended > tracked.visible_until and not tracked.lapsed:
                        ran_late.append((tracked, ended - tracked.visible_until))
                    tracked.visible_until = began + seconds.get(str(token), self.visibility_timeout)
                    tracked.lapsed = False
                    tracked.due = self._due(began)
                    self.stats.add("extensions")
                elif tracked.hold.message.receipt_handle != handles.get(str(token)):
                    tracked.due = min(tracked.due, ended)  # a newer receipt arrived: extend that one now
                elif outcome is not None and outcome.lost:
                    del self._tracked[token]
                    if not tracked.deleting:  # else its delete landed first, which reports for itself
                        lost.append((tracked, outcome.reason))
                else:
                    tracked.due = ended + min(_RETRY_AFTER, self.interval / 4)
                    failed.append((tracked, outcome.reason if outcome is not None else "no answer"))
            self._cond.notify()
        for tracked, late in ran_late:
            self._lapsed(tracked, late, "before its extension was answered")
        for tracked, reason in lost:
            self.stats.add("ownership_lost")
            self.logger.notice(f"ownership lost while extending visibility ({reason})", tracked.hold.message_id,
                               level="warning")
        for tracked, reason in failed:
            self.logger.notice(f"visibility extension failed ({reason})", tracked.hold.message_id, level="warning")
        for action in waiting:
            action()
