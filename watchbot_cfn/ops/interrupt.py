"""Ctrl-C that never splits a step that moves messages.

A first SIGINT while a step runs (a receive and the bookkeeping of what it
received, or a send and the delete that follows it) is held until the step
ends, then raised as KeyboardInterrupt; outside a step (at a prompt, say) it
is raised at once. A second SIGINT during a step raises at once too, for an
endpoint that hangs: a send or delete in flight is abandoned, and the
command's cleanup returns what it holds. Two stretches are shielded
(``shielded``): a receive, whose answer holds the only handles of the
messages it hid, and the cleanup itself; there a further SIGINT only asks for
patience, and the one after it raises.
"""

from __future__ import annotations

import signal
import sys
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
        self._shielded = 0
        self._presses_while_shielded = 0
        self._previous: Any = None

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self._previous is not None:
            # Leaving because of Ctrl-C: the command is ending, and a late press must not
            # turn its last words into a traceback. Otherwise the old handler comes back.
            interrupted = exc_type is KeyboardInterrupt
            signal.signal(signal.SIGINT, signal.SIG_IGN if interrupted else self._previous)
            self._previous = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        first = not self.requested
        self.requested = True
        if self._shielded:
            if first:
                return  # held until the step ends, like anywhere in a step
            self._presses_while_shielded += 1
            if self._presses_while_shielded == 1:
                sys.stderr.write("finishing a call that holds messages; press Ctrl-C once more to abandon it\n")
                sys.stderr.flush()
                return
            raise KeyboardInterrupt
        if self._depth == 0 or not first:
            raise KeyboardInterrupt

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

    @contextmanager
    def shielded(self) -> Iterator[None]:
        """A call whose result must not be lost to Ctrl-C (a receive; giving held messages back)."""
        self._shielded += 1
        try:
            yield
        finally:
            self._shielded -= 1
            if not self._shielded:
                self._presses_while_shielded = 0

    def check(self) -> None:
        """Raise KeyboardInterrupt if Ctrl-C was pressed (between steps)."""
        if self.requested:
            raise KeyboardInterrupt
