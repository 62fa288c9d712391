"""Log lines on stdout, one per event, in plain or structured (JSON lines) mode.

Every job result goes through the formatters in ``watchbot_cfn.contract`` so
that the metric filters the template creates match what is written here.

Writing never blocks or breaks the job loop: callers only append a finished
line to a bounded buffer; one writer thread drains it to stdout, whole lines
only, many at a time. When stdout cannot take more (a reader that stalls, a
full disk, a file-size limit, a closed pipe) lines are dropped and counted,
never waited for: the watcher says so once on stderr, and once more in the log
when writing works again.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from watchbot_cfn import contract

__all__ = ["Logger", "LineWriter", "NO_MESSAGE", "MAX_BUFFERED_BYTES"]

#: Plain-mode placeholder for lines that concern no particular message.
NO_MESSAGE = "-"
#: Bytes of log lines waiting for stdout, at most; past this new lines are dropped.
MAX_BUFFERED_BYTES = 8 * 1024 * 1024
#: Bytes handed to one write call, at most.
_WRITE_CHUNK = 256 * 1024


class LineWriter:
    """A bounded buffer of lines and the one thread that writes them to a file descriptor."""

    def __init__(self, fd: int, limit: int = MAX_BUFFERED_BYTES, error_fd: int | None = 2,
                 note: Callable[[str], str] | None = None) -> None:
        self.fd = fd
        self.limit = limit
        self.error_fd = error_fd
        #: Formats the line that says how many lines were dropped (the logger's notice format).
        self.note = note or (lambda text: contract.plain_line(contract.SOURCE_WATCHER, NO_MESSAGE, text))
        self.dropped = 0  # lines never written, in all
        self._unreported = 0  # dropped since the last time it was said in the log
        self._reason = ""
        self._told = False  # stderr has been told that lines are being dropped
        self._pending: deque[bytes] = deque()
        self._size = 0
        self._busy = False
        self._closed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._thread.start()

    def put(self, data: bytes) -> None:
        """Queue one line (newline included); drops it when the buffer is full. Never blocks on I/O."""
        with self._cond:
            if not (self._closed or self._size + len(data) > self.limit):
                self._pending.append(data)
                self._size += len(data)
                self._cond.notify()
                return
            self._drop(1, "stdout is not keeping up")
            told, self._told = self._told, True
        if not told:
            self._tell_stderr("watchbot: stdout is not keeping up with the log; dropping lines and counting them "
                              "until it does\n")

    def _drop(self, count: int, reason: str) -> None:
        self.dropped += count
        self._unreported += count
        self._reason = self._reason or reason

    def flush(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the buffer to be written; False if it was not."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self, timeout: float) -> bool:
        """Write what is buffered (waiting at most ``timeout``), then accept nothing more."""
        written = self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        return written

    def _take(self) -> list[bytes] | None:
        with self._cond:
            while not self._pending:
                if self._closed:
                    return None
                self._cond.wait()
            batch: list[bytes] = []
            size = 0
            while self._pending and (not batch or size + len(self._pending[0]) <= _WRITE_CHUNK):
                line = self._pending.popleft()
                batch.append(line)
                size += len(line)
            self._size -= size
            self._busy = True
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            try:
                self._write_batch(batch)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _write_batch(self, batch: list[bytes]) -> None:
        try:
            self._write_all(b"".join(batch))
        except OSError as error:
            # Which lines made it is not known exactly; a line cut short still ends the count.
            with self._cond:
                self._drop(len(batch), f"stdout: {error.strerror or error}")
                told, self._told = self._told, True
            if not told:
                self._tell_stderr(f"watchbot: cannot write log lines to stdout ({error.strerror or error}); "
                                  "dropping them and counting them until writing works again\n")
            return
        with self._cond:
            unreported, reason = self._unreported, self._reason
        if not unreported:
            return
        # Writing works (again): say how many lines are missing before this point.
        text = f"{unreported} log line(s) were dropped ({reason}); writing works again"
        try:
            self._write_all(self.note(text).encode("utf-8", "replace") + b"\n")
        except OSError:
            return
        with self._cond:
            self._unreported -= unreported
            if not self._unreported:
                self._reason = ""

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]

    def _tell_stderr(self, text: str) -> None:
        """Say it on stderr from a thread of its own: stderr may stall too, and nobody may wait for it."""
        if self.error_fd is None:
            return
        error_fd = self.error_fd

        def tell() -> None:
            try:
                os.write(error_fd, text.encode())
            except OSError:
                pass
        try:
            threading.Thread(target=tell, name="log-drop-notice", daemon=True).start()
        except RuntimeError:
            pass  # no thread to spare: the count still goes into the log and the final line


class Logger:
    """Writes watcher notices, relayed worker output and job results."""

    def __init__(self, structured: bool = False, stream: Any = None, writer: LineWriter | None = None) -> None:
        """``stream``: a binary file written synchronously (tests); otherwise stdout through a ``LineWriter``."""
        self.structured = structured
        self._stream = stream
        self._lock = threading.Lock()
        if writer is None and stream is None:
            writer = LineWriter(sys.stdout.fileno(), note=lambda text: self._notice_line(text, "warning"))
        self.writer = writer

    @property
    def dropped(self) -> int:
        return self.writer.dropped if self.writer is not None else 0

    def close(self, timeout: float = 1.0) -> bool:
        """Write what is still buffered, waiting at most ``timeout`` seconds."""
        return self.writer.close(timeout) if self.writer is not None else True

    def _write(self, line: str) -> None:
        data = line.encode("utf-8", "replace") + b"\n"
        if self.writer is not None:
            self.writer.put(data)
            return
        with self._lock:
            try:
                self._stream.write(data)
                self._stream.flush()
            except (OSError, ValueError):
                pass  # losing a log line must not stop the work

    def notice(self, text: str, message_id: str | None = None, level: str = "info", **fields: Any) -> None:
        """A line about the watcher itself (start, faults, ownership lost, shutdown)."""
        self._write(self._notice_line(text, level, message_id, **fields))

    def _notice_line(self, text: str, level: str, message_id: str | None = None, **fields: Any) -> str:
        if self.structured:
            return contract.structured_line(contract.SOURCE_WATCHER, message_id, {"msg": text, **fields},
                                            level=contract.LEVELS.get(level, contract.LEVEL_INFO))
        return contract.plain_line(contract.SOURCE_WATCHER, message_id or NO_MESSAGE, text)

    def worker(self, message_id: str, text: str) -> None:
        """One line the worker wrote (stdout or stderr), tagged with the message it was working on.

        Never raises: the job's thread relays its lines, and an error there
        would stop the job. A line that cannot be written as it is goes out
        as text, as any line would whose JSON were not an object.
        """
        try:
            if self.structured:
                line = contract.structured_worker_line(message_id, text)
            else:
                line = contract.plain_line(contract.SOURCE_WORKER, message_id, text)
        except Exception:
            line = contract.structured_line(contract.SOURCE_WORKER, message_id, {"msg": repr(text)[1:-1]}) \
                if self.structured else contract.plain_line(contract.SOURCE_WORKER, message_id, repr(text)[1:-1])
        self._write(line)

    def result(self, message_id: str, summary: contract.JobSummary) -> None:
        """How a job ended: the lines all four metric filters read."""
        if self.structured:
            self._write(contract.structured_result_line(message_id, summary))
        else:
            for line in contract.plain_result_lines(message_id, summary):
                self._write(line)
