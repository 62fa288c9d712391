"""Child processes that never outlive ``watchbot-cfn local``.

Each child runs in its own session, so a Ctrl-C in the terminal reaches only
``local``, which then stops them in order (the watcher drains first). On Linux
each child also gets SIGTERM if ``local`` itself dies (``PR_SET_PDEATHSIG``),
and ``local`` adopts orphaned grandchildren (a child subreaper), so a job left
behind by a watcher that had to be killed is found and stopped too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["adopt_orphans", "children_of", "spawn", "stop_process", "sweep_orphans"]

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def spawn(args: Sequence[str], **popen_kwargs: Any) -> subprocess.Popen:
    """Start a child in a new session that is told to stop when this process dies."""
    extra: dict[str, Any] = {"preexec_fn": _die_with_parent} if sys.platform.startswith("linux") else {}
    return subprocess.Popen(list(args), start_new_session=True, **extra, **popen_kwargs)


def stop_process(process: subprocess.Popen, timeout: float, signum: int = signal.SIGTERM) -> int | None:
    """Signal, wait up to ``timeout``, then kill the child's whole process group; returns its exit code."""
    if process.poll() is None:
        try:
            process.send_signal(signum)
        except ProcessLookupError:
            pass
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    _kill_group(process.pid)
    try:
        return process.wait(5)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
        return None


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def adopt_orphans() -> bool:
    """Become a child subreaper (Linux): orphaned descendants are re-parented here, not to init."""
    from watchbot_cfn.runtime.children import become_subreaper

    return become_subreaper()


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid``, read from /proc (empty where there is no /proc)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and fields[1] == str(pid):
            found.append(int(entry.name))
    return found


def sweep_orphans(known: set[int]) -> list[int]:
    """Kill and reap children of this process that nobody waits for (orphans adopted from a killed watcher)."""
    swept = []
    for pid in children_of(os.getpid()):
        if pid in known:
            continue
        _kill_group(pid)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        swept.append(pid)
    return swept
