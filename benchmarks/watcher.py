"""Watcher throughput, slot use, ordering, CPU and memory against a local moto server.

Run from the repository root:

    python benchmarks/watcher.py [--quick] [--repeat N] [--only NAME ...]

Every scenario starts a fresh watcher process (``watchbot listen``) with
``Volumes`` set, as every deployed task has it, and counts finished jobs from
its summary lines; its start-up is not counted. CPU seconds and peak resident
memory are the watcher process's own (not its jobs'). moto's ReceiveMessage
slows down with queue depth, so the feeder keeps 10 to 20 messages visible in
the queue (sent, not yet received): the figures then measure the watcher, not
moto, and the watcher always has work waiting.

Scenarios:

- ``no-op-1``, ``no-op-8``: ``true`` at concurrency 1 and 8 (messages/s).
- ``sleep-8``: 100 ms jobs at concurrency 8, against the ideal 80 messages/s.
- ``long-short``: concurrency 4, one 20 s job running, then 40 jobs of 0.1 s
  sent beside it: seconds from sending them until the last one finished.
- ``fifo-8``: a FIFO queue, 8 message groups, 100 ms jobs at concurrency 8
  (messages/s), and whether every group's jobs started in send order.

``--repeat N`` runs each scenario N times and prints the median and the
spread; the machine's load average is printed with every run, since the
figures move with whatever else the machine does.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.motoserver import MotoServer  # noqa: E402

MAX_VISIBLE = 20
WARMUP = 20
FIFO_GROUPS = 8


@dataclass
class Result:
    name: str
    value: float  # the scenario's headline figure
    unit: str
    cpu_per_1000: float
    peak_mib: float
    load: float
    note: str = ""

    def line(self) -> str:
        return (f"{self.name:<11} {self.value:8.2f} {self.unit:<6} cpu {self.cpu_per_1000:5.2f} s/1000 msgs  "
                f"peak {self.peak_mib:5.1f} MiB  load {self.load:4.1f}  {self.note}").rstrip()


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class WatcherRun:
    """A watcher process, its finished-job count and the text its jobs printed, in log order."""

    process: subprocess.Popen
    volume: str
    finished: int = 0
    worker_text: list[str] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)
    marks: dict[int, tuple[float, float]] = field(default_factory=dict)
    mark_at: tuple[int, ...] = ()

    def read(self) -> None:
        assert self.process.stdout
        for raw in self.process.stdout:
            if b"] [worker] [" in raw:
                with self.cond:
                    self.worker_text.append(raw.decode().rstrip("\n").split("] ", 3)[3])
                    self.cond.notify_all()
            elif b"] completed in " in raw:
                with self.cond:
                    self.finished += 1
                    if self.finished in self.mark_at:
                        self.marks[self.finished] = (time.monotonic(), cpu_seconds(self.process.pid))
                    self.cond.notify_all()
            elif b"listening on" in raw:
                with self.cond:
                    self.worker_text.append("<listening>")
                    self.cond.notify_all()

    def wait(self, predicate: Callable[[], bool], timeout: float = 600) -> None:
        with self.cond:
            if not self.cond.wait_for(predicate, timeout=timeout):
                raise RuntimeError("the benchmark timed out waiting for the watcher")

    def stop(self) -> float:
        """Stop the watcher; its peak memory in MiB."""
        memory = peak_mib(self.process.pid)
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.volume, ignore_errors=True)
        return memory


def start_watcher(server: MotoServer, url: str, command: str, concurrency: int, mark_at: tuple[int, ...] = (),
                  **settings: str) -> WatcherRun:
    env = server.env()
    env.update(QueueUrl=url, concurrency=str(concurrency), drainTimeout="0", **settings)
    # As deployed: the template always gives the watcher task-scoped volumes to empty between jobs.
    volume = tempfile.mkdtemp(prefix="watchbot-bench-volume-")
    env["Volumes"] = volume
    process = subprocess.Popen([sys.executable, "-m", "watchbot_cfn.runtime.cli", "listen", command], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    run = WatcherRun(process, volume, mark_at=mark_at)
    threading.Thread(target=run.read, daemon=True).start()
    run.wait(lambda: "<listening>" in run.worker_text, 60)  # start-up is not counted
    return run


def new_queue(server: MotoServer, name: str, fifo: bool = False) -> str:
    attributes = {"VisibilityTimeout": "60"}
    suffix = ""
    if fifo:
        attributes.update(FifoQueue="true", ContentBasedDeduplication="true")
        suffix = ".fifo"
    return server.client("sqs").create_queue(QueueName=f"bench-{name}-{time.time_ns()}{suffix}",
                                             Attributes=attributes)["QueueUrl"]


def feed(server: MotoServer, url: str, run: WatcherRun, bodies: list[tuple[str, str | None]]) -> None:
    """Send (body, group) pairs ten at a time, keeping 10 to 20 messages visible in the queue.

    The depth that moto's receive slows down with is the visible one, so that is
    what the feeder holds steady, whatever the watcher has received ahead (one
    request every 25 ms at most reads it): the watcher is neither starved nor
    handed a deep queue.
    """
    sqs = server.client("sqs")
    sent = 0
    while sent < len(bodies):
        visible = int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
                      ["Attributes"]["ApproximateNumberOfMessages"])
        if visible > MAX_VISIBLE - 10:
            with run.cond:
                run.cond.wait(0.025)
            continue
        entries = []
        for index, (body, group) in enumerate(bodies[sent:sent + 10]):
            entry = {"Id": str(index), "MessageBody": body}
            if group is not None:
                entry["MessageGroupId"] = group
            entries.append(entry)
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
        sent += len(entries)


def throughput(server: MotoServer, name: str, command: str, concurrency: int, messages: int,
               ideal: float | None = None) -> Result:
    url = new_queue(server, name)
    load = os.getloadavg()[0]
    run = start_watcher(server, url, command, concurrency, mark_at=(WARMUP, messages))
    try:
        feed(server, url, run, [(f"message {index}", None) for index in range(messages)])
        run.wait(lambda: run.finished >= messages)
    finally:
        memory = run.stop()
    (start, cpu_start), (end, cpu_end) = run.marks[WARMUP], run.marks[messages]
    counted = messages - WARMUP
    rate = counted / (end - start)
    note = f"{100 * rate / ideal:.1f} % of the ideal {ideal:g}" if ideal else ""
    return Result(name, rate, "msg/s", 1000 * (cpu_end - cpu_start) / counted, memory,
                  max(load, os.getloadavg()[0]), note)


def long_beside_short(server: MotoServer, shorts: int = 40) -> Result:
    url = new_queue(server, "long-short")
    load = os.getloadavg()[0]
    command = 'echo "start $Message"; case "$Message" in long) sleep 20;; *) sleep 0.1;; esac'
    run = start_watcher(server, url, command, 4, mark_at=(shorts,))
    try:
        sqs = server.client("sqs")
        sqs.send_message(QueueUrl=url, MessageBody="long")
        run.wait(lambda: "start long" in run.worker_text, 60)
        began, cpu_began = time.monotonic(), cpu_seconds(run.process.pid)
        for first in range(0, shorts, 10):
            sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(index), "MessageBody": f"short {index}"}
                for index in range(first, min(first + 10, shorts))])
        run.wait(lambda: run.finished >= shorts, 120)
    finally:
        memory = run.stop()
    end, cpu_end = run.marks[shorts]
    return Result("long-short", end - began, "s", 1000 * (cpu_end - cpu_began) / shorts, memory,
                  max(load, os.getloadavg()[0]), f"{shorts} jobs of 0.1 s beside one of 20 s, concurrency 4")


def fifo_groups(server: MotoServer, messages: int, groups: int = FIFO_GROUPS) -> Result:
    url = new_queue(server, "fifo", fifo=True)
    load = os.getloadavg()[0]
    run = start_watcher(server, url, 'echo "$Message"; sleep 0.1', 8, mark_at=(WARMUP, messages), Fifo="true")
    try:
        feed(server, url, run, [(f"g{index % groups} {index // groups}", f"g{index % groups}")
                                for index in range(messages)])
        run.wait(lambda: run.finished >= messages)
    finally:
        memory = run.stop()
    started: dict[str, list[int]] = {}
    for text in run.worker_text:
        if text != "<listening>":
            group, sequence = text.split()
            started.setdefault(group, []).append(int(sequence))
    in_order = all(sequence == list(range(len(sequence))) for sequence in started.values())
    (start, cpu_start), (end, cpu_end) = run.marks[WARMUP], run.marks[messages]
    counted = messages - WARMUP
    return Result("fifo-8", counted / (end - start), "msg/s", 1000 * (cpu_end - cpu_start) / counted, memory,
                  max(load, os.getloadavg()[0]),
                  f"{groups} groups, 100 ms jobs, concurrency 8; order held: {'yes' if in_order else 'NO'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer messages per scenario")
    parser.add_argument("--repeat", type=int, default=1, metavar="N", help="runs of each scenario (default 1)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="scenarios to run (default: all)")
    args = parser.parse_args()
    scale = 0.3 if args.quick else 1.0
    scenarios: dict[str, Callable[[MotoServer], Result]] = {
        "no-op-1": lambda server: throughput(server, "no-op-1", "true", 1, int(400 * scale) + WARMUP),
        "no-op-8": lambda server: throughput(server, "no-op-8", "true", 8, int(1500 * scale) + WARMUP),
        "sleep-8": lambda server: throughput(server, "sleep-8", "sleep 0.1", 8, int(600 * scale) + WARMUP,
                                             ideal=80.0),
        "long-short": long_beside_short,
        "fifo-8": lambda server: fifo_groups(server, int(600 * scale) + WARMUP),
    }
    chosen = args.only or list(scenarios)
    unknown = [name for name in chosen if name not in scenarios]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}; choose from {', '.join(scenarios)}")
    print(f"watcher benchmark (moto server, Volumes set, visible messages <= {MAX_VISIBLE}, "
          f"first {WARMUP} jobs of a throughput run not counted; {os.cpu_count()} CPUs)", flush=True)
    results: dict[str, list[Result]] = {}
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(1))  # stop what was started, then exit
    server = MotoServer().start()
    try:
        for _ in range(args.repeat):
            for name in chosen:
                result = scenarios[name](server)
                results.setdefault(name, []).append(result)
                print(result.line(), flush=True)
    finally:
        server.stop()
    if args.repeat > 1:
        print("medians (spread: lowest to highest):")
        for name, runs in results.items():
            values = [run.value for run in runs]
            cpu = [run.cpu_per_1000 for run in runs]
            print(f"{name:<11} {statistics.median(values):8.2f} {runs[0].unit:<6} ({min(values):.2f} to "
                  f"{max(values):.2f})  cpu {statistics.median(cpu):5.2f} s/1000 msgs ({min(cpu):.2f} to "
                  f"{max(cpu):.2f})  peak {max(run.peak_mib for run in runs):5.1f} MiB  "
                  f"load {min(run.load for run in runs):.1f} to {max(run.load for run in runs):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
