"""Ctrl-C that never splits a step that moves messages.

A first SIGINT while a step runs (a receive and the bookkeeping of what it
received, or a send and the delete that follows it) is held until the step
ends, then raised as KeyboardInterrupt; outside a step (at a prompt, say) it
is raised at once. A second SIGINT during a step raises at once too, for an
endpoint that hangs; the commands' cleanup still returns what they hold.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

__all__ = ["Interrupts"]


class Interrupts:
    """Installs the SIGINT handler for as long as it is used as a context manager."""

    def __init__(self) -> None:
        self.requested = False
        self._depth = 0
        self._previous: Any = None

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._depth == 0 or self.requested:
            self.requested = True
            raise KeyboardInterrupt
        self.requested = True

    @contextmanager
    def step(self) -> Iterator[None]:
        """A stretch that a first Ctrl-C must not cut in two."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if self._depth == 0 and self.requested:
            raise KeyboardInterrupt

    def check(self) -> None:
        """Raise KeyboardInterrupt if Ctrl-C was pressed (between steps)."""
        if self.requested:
            raise KeyboardInterrupt
