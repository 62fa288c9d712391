"""Starting and waiting for job processes, with or without a reaper thread.

A container's main process is PID 1: every orphaned grandchild of every job is
handed to it and stays a zombie until it is waited for. ``Reaper`` waits for
any child (``waitpid(-1)``) on one thread and hands the exit status of the
processes it started to whoever waits for them; everything else is simply
reaped. Processes are registered under the same lock that covers their start,
so the reaper can never collect a job's status before the job is known.

``DirectChildren`` is the plain ``Popen.wait`` variant, for code that shares its
process with other users of ``subprocess`` (a test runner, for example).
"""

from __future__ import annotations

import os
import subprocess
import threading
from typing import Any, Protocol

__all__ = ["Children", "DirectChildren", "Reaper", "become_subreaper"]

_PR_SET_CHILD_SUBREAPER = 36


class Children(Protocol):
    """How a job starts its process and learns its exit status."""

    def spawn(self, args: list[str], **popen_kwargs: Any) -> subprocess.Popen: ...

    def wait(self, process: subprocess.Popen, timeout: float | None) -> int | None:
        """Return code (negative: killed by that signal) or None if still running after ``timeout``."""
        ...


class DirectChildren:
    """``subprocess`` as usual; orphans are not this process's business."""

    def spawn(self, args: list[str], **popen_kwargs: Any) -> subprocess.Popen:
        return subprocess.Popen(args, **popen_kwargs)

    def wait(self, process: subprocess.Popen, timeout: float | None) -> int | None:
        if timeout is not None and timeout <= 0:
            return process.poll()
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


class _Pending:
    __slots__ = ("done", "returncode")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.returncode: int | None = None


class Reaper:
    """Reaps every child of this process on one daemon thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}
        self._children_exist = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reaper", daemon=True)
        self._thread.start()

    def spawn(self, args: list[str], **popen_kwargs: Any) -> subprocess.Popen:
        with self._lock:
            process = subprocess.Popen(args, **popen_kwargs)
            self._pending[process.pid] = _Pending()
            self._children_exist.set()
        return process

    def wait(self, process: subprocess.Popen, timeout: float | None) -> int | None:
        if process.returncode is not None:
            return process.returncode
        with self._lock:
            pending = self._pending.get(process.pid)
        if pending is None:
            return process.returncode
        if timeout is not None and timeout <= 0:
            finished = pending.done.is_set()
        else:
            finished = pending.done.wait(timeout)
        if not finished:
            return None
        with self._lock:
            self._pending.pop(process.pid, None)
        # Tell Popen the process is gone so that it never waits for it itself.
        process.returncode = pending.returncode
        return pending.returncode

    def _run(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                self._children_exist.wait(1.0)
                self._children_exist.clear()
                continue
            except InterruptedError:  # pragma: no cover - PEP 475 retries, kept for safety
                continue
            if pid <= 0:  # pragma: no cover
                continue
            with self._lock:
                pending = self._pending.get(pid)
                if pending is None:
                    continue  # an orphan a job left behind: reaped, nothing waits for it
                pending.returncode = os.waitstatus_to_exitcode(status)
                pending.done.set()


def become_subreaper() -> bool:
    """Adopt orphaned descendants even when not PID 1 (Linux), so they are reaped here too."""
    if os.getpid() == 1:
        return True
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
