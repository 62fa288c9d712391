"""Keeping running jobs' messages hidden: one heartbeat thread for all of them.

Each message is extended to the visibility timeout after 2/3 of it has passed
(the original: every 120 s, to 180 s), in batches of ten. ``untrack`` waits for
an extension that is on the wire, so no extension can land after the job's
delete or after the backoff that returns the message: the order of
visibility changes on one message is the order the watcher decided them in.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from watchbot_cfn import contract
from watchbot_cfn.runtime.hold import Hold
from watchbot_cfn.runtime.logger import Logger
from watchbot_cfn.runtime.message import Message
from watchbot_cfn.runtime.queue import BatchEntry, QueueClient, chunks
from watchbot_cfn.runtime.stats import Stats

__all__ = ["Heartbeat", "remaining_visibility"]

#: Seconds kept in hand below SQS's 12-hour limit on one receive.
_LIMIT_MARGIN = 5
#: After a failed extension, try again this soon (there is 1/3 of the timeout left).
_RETRY_AFTER = 2.0
#: A settle that waits longer than this for an extension in flight says so.
_SLOW_EXTENSION = 5.0


def remaining_visibility(message: Message, wanted: int) -> int:
    """``wanted`` seconds, or less if the receive's 12-hour visibility budget is nearly spent."""
    budget = contract.MAX_VISIBILITY - _LIMIT_MARGIN - int(message.held_for() + 0.999)
    return max(0, min(wanted, budget))


@dataclass
class _Tracked:
    hold: Hold
    due: float


class Heartbeat:
    """Extends the visibility of every tracked message on schedule."""

    def __init__(self, queue: QueueClient, logger: Logger, stats: Stats, visibility_timeout: int,
                 interval: float) -> None:
        self.queue = queue
        self.logger = logger
        self.stats = stats
        self.visibility_timeout = visibility_timeout
        self.interval = interval
        self._cond = threading.Condition()
        self._sending = threading.Lock()
        self._tracked: dict[int, _Tracked] = {}  # by hold token: two receives of one message never collide
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def track(self, hold: Hold) -> None:
        with self._cond:
            self._tracked[hold.token] = _Tracked(hold, hold.message.received_at + self.interval)
            self._cond.notify()

    def renew(self, hold: Hold) -> None:
        """The hold adopted a newer receive: schedule from that receive."""
        with self._cond:
            tracked = self._tracked.get(hold.token)
            if tracked is not None:
                tracked.due = hold.message.received_at + self.interval
                self._cond.notify()

    def tracking(self) -> int:
        with self._cond:
            return len(self._tracked)

    def untrack(self, hold: Hold) -> None:
        """Stop extending; returns only once no extension of it is in flight (bounded by the call's timeouts)."""
        if not self._sending.acquire(timeout=_SLOW_EXTENSION):
            self.logger.notice(f"settling waits for a visibility extension still in flight (more than "
                               f"{_SLOW_EXTENSION:g} s: SQS is slow to answer)", hold.message_id, level="warning")
            self._sending.acquire()
        try:
            with self._cond:
                self._tracked.pop(hold.token, None)
        finally:
            self._sending.release()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    now = time.monotonic()
                    soonest = min((t.due for t in self._tracked.values()), default=None)
                    if soonest is not None and soonest <= now:
                        break
                    self._cond.wait(None if soonest is None else soonest - now)
                if self._closed:
                    return
            try:
                self._beat()
            except Exception as error:  # pragma: no cover - a bug must not stop the heartbeat
                self.logger.notice(f"heartbeat error: {error!r}", level="error")
                time.sleep(_RETRY_AFTER)

    def _beat(self) -> None:
        with self._sending:
            now = time.monotonic()
            with self._cond:
                due = [t for t in self._tracked.values() if t.due <= now]
            entries = []
            sent: dict[str, tuple[_Tracked, str]] = {}
            for tracked in due:
                message = tracked.hold.message
                seconds = remaining_visibility(message, self.visibility_timeout)
                if seconds <= 0:
                    self.logger.notice("the 12-hour visibility limit is reached; the message will be "
                                       "visible to other consumers", message.message_id, level="warning")
                    with self._cond:
                        self._tracked.pop(tracked.hold.token, None)
                    continue
                key = str(tracked.hold.token)
                sent[key] = (tracked, message.receipt_handle)
                entries.append(BatchEntry(key, message.receipt_handle, seconds))
            for batch in chunks(entries):
                # Keep retrying well inside the third of the timeout still left.
                outcomes = self.queue.change_visibility(batch, give_up_after=min(self.interval / 4, 10.0))
                after = time.monotonic()
                with self._cond:
                    for outcome in outcomes:
                        tracked, handle = sent[outcome.key]
                        if self._tracked.get(tracked.hold.token) is not tracked:
                            continue  # settled meanwhile
                        message_id = tracked.hold.message_id
                        if outcome.ok:
                            tracked.due = after + self.interval
                            self.stats.add("extensions")
                        elif tracked.hold.message.receipt_handle != handle:
                            tracked.due = min(tracked.due, after)  # a newer receipt arrived: extend that one now
                        elif outcome.lost:
                            del self._tracked[tracked.hold.token]
                            self.stats.add("ownership_lost")
                            self.logger.notice(f"ownership lost while extending visibility ({outcome.reason})",
                                               message_id, level="warning")
                        else:
                            tracked.due = after + min(_RETRY_AFTER, self.interval / 4)
                            self.logger.notice(f"visibility extension failed ({outcome.reason})", message_id,
                                               level="warning")
