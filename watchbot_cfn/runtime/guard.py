"""Jobs die with their watcher, even when it is killed with SIGKILL and is not PID 1.

Each job runs in a session (and process group) of its own so that a time limit
stops its whole tree. The flip side: nothing ties the group to the watcher, and
a parent-death signal (``PR_SET_PDEATHSIG``) would only reach the job's shell,
not what the shell started. So the watcher forks one small guard process at
start, before it has any thread, and tells it through a pipe which process
groups are running. The kernel closes the pipe when the watcher dies, however
it dies; the guard then kills every group still listed and exits. When the
watcher is PID 1 its namespace ends with it anyway; the guard changes nothing
there.
"""

from __future__ import annotations

import os
import signal
import threading

__all__ = ["JobGuard"]


class JobGuard:
    """The watcher's end of the pipe to the guard process."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self._fd: int | None = None
        self._lock = threading.Lock()

    def start(self) -> bool:
        """Fork the guard; call before any thread starts. False (and no guard) if it cannot be forked."""
        read_fd, write_fd = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            return False
        if pid == 0:  # pragma: no cover - the guard process (coverage does not follow it)
            code = 0
            try:
                os.close(write_fd)
                _guard(read_fd)
            except BaseException:
                code = 1
            os._exit(code)
        os.close(read_fd)
        self.pid, self._fd = pid, write_fd
        return True

    def add(self, group: int) -> None:
        self._send(f"+{group}\n")

    def remove(self, group: int) -> None:
        self._send(f"-{group}\n")

    def _send(self, line: str) -> None:
        with self._lock:
            if self._fd is None:
                return
            try:
                os.write(self._fd, line.encode())
            except OSError:
                pass  # the guard is gone: jobs still end with the watcher's own shutdown

    def close(self) -> None:
        """Let the guard go: it kills whatever group is still listed, then exits."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def _guard(read_fd: int) -> None:  # pragma: no cover - runs in the guard process
    """Keep the list of running groups; when the watcher's end closes, kill them all."""
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_IGN)  # it ends when the watcher does, not before
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # never hold the watcher's stdout open
        os.dup2(devnull, fd)
    groups: set[int] = set()
    pending = b""
    while True:
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line[:1] == b"+":
                groups.add(int(line[1:]))
            elif line[:1] == b"-":
                groups.discard(int(line[1:]))
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except OSError:
            pass
