"""``watchbot-cfn local`` as a subprocess, as a user runs it, and the process tree it leaves behind."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.procfs import stat_fields

__all__ = ["COMMAND", "LocalRun", "process_tree", "still_running"]

SCRIPT = Path(sys.executable).with_name("watchbot-cfn")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "watchbot_cfn.cli.main"]


def process_tree(root: int) -> dict[int, str]:
    """pid -> start time (field 22 of /proc/pid/stat) of root and all its descendants."""
    found = {int(entry): stat_fields(int(entry)) for entry in os.listdir("/proc") if entry.isdigit()}
    fields = {pid: values for pid, values in found.items() if values is not None and len(values) > 19}
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, values in fields.items():
            if int(values[1]) in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return {pid: fields[pid][19] for pid in tree if pid in fields}


def still_running(pid: int, start: str) -> bool:
    """The same process (same start time) and not a zombie."""
    fields = stat_fields(pid)
    return fields is not None and len(fields) > 19 and fields[19] == start and fields[0] != "Z"


class LocalRun:
    """``watchbot-cfn local`` as a subprocess, its stdout collected line by line."""

    def __init__(self, source: Path, stack: str, cwd: Path) -> None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        # the interpreter running the tests first on PATH, so a worker's `python3` can import this package
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        self.process = subprocess.Popen([*COMMAND, "local", str(source), "--port", "0", "--stack-name", stack],
                                        cwd=cwd, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout
        for line in self.process.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self.lines)

    def wait_for(self, predicate: Callable[[list[str]], bool], timeout: float, what: str) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.snapshot()
            if predicate(lines):
                return lines
            if self.process.poll() is not None:
                time.sleep(0.2)
                break
            time.sleep(0.05)
        raise AssertionError(f"waiting for {what}; local said:\n" + "\n".join(self.snapshot()))

    def line_with(self, text: str) -> str:
        return next(line for line in self.snapshot() if text in line)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
