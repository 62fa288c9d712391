"""One status line kept at the bottom of a terminal, under the lines a command prints.

On a terminal the status line is redrawn in place; anywhere else (a pipe, a CI
log) only the permanent lines are written, so logs stay readable.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

__all__ = ["StatusLine"]

_CLEAR = "\r\x1b[2K"


class StatusLine:
    """Print permanent lines and keep one redrawable status line below them (thread-safe)."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self._status = ""
        self._lock = threading.Lock()

    def print(self, line: str) -> None:
        """A permanent line, above the status line."""
        with self._lock:
            if self.live and self._status:
                self.stream.write(_CLEAR)
            self.stream.write(line + "\n")
            if self.live and self._status:
                self.stream.write(self._fit(self._status))
            self.stream.flush()

    def update(self, status: str) -> None:
        """Replace the status line (drawn on a terminal only)."""
        with self._lock:
            self._status = status
            if self.live:
                self.stream.write(_CLEAR + self._fit(status))
                self.stream.flush()

    def clear(self) -> None:
        """Remove the status line, e.g. before a prompt or at the end."""
        with self._lock:
            if self.live and self._status:
                self.stream.write(_CLEAR)
                self.stream.flush()
            self._status = ""

    def _fit(self, text: str) -> str:
        import shutil

        width = shutil.get_terminal_size((100, 20)).columns
        return text if len(text) < width else text[:max(width - 2, 1)] + "…"
