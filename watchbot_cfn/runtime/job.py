"""One run of the worker command for one message.

The command runs through ``/bin/sh -c`` in a new session, so it and everything
it starts form one process group: a time limit or a shutdown stops the whole
tree (SIGTERM, then SIGKILL after a short grace), not just the shell. Output is
relayed line by line, tagged with the message id, from the same thread that
watches the clock, so a job costs one thread.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from watchbot_cfn.runtime.children import Children, DirectChildren
from watchbot_cfn.runtime.guard import JobGuard
from watchbot_cfn.runtime.logger import Logger

__all__ = ["Job", "JobResult", "KILL_GRACE", "SHELL", "describe", "signal_name"]

SHELL = "/bin/sh"
#: Seconds between SIGTERM and SIGKILL for a job that must stop.
KILL_GRACE = 2.0
#: A worker line longer than this is relayed in pieces.
MAX_LINE = 64 * 1024
#: How long output is still read once the job's process group is gone; a
#: process that left the group (setsid) must not hold the job open forever.
_OUTPUT_LINGER = 2.0
_TICK = 0.2


@dataclass(frozen=True)
class JobResult:
    """How a job ended."""

    returncode: int | None  # exit code, or -signal; None if it never started
    duration_ms: int
    timed_out: bool = False  # maxJobDuration was reached
    interrupted: bool = False  # stopped because the watcher is shutting down
    start_error: str | None = None

    @property
    def exit_code(self) -> int | None:
        return self.returncode if self.returncode is not None and self.returncode >= 0 else None

    @property
    def signal(self) -> int | None:
        return -self.returncode if self.returncode is not None and self.returncode < 0 else None


def signal_name(number: int) -> str:
    """``SIGKILL`` for 9; the number in words when it has no name."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def describe(result: JobResult) -> str:
    """Why a job failed, in words, for the failure line."""
    if result.start_error is not None:
        return f"could not start the command: {result.start_error}"
    if result.timed_out:
        return "exceeded maxJobDuration and was stopped"
    if result.signal is not None:
        return f"killed by {signal_name(result.signal)}"
    return f"exit code {result.exit_code}"


