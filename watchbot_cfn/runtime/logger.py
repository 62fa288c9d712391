"""Log lines on stdout, one per event, in plain or structured (JSON lines) mode.

Every job summary and failure goes through the formatters in
``watchbot_cfn.contract`` so that the metric filters the template creates match
what is written here. Lines are written whole under a lock: many job threads
share one stdout and the awslogs driver splits on newlines.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, BinaryIO

from watchbot_cfn import contract

__all__ = ["Logger", "NO_MESSAGE"]

#: Plain-mode placeholder for lines that concern no particular message.
NO_MESSAGE = "-"


class Logger:
    """Writes watcher notices, relayed worker output, failures and summaries."""

    def __init__(self, structured: bool = False, stream: BinaryIO | None = None) -> None:
        self.structured = structured
        self._stream = stream if stream is not None else sys.stdout.buffer
        self._lock = threading.Lock()

    def _write(self, line: str) -> None:
        data = line.encode("utf-8", "replace") + b"\n"
        with self._lock:
            try:
                self._stream.write(data)
                self._stream.flush()
            except (BrokenPipeError, ValueError):
                pass  # nobody is reading any more: losing a log line must not stop the work

    def notice(self, text: str, message_id: str | None = None, level: str = "info", **fields: Any) -> None:
        """A line about the watcher itself (start, faults, ownership lost, shutdown)."""
        if self.structured:
            self._write(contract.structured_line(contract.SOURCE_WATCHER, message_id, {"msg": text, **fields},
                                                 level=contract.LEVELS.get(level, contract.LEVEL_INFO)))
        else:
            self._write(contract.plain_line(contract.SOURCE_WATCHER, message_id or NO_MESSAGE, text))

    def worker(self, message_id: str, text: str) -> None:
        """One line the worker wrote (stdout or stderr), tagged with the message it was working on."""
        if self.structured:
            self._write(contract.structured_worker_line(message_id, text))
        else:
            self._write(contract.plain_line(contract.SOURCE_WORKER, message_id, text))

    def result(self, message_id: str, summary: contract.JobSummary) -> None:
        """How a job ended: the lines all four metric filters read."""
        if self.structured:
            self._write(contract.structured_result_line(message_id, summary))
        else:
            for line in contract.plain_result_lines(message_id, summary):
                self._write(line)
