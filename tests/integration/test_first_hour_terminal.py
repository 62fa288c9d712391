"""The first hour at a terminal: ``init``, then ``local`` in a pseudo-terminal, ``send`` from another shell,
then Ctrl-C, as a person does it. The live line of counts is drawn on the terminal, the worker ``init``
wrote runs, and an idle Ctrl-C ends everything at once."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.support.localrun import COMMAND, process_tree, still_running

pytestmark = pytest.mark.integration


class Terminal:
    """A program on the slave side of a pseudo-terminal; what it draws is read from the master side."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave,
                                        start_new_session=True)
        os.close(slave)
        self.screen = ""

    def read_until(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.screen)
            if found:
                return found
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.screen += os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:  # the program has gone
                    break
        raise AssertionError(f"waiting for {pattern!r}; the terminal shows:\n{self.screen[-3000:]}")

    def ctrl_c(self) -> None:
        """What the terminal does for Ctrl-C: SIGINT to the foreground process group."""
        os.killpg(self.process.pid, signal.SIGINT)

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        os.close(self.master)


def test_init_local_send_and_ctrl_c_at_a_terminal(tmp_path, record_property):
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(TERM="xterm", COLUMNS="120", LINES="40")
    written = subprocess.run([*COMMAND, "init", "hello-worker"], cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=60)
    assert written.returncode == 0, written.stderr
    project = tmp_path / "hello-worker"
    stack = f"tty-{uuid.uuid4().hex[:6]}"
    terminal = Terminal([*COMMAND, "local", "watchbot.toml", "--port", "0", "--stack-name", stack], project, env)
    try:
        endpoint = terminal.read_until(r"local AWS endpoint: (http://127\.0\.0\.1:\d+)", 90).group(1)
        terminal.read_until(r"listening on", 90)
        sent = subprocess.run([*COMMAND, "send", "--stack-name", stack, "--endpoint-url", endpoint, "hello",
                               "reject this"], cwd=project, env=env, capture_output=True, text=True, timeout=60)
        assert sent.returncode == 0, sent.stderr
        # the worker init wrote ran, and the live line (redrawn in place with \r) shows the counts
        terminal.read_until(r"processed: hello", 60)
        terminal.read_until(r"\r\x1b\[2Kvisible 0, in flight 0, dead-letter 0, succeeded 1, failed 1 \(rejected 1\)",
                            60)
        tree = process_tree(terminal.process.pid)

        pressed = time.monotonic()
        terminal.ctrl_c()
        terminal.read_until(r"stopping: no message in flight, so the watcher stops now", 30)
        assert terminal.process.wait(30) == 0
        stopped_after = time.monotonic() - pressed
        record_property("closing_note", f"first hour at a terminal: an idle Ctrl-C ended local in "
                                        f"{stopped_after:.2f} s")
        terminal.read_until(r"stopped; .*succeeded 1, failed 1 \(rejected 1\)", 5)
        assert {pid for pid, start in tree.items() if still_running(pid, start)} == set()
    finally:
        terminal.close()
