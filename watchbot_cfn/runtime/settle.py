"""Deleting finished messages and returning the others, batched, on one thread.

Jobs hand over their message and go. The settler waits a few milliseconds for
more to gather (and while one batch call is on the wire the next ones gather
anyway), so under load deletes and visibility changes go several at a time:
fewer requests, which leaves SQS's answer to the next receive quicker. A
message that waits 100 ms more for its delete is still hidden for minutes, so
nothing is lost by it; when the watcher drains, nothing waits. An urgent entry
(the settle that unlocks a FIFO message group, whose next messages SQS gives
out only once it has landed) waits 5 ms at most.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from watchbot_cfn.runtime.logger import Logger
from watchbot_cfn.runtime.queue import BATCH_LIMIT, BatchEntry, EntryOutcome, QueueClient
from watchbot_cfn.runtime.stats import Stats

__all__ = ["Settler"]

#: How long a delete or return keeps being retried through an SQS outage. After
#: that the message simply becomes visible again: processed twice, never lost.
GIVE_UP_AFTER = 300.0
#: Seconds a batch waits for company before it is sent.
GATHER = 0.1
#: ... when it holds an urgent entry (jobs that end together still share a request).
URGENT_GATHER = 0.005


class Settler:
    """Queue of pending deletes and visibility changes, sent in batches."""

    def __init__(self, queue: QueueClient, logger: Logger, stats: Stats,
                 give_up_after: float = GIVE_UP_AFTER, gather: float = GATHER) -> None:
        self.queue = queue
        self.logger = logger
        self.stats = stats
        self.give_up_after = give_up_after
        self.gather = gather
        self._draining = False
        self._cond = threading.Condition()
        self._deletes: deque[BatchEntry] = deque()
        self._returns: deque[BatchEntry] = deque()
        self._busy = False
        self._urgent = False
        self._closed = False
        self._last = "return"
        self._thread = threading.Thread(target=self._run, name="settler", daemon=True)
        self.on_settled: Callable[[str, str, EntryOutcome], None] = lambda kind, key, outcome: None

    def start(self) -> Settler:
        self._thread.start()
        return self

    def delete(self, message_id: str, receipt_handle: str, urgent: bool = False) -> None:
        """Delete the message; ``urgent``: send without waiting for company."""
        self._put(self._deletes, BatchEntry(message_id, receipt_handle), urgent)

    def release(self, message_id: str, receipt_handle: str, visibility: int, urgent: bool = False) -> None:
        """Make the message visible again after ``visibility`` seconds (0: now)."""
        self._put(self._returns, BatchEntry(message_id, receipt_handle, max(0, int(visibility))), urgent)

    def _put(self, queue: deque[BatchEntry], entry: BatchEntry, urgent: bool = False) -> None:
        with self._cond:
            queue.append(entry)
            self._urgent = self._urgent or urgent
            self._cond.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait until everything handed over has been sent; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._draining = True
            self._cond.notify_all()
            while self._deletes or self._returns or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _take(self) -> tuple[str, list[BatchEntry]] | None:
        with self._cond:
            while not (self._deletes or self._returns):
                if self._closed:
                    return None
                self._cond.wait()
            began = time.monotonic()
            while (len(self._deletes) < BATCH_LIMIT and len(self._returns) < BATCH_LIMIT
                   and not (self._closed or self._draining)):
                remaining = began + (URGENT_GATHER if self._urgent else self.gather) - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            # Alternate so a stream of deletes never starves the returns, or the reverse.
            first, second = ((self._deletes, "delete"), (self._returns, "return"))
            if self._last == "delete" and self._returns:
                first, second = second, first
            source, kind = first if first[0] else second
            batch = [source.popleft() for _ in range(min(BATCH_LIMIT, len(source)))]
            self._busy = True
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
                if kind == "delete":
                    outcomes = self.queue.delete(batch, give_up_after=self.give_up_after)
                else:
                    outcomes = self.queue.change_visibility(batch, give_up_after=self.give_up_after)
                self._report(kind, outcomes)
            except Exception as error:  # pragma: no cover - a bug must not stop settling
                self.logger.notice(f"{kind} batch error: {error!r}", level="error")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _report(self, kind: str, outcomes: list[EntryOutcome]) -> None:
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
