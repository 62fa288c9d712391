"""One message this watcher holds, from its receive until it is deleted or returned.

A message can be received again while its job still runs (the watcher was
frozen past the visibility timeout, or an extension failed): SQS then gives it
a new receipt handle and the older one may no longer change its visibility or
delete it. The running job keeps the message; the hold adopts the newer
receipt, so the heartbeat extends, and the settle uses, the handle that owns
the message now. The job is never run twice at once in one watcher.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading

from watchbot_cfn.runtime.message import Message

__all__ = ["Hold"]

_TOKENS = itertools.count(1)


class Hold:
    """A held message; ``token`` names this hold (never the message id, which a redelivery repeats)."""

    def __init__(self, message: Message) -> None:
        self.token = next(_TOKENS)
        self.message_id = message.message_id
        self._lock = threading.Lock()
        self._message = message

    @property
    def message(self) -> Message:
        """The message as last received: its newest receipt handle, receive time and count."""
        with self._lock:
            return self._message

    def adopt(self, newer: Message) -> None:
        """A newer receive of the same message: from now on its receipt handle is the one used."""
        with self._lock:
            self._message = dataclasses.replace(self._message, receipt_handle=newer.receipt_handle,
                                                received_at=newer.received_at, receives=newer.receives)
