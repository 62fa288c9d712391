"""Jobs die with their watcher, even when it is killed with SIGKILL and is not PID 1.

Each job runs in a session (and process group) of its own so that a time limit
stops its whole tree. The flip side: nothing ties the group to the watcher, and
a parent-death signal (``PR_SET_PDEATHSIG``) would only reach the job's shell,
not what the shell started. So the watcher starts one small guard process (a
bare interpreter: no site packages, about 1 MiB of its own memory) and tells it
through a pipe, its standard input, which process groups are running. The
kernel closes the pipe when the watcher dies, however it dies; the guard then
kills every group still listed and exits. When the watcher is PID 1 its
namespace ends with it anyway; the guard changes nothing there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

__all__ = ["JobGuard"]

#: The guard's whole program: the standard library only, so it starts with ``-I -S``.
_PROGRAM = """
import os, signal
for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
    signal.signal(number, signal.SIG_IGN)  # it ends when the watcher does, not before
groups = set()
pending = b""
while True:
    chunk = os.read(0, 65536)
    if not chunk:
        break
    pending += chunk
    *lines, pending = pending.split(b"\\n")
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
"""


class JobGuard:
    """The watcher's end of the pipe to the guard process."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self._fd: int | None = None
        self._lock = threading.Lock()

    def start(self) -> bool:
        """Start the guard; False (and no guard) if it cannot be started."""
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _PROGRAM], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
        except (OSError, subprocess.SubprocessError):
            return False
        assert self.process.stdin is not None
        self._fd = self.process.stdin.fileno()
        return True

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

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
            if self.process is not None and self.process.stdin is not None and self._fd is not None:
                self._fd = None
                try:
                    self.process.stdin.close()
                except OSError:
                    pass
