"""Deleting finished messages and returning the others, batched, on a few threads.

Jobs hand over their message and go. A settler waits a few milliseconds for
more to gather (and while one batch call is on the wire the next ones gather
anyway), so under load deletes and visibility changes go several at a time:
fewer requests, which leaves SQS's answer to the next receive quicker. A
message that waits 100 ms more for its delete is still hidden for minutes, so
nothing is lost by it; when the watcher drains, nothing waits. An urgent entry
(the settle that unlocks a FIFO message group, whose next messages SQS gives
out only once it has landed) waits 5 ms at most.

Several settler threads (``SETTLERS``) take batches side by side, so a slow or
retried call holds up only its own batch. With a heartbeat, a message awaiting
its delete stays tracked, and extended, until the delete has landed (or has
been given up); a return goes into the queue only once no extension of the
message is on the wire, so an extension never overrides it. Whatever a call
raises, its batch is kept and sent again until its give-up time.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from watchbot_cfn.runtime.hold import Hold
from watchbot_cfn.runtime.logger import Logger
from watchbot_cfn.runtime.queue import BATCH_LIMIT, BatchEntry, EntryOutcome, QueueClient
from watchbot_cfn.runtime.stats import Stats
from watchbot_cfn.runtime.visibility import Heartbeat

__all__ = ["SETTLERS", "Settler"]

#: How long a delete or return keeps being retried through an SQS outage. After
#: that the message simply becomes visible again: processed twice, never lost.
GIVE_UP_AFTER = 300.0
#: Seconds a batch waits for company before it is sent.
GATHER = 0.1
#: ... when it holds an urgent entry (jobs that end together still share a request).
URGENT_GATHER = 0.005
#: Batch calls on the wire at once, at most.
SETTLERS = 4
#: After a call raised something the queue client let through, wait this long before sending again.
_ERROR_PAUSE = 1.0


@dataclass
class _Pending:
    """One delete or return waiting to be sent; ``since``: when it was handed over (for the give-up time)."""

    entry: BatchEntry
    since: float
    hold: Hold | None = None


class Settler:
    """Queue of pending deletes and visibility changes, sent in batches by ``workers`` threads."""

    def __init__(self, queue: QueueClient, logger: Logger, stats: Stats,
                 give_up_after: float = GIVE_UP_AFTER, gather: float = GATHER,
                 heartbeat: Heartbeat | None = None, workers: int = SETTLERS) -> None:
        self.queue = queue
        self.logger = logger
        self.stats = stats
        self.give_up_after = give_up_after
        self.gather = gather
        self.heartbeat = heartbeat
        self._draining = False
        self._cond = threading.Condition()
        self._deletes: deque[_Pending] = deque()
        self._returns: deque[_Pending] = deque()
        self._busy = 0
        self._gathering = False  # a settler is waiting for a batch to fill
        self._awaiting_return = 0  # returns waiting for an extension of their message to be answered
        self._urgent = False
        self._closed = False
        self._last = "return"
        self._threads = [threading.Thread(target=self._run, name=f"settler-{index}", daemon=True)
                         for index in range(max(1, workers))]
        self.on_settled: Callable[[str, str, EntryOutcome], None] = lambda kind, key, outcome: None

    def start(self) -> Settler:
        for thread in self._threads:
            thread.start()
        return self

    def delete(self, message_id: str, receipt_handle: str, urgent: bool = False, *, hold: Hold | None) -> None:
        """Delete the message; ``urgent``: send without waiting for company.

        With ``hold`` the heartbeat keeps extending the message until the delete has landed. ``hold``
        has no default: a held message handed over without it would be extended for ever.
        """
        if hold is not None and self.heartbeat is not None:
            self.heartbeat.deleting(hold)
        self._put(self._deletes, _Pending(BatchEntry(message_id, receipt_handle), time.monotonic(), hold), urgent)

    def release(self, message_id: str, receipt_handle: str, visibility: int, urgent: bool = False, *,
                hold: Hold | None) -> None:
        """Make the message visible again after ``visibility`` seconds (0: now).

        With ``hold`` the heartbeat stops extending it, and the return is sent
        only after any extension of it already on the wire (no default, as for ``delete``).
        """
        pending = _Pending(BatchEntry(message_id, receipt_handle, max(0, int(visibility))), time.monotonic())
        if hold is None or self.heartbeat is None:
            self._put(self._returns, pending, urgent)
            return
        with self._cond:
            self._awaiting_return += 1

        def queue_it() -> None:
            with self._cond:
                self._awaiting_return -= 1
            self._put(self._returns, pending, urgent)
        self.heartbeat.untrack(hold, then=queue_it)

    def _put(self, queue: deque[_Pending], pending: _Pending, urgent: bool = False) -> None:
        with self._cond:
            queue.append(pending)
            self._urgent = self._urgent or urgent
            self._cond.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait until everything handed over has been sent; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._draining = True
            self._cond.notify_all()
            while self._deletes or self._returns or self._busy or self._awaiting_return:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _take(self) -> tuple[str, list[_Pending]] | None:
        with self._cond:
            # One settler gathers at a time, so batches fill as they would with one thread; the others
            # wait for the next batch while calls are on the wire.
            while not (self._deletes or self._returns) or self._gathering:
                if self._closed and not (self._deletes or self._returns):
                    return None
                self._cond.wait()
            self._gathering = True
            began = time.monotonic()
            while (len(self._deletes) < BATCH_LIMIT and len(self._returns) < BATCH_LIMIT
                   and not (self._closed or self._draining)):
                remaining = began + (URGENT_GATHER if self._urgent else self.gather) - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            self._gathering = False
            self._cond.notify_all()
            # Alternate so a stream of deletes never starves the returns, or the reverse.
            first, second = ((self._deletes, "delete"), (self._returns, "return"))
            if self._last == "delete" and self._returns:
                first, second = second, first
            source, kind = first if first[0] else second
            batch = [source.popleft() for _ in range(min(BATCH_LIMIT, len(source)))]
            self._busy += 1
            self._urgent = False
            self._last = kind
            return kind, batch

    def _run(self) -> None:
        while True:
            taken = self._take()
            if taken is None:
                return
            kind, batch = taken
            try:
                self._send(kind, batch)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _send(self, kind: str, batch: list[_Pending]) -> None:
        give_up = min(pending.since for pending in batch) + self.give_up_after
        entries = [self._current(pending) for pending in batch]
        try:
            if kind == "delete":
                outcomes = self.queue.delete(entries, give_up_after=max(give_up - time.monotonic(), 0.0))
            else:
                outcomes = self.queue.change_visibility(entries, give_up_after=max(give_up - time.monotonic(), 0.0))
        except Exception as error:  # the queue client keeps faults; this is a bug, and the batch is kept
            self.stats.add(f"{kind}_errors")
            if time.monotonic() < give_up:
                self.logger.notice(f"{kind} batch error: {error!r}; sending it again", level="error")
                with self._cond:
                    self._cond.wait(_ERROR_PAUSE)
                    (self._deletes if kind == "delete" else self._returns).extendleft(reversed(batch))
                    self._cond.notify_all()
                return
            outcomes = [EntryOutcome(entry.key, False, reason=repr(error)) for entry in entries]
        self._report(kind, outcomes, batch)

    def _current(self, pending: _Pending) -> BatchEntry:
        """The entry with the newest receipt handle of its hold (it may have been received again meanwhile)."""
        if pending.hold is None:
            return pending.entry
        handle = pending.hold.message.receipt_handle
        if handle == pending.entry.receipt_handle:
            return pending.entry
        return BatchEntry(pending.entry.key, handle, pending.entry.visibility)

    def _report(self, kind: str, outcomes: list[EntryOutcome], batch: list[_Pending]) -> None:
        for outcome in outcomes:
            if outcome.ok:
                self.stats.add("deleted" if kind == "delete" else "returned")
            elif outcome.lost:
                self.stats.add("ownership_lost")
                self.logger.notice(f"ownership lost: could not {kind} the message ({outcome.reason})",
                                   outcome.key, level="warning")
            else:
                self.stats.add(f"{kind}_failed")
                self.logger.notice(f"could not {kind} the message ({outcome.reason}); it will be "
                                   "delivered again when its visibility runs out", outcome.key, level="error")
            self.on_settled(kind, outcome.key, outcome)
        answered = {outcome.key for outcome in outcomes}
        for pending in batch:
            if pending.entry.key not in answered:  # pragma: no cover - the queue client answers every entry
                self.stats.add(f"{kind}_failed")
                self.logger.notice(f"could not {kind} the message (no outcome); it will be delivered again when "
                                   "its visibility runs out", pending.entry.key, level="error")
                self.on_settled(kind, pending.entry.key, EntryOutcome(pending.entry.key, False, reason="no outcome"))
            if pending.hold is not None and self.heartbeat is not None:
                self.heartbeat.untrack(pending.hold)  # deleted, or given up: no more extensions
