"""moto's server as the local AWS endpoint of ``watchbot-cfn local``.

moto is an optional dependency (``pip install 'watchbot-cfn[local]'``); its
server keeps everything in memory, so every run starts empty and leaves
nothing behind.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from watchbot_cfn.errors import WatchbotError
from watchbot_cfn.local.processes import spawn, stop_process

__all__ = ["LocalEndpoint", "LocalError", "free_port", "require_moto"]

HOST = "127.0.0.1"


class LocalError(WatchbotError):
    pass


def require_moto() -> None:
    """A clear line instead of an ImportError when the extra is not installed."""
    if any(importlib.util.find_spec(name) is None for name in ("moto", "flask", "flask_cors")):
        raise LocalError("local needs moto's server: pip install 'watchbot-cfn[local]'")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _check_port(port: int) -> None:
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            raise LocalError(f"--port: {port} is in use; pick another (or --port 0 for any free one)") from None


class LocalEndpoint:
    """A ``moto.server`` process on a loopback port; its output goes to ``log``."""

    def __init__(self, port: int, log: Path) -> None:
        self.port = port or free_port()
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 30.0) -> LocalEndpoint:
        _check_port(self.port)
        with open(self.log, "ab") as log:
            self.process = spawn([sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(self.port)],
                                 stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LocalError(f"the local AWS endpoint (moto) exited with {self.process.returncode}: "
                                 f"{self._last_log_line()}")
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1).read()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise LocalError(f"the local AWS endpoint (moto) did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=5)

    def _last_log_line(self) -> str:
        try:
            lines = [line for line in self.log.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return "no output"
        return lines[-1] if lines else "no output"