class Job:
    """Runs ``command`` with ``env``; ``run`` blocks, ``stop`` may be called from any thread."""

    def __init__(self, command: str, env: Mapping[str, str], message_id: str, logger: Logger,
                 children: Children | None = None, max_duration: float = 0.0,
                 kill_grace: float = KILL_GRACE, guard: JobGuard | None = None) -> None:
        self.command = command
        self.env = env
        self.message_id = message_id
        self.logger = logger
        self.children = children or DirectChildren()
        self.max_duration = max_duration
        self.kill_grace = kill_grace
        self.guard = guard
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._stopping = False
        self._kill_at: float | None = None
        self._leader_done = False

    # -- control from other threads ------------------------------------------

    def stop(self) -> None:
        """Shutdown: SIGTERM to the whole group now, SIGKILL after the grace."""
        with self._lock:
            self._stopping = True
            if self._process is not None and not self._leader_done:
                self._signal_group(signal.SIGTERM)
                if self._kill_at is None:
                    self._kill_at = time.monotonic() + self.kill_grace

    def _signal_group(self, signum: int) -> None:
        process = self._process
        if process is None:
            return
        try:
            os.killpg(process.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    # -- the run ---------------------------------------------------------------

    def run(self) -> JobResult:
        started = time.monotonic()
        with self._lock:
            if self._stopping:
                return JobResult(None, 0, interrupted=True, start_error="the watcher is shutting down")
            try:
                process = self.children.spawn(
                    [SHELL, "-c", self.command], env=dict(self.env), stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, close_fds=True)
            except (OSError, ValueError, subprocess.SubprocessError) as error:
                return JobResult(None, 0, start_error=str(error) or type(error).__name__)
            self._process = process
            if self.guard is not None:
                self.guard.add(process.pid)  # the group dies with the watcher, however it dies
        try:
            return self._watch(process, started)
        finally:
            with self._lock:
                if not self._leader_done:  # left early through an error: nobody would watch the job
                    self._signal_group(signal.SIGKILL)
            if self.guard is not None:
                self.guard.remove(process.pid)

    def _watch(self, process: subprocess.Popen, started: float) -> JobResult:
        """Relay output and keep the clock until the leader has exited and its output is done."""
        deadline = started + self.max_duration if self.max_duration > 0 else None
        timed_out = False
        returncode: int | None = None
        ended = started
        output = _Output(process, self._emit)
        linger_until: float | None = None
        last_poll = started
        try:
            while True:
                now = time.monotonic()
                wake = now + _TICK
                if returncode is None:
                    timed_out, wake = self._keep_clock(now, deadline, timed_out, wake)
                if linger_until is not None:
                    if now >= linger_until or self._linger() == 0:  # a shutdown may come while it lingers
                        break
                    wake = min(wake, linger_until)
                timeout = max(wake - now, 0.0)
                if output.closed():
                    if returncode is not None:
                        break
                    # Output closed: the leader is exiting (or detached its output); keep the clock.
                    returncode = self._reap_leader(process, timeout)
                    ended = time.monotonic()
                    continue
                if returncode is None and now - last_poll >= _TICK:
                    # Output still open: is it the leader, or something it left behind?
                    last_poll = now
                    returncode = self._reap_leader(process, 0)
                    if returncode is not None:
                        ended = now
                        linger_until = now + self._linger()
                        continue
                output.relay(timeout)
        finally:
            output.close()
        with self._lock:
            interrupted = self._stopping
        return JobResult(returncode, int((ended - started) * 1000), timed_out=timed_out and not interrupted,
                         interrupted=interrupted)

    def _keep_clock(self, now: float, deadline: float | None, timed_out: bool, wake: float) -> tuple[bool, float]:
        """maxJobDuration's SIGTERM and the SIGKILL after the grace: (timed out now, when to wake next)."""
        with self._lock:
            if deadline is not None and not timed_out and not self._stopping:
                if now >= deadline:
                    timed_out = True
                    self._signal_group(signal.SIGTERM)
                    self._kill_at = now + self.kill_grace
                else:
                    wake = min(wake, deadline)
            if self._kill_at is not None:
                if now >= self._kill_at:
                    self._signal_group(signal.SIGKILL)
                    self._kill_at = None
                else:
                    wake = min(wake, self._kill_at)
        return timed_out, wake

    def _linger(self) -> float:
        """Seconds to read output left open by a process outside the group; none for a job stopped by a
        shutdown, whose message must be returned within the drain's time for stopped jobs."""
        with self._lock:
            return 0.0 if self._stopping else _OUTPUT_LINGER

    def _reap_leader(self, process: subprocess.Popen, timeout: float) -> int | None:
        returncode = self.children.wait(process, timeout)
        if returncode is not None:
            with self._lock:
                self._leader_done = True
                self._kill_at = None
                # Whatever the command left running in its group dies with it.
                self._signal_group(signal.SIGKILL)
        return returncode

    def _emit(self, data: bytes | bytearray) -> None:
        text = bytes(data).decode("utf-8", "replace").rstrip("\r")
        self.logger.worker(self.message_id, text)


class _Output:
    """The job's stdout and stderr, relayed line by line (a line longer than MAX_LINE in pieces)."""

    def __init__(self, process: subprocess.Popen, emit: Callable[[bytes | bytearray], None]) -> None:
        assert process.stdout is not None and process.stderr is not None  # both are PIPEs
        self._emit = emit
        self._pending: dict[Any, bytearray] = {process.stdout: bytearray(), process.stderr: bytearray()}
        self._selector = selectors.DefaultSelector()
        for stream in self._pending:
            self._selector.register(stream, selectors.EVENT_READ)

    def closed(self) -> bool:
        """Both streams have reached their end."""
        return not self._selector.get_map()

    def relay(self, timeout: float) -> None:
        """Relay whatever arrives within ``timeout`` seconds."""
        for key, _ in self._selector.select(timeout):
            self._read(key.fileobj)

    def _read(self, stream: Any) -> None:
        pending = self._pending[stream]
        try:
            chunk = os.read(stream.fileno(), 65536)
        except OSError:
            chunk = b""
        if not chunk:
            self._selector.unregister(stream)
            return
        pending.extend(chunk)
        while True:
            newline = pending.find(b"\n")
            if newline < 0:
                if len(pending) >= MAX_LINE:
                    self._emit(pending[:MAX_LINE])
                    del pending[:MAX_LINE]
                    continue
                return
            self._emit(pending[:newline])
            del pending[:newline + 1]

    def close(self) -> None:
        """Relay what is left of an unfinished last line, and close both streams."""
        self._selector.close()
        for stream, pending in self._pending.items():
            if pending:
                self._emit(pending)
            stream.close()
