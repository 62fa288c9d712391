"""Watcher throughput, slot utilisation, CPU and memory against a local moto server.

Run from the repository root:  python benchmarks/watcher.py  [--quick]

moto's ReceiveMessage slows down with queue depth, so a feeder keeps the
messages outstanding (sent, not yet finished) at 20 or fewer: the figures then
measure the watcher, not moto. Each scenario starts a fresh watcher process
(``watchbot listen``) and reads its summary lines to count finished jobs; CPU
seconds and peak resident memory are the watcher's own, not its jobs': for a
single-file executable that is several processes (the unpackers and the Python
below them), found as the processes whose arguments end in ``listen COMMAND``.
CPU seconds are added up; memory is the largest sum of their resident memory,
sampled every 0.1 s (an unpacker's own peak comes and goes before the watcher
starts, so adding up each process's peak would count memory never held at
once). benchmarks/executable.py runs the same scenarios with a built
executable beside this Python's package.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.motoserver import MotoServer  # noqa: E402

MAX_OUTSTANDING = 20
WARMUP = 20
#: The pip-installed watcher: this Python's package.
PACKAGE_WATCHER = (sys.executable, "-m", "watchbot_cfn.runtime.cli")


@dataclass
class Result:
    name: str
    concurrency: int
    messages: int
    rate: float
    cpu_per_1000: float
    peak_mib: float
    ideal: float | None = None

    def line(self) -> str:
        text = (f"{self.name:<22} concurrency {self.concurrency:>2}  {self.messages:>5} msgs  "
                f"{self.rate:7.1f} msg/s  cpu {self.cpu_per_1000:5.2f} s/1000 msgs  peak {self.peak_mib:5.1f} MiB")
        if self.ideal:
            text += f"  utilisation {100 * self.rate / self.ideal:5.1f} % of {self.ideal:g} msg/s"
        return text


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resident_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def watcher_processes(root: int, command: str) -> list[int]:
    """``root`` and its descendants that are the watcher itself (arguments ending in ``listen COMMAND``).

    A job, between its fork and its exec, still has the watcher's arguments:
    two looks 0.3 s apart keep only the processes that stay.
    """
    first = _watcher_tree(root, command)
    time.sleep(0.3)
    return [pid for pid in _watcher_tree(root, command) if pid in first]


def _watcher_tree(root: int, command: str) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [root], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        frontier = [pid for pid in children if _arguments(pid)[-2:] == ["listen", command]]
        found += frontier
    return found


def _arguments(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return [part.decode("utf-8", "replace") for part in handle.read().split(b"\0") if part]
    except OSError:
        return []


def run(server: MotoServer, name: str, command: str, concurrency: int, messages: int,
        ideal: float | None = None, program: Sequence[str] = PACKAGE_WATCHER) -> Result:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName=f"bench-{name.replace(' ', '-')}-{concurrency}-{time.time_ns()}",
                           Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    env = server.env()
    env.update(QueueUrl=url, concurrency=str(concurrency), drainTimeout="5")
    # As deployed: the template always gives the watcher task-scoped volumes to empty between jobs.
    volume = tempfile.mkdtemp(prefix="watchbot-bench-volume-")
    env["Volumes"] = volume
    watcher = subprocess.Popen([*program, "listen", command], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    finished = 0
    cond = threading.Condition()
    marks: dict[int, tuple[float, float]] = {}
    processes: list[int] = []

    def cpu() -> float:
        return sum(cpu_seconds(pid) for pid in processes)

    def read() -> None:
        nonlocal finished
        assert watcher.stdout
        for raw in watcher.stdout:
            if b"] completed in " in raw:
                with cond:
                    finished += 1
                    if finished == 1:
                        processes.extend(watcher_processes(watcher.pid, command))
                    if finished in (WARMUP, messages):
                        marks[finished] = (time.monotonic(), cpu())
                    cond.notify_all()

    peak = 0.0
    running = True

    def sample() -> None:
        nonlocal peak
        while running:
            if processes:
                peak = max(peak, sum(resident_mib(pid) for pid in processes))
            time.sleep(0.1)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        sent = 0
        body = "x" * 64
        while sent < messages:
            # Top up ten at a time (one request), keeping 10 to 20 outstanding: the
            # feeder must not load moto with a request per finished job either.
            with cond:
                while MAX_OUTSTANDING - (sent - finished) < min(10, messages - sent):
                    cond.wait(1)
                room = min(MAX_OUTSTANDING - (sent - finished), messages - sent, 10)
            sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": body} for i in range(room)])
            sent += room
        with cond:
            cond.wait_for(lambda: finished >= messages, timeout=600)
    finally:
        running = False
        sampler.join()
        watcher.terminate()
        watcher.wait(30)
        shutil.rmtree(volume, ignore_errors=True)
    memory = peak
    (start, cpu_start), (end, cpu_end) = marks[WARMUP], marks[messages]
    counted = messages - WARMUP
    return Result(name, concurrency, messages, counted / (end - start), 1000 * (cpu_end - cpu_start) / counted,
                  memory, ideal)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer messages per scenario")
    args = parser.parse_args()
    scale = 0.3 if args.quick else 1.0
    server = MotoServer().start()
    try:
        results = [
            run(server, "no-op", "true", 1, int(400 * scale) + WARMUP),
            run(server, "no-op", "true", 8, int(1500 * scale) + WARMUP),
            run(server, "100 ms jobs", "sleep 0.1", 8, int(600 * scale) + WARMUP, ideal=80.0),
        ]
    finally:
        server.stop()
    print(f"watcher benchmark (moto server, outstanding messages <= {MAX_OUTSTANDING}, "
          f"first {WARMUP} jobs not counted)")
    for result in results:
        print(result.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
