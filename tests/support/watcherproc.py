"""The watcher as a real subprocess, with its stdout collected line by line."""

from __future__ import annotations

import ctypes
import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence

import pytest

from tests.support.motoserver import MotoServer


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_queue(server: MotoServer, visibility: int = 30, dead_letter_after: int | None = None,
                 fifo: bool = False) -> tuple[str, str | None]:
    """A fresh queue (and its DLQ when ``dead_letter_after`` is set): (url, dlq_url)."""
    sqs = server.client("sqs")
    name = unique("work") + (".fifo" if fifo else "")
    attributes = {"VisibilityTimeout": str(visibility)}
    if fifo:
        attributes.update(FifoQueue="true", ContentBasedDeduplication="true")
    dlq_url = None
    if dead_letter_after is not None:
        dlq_url = sqs.create_queue(QueueName=unique("dead"))["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": dead_letter_after})
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url, dlq_url


def queue_depth(server: MotoServer, url: str) -> tuple[int, int]:
    """(visible, in flight)."""
    attributes = server.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def depth_becomes(server: MotoServer, url: str, expected: tuple[int, int], timeout: float = 5.0) -> tuple[int, int]:
    """The queue depth once it equals ``expected`` (deletes go out in batches), or the last seen."""
    deadline = time.monotonic() + timeout
    depth = queue_depth(server, url)
    while depth != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        depth = queue_depth(server, url)
    return depth


class WatcherProcess:
    """``watchbot listen <command>`` against a moto server."""

    def __init__(self, server: MotoServer, queue_url: str, command: str, prefix: tuple[str, ...] = (),
                 program: Sequence[str] = (), **settings: str) -> None:
        self.env = server.env()
        for name in ("concurrency", "drainTimeout", "visibilityTimeout", "maxJobDuration", "Volumes",
                     "structuredLogging", "writableFilesystem", "Fifo", "Message", "Subject", "taskProtection",
                     "ECS_AGENT_URI"):
            self.env.pop(name, None)
        self.env.update({"QueueUrl": queue_url, "visibilityTimeout": "30", "drainTimeout": "2"})
        self.env.update({name: str(value) for name, value in settings.items()})
        self.command = command
        self.prefix = list(prefix)  # e.g. unshare, to run the watcher as PID 1
        # the watcher program; by default this Python's package, e.g. a built executable instead
        self.program = list(program) or [sys.executable, "-m", "watchbot_cfn.runtime.cli"]
        self.lines: list[str] = []
        self.times: list[float] = []
        self.stderr = ""
        self._lock = threading.Lock()
        self.process: subprocess.Popen | None = None

    def start(self) -> WatcherProcess:
        self.process = subprocess.Popen(
            self.prefix + self.program + ["listen", self.command], env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        self.wait_for(lambda lines: any("listening on" in line for line in lines), 20)
        return self

    def _read(self) -> None:
        assert self.process and self.process.stdout
        for raw in self.process.stdout:
            with self._lock:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.times.append(time.monotonic())

    def _read_stderr(self) -> None:
        assert self.process and self.process.stderr
        self.stderr = self.process.stderr.read().decode("utf-8", "replace")

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self.lines)

    def wait_for(self, predicate: Callable[[list[str]], bool], timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.snapshot()
            if predicate(lines):
                return lines
            if self.process and self.process.poll() is not None:
                time.sleep(0.2)  # let the reader catch the last lines
                lines = self.snapshot()
                if predicate(lines):
                    return lines
                raise AssertionError(f"watcher exited with {self.process.returncode}:\n" + "\n".join(lines)
                                     + "\n" + self.stderr)
            time.sleep(0.05)
        raise AssertionError("timed out waiting; watcher said:\n" + "\n".join(self.snapshot()))

    def count(self, text: str) -> int:
        return sum(text in line for line in self.snapshot())

    def signal(self, signum: int = signal.SIGTERM) -> None:
        assert self.process
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        assert self.process
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def __enter__(self) -> WatcherProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def summaries(lines: list[str]) -> list[str]:
    return [line for line in lines if "[watcher]" in line and "] completed in " in line]


def worker_lines(lines: list[str]) -> list[str]:
    return [line.split("] ", 3)[3] for line in lines if "] [worker] [" in line]


def signal_one_thread(pid: int, thread_id: int, signum: int) -> None:
    """tgkill(2): a signal for one thread, as the kernel may pick any thread for a process's signal."""
    libc = ctypes.CDLL(None, use_errno=True)
    tgkill = getattr(libc, "tgkill", None)
    if tgkill is None:
        pytest.skip("this C library has no tgkill")
    if tgkill(pid, thread_id, signum) != 0:
        raise OSError(ctypes.get_errno(), f"tgkill({pid}, {thread_id}, {signum})")

