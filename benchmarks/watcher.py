"""Watcher throughput, slot use, ordering, CPU and memory against a local moto server.

Run from the repository root:

    python benchmarks/watcher.py [--quick] [--repeat N] [--only NAME ...]

Every scenario starts a fresh watcher process (``watchbot listen``) with
``Volumes`` set, as every deployed task has it, and counts finished jobs from
its summary lines; its start-up is not counted. moto's ReceiveMessage slows
down with queue depth, so the feeder keeps 10 to 20 messages visible in the
queue (sent, not yet received): the figures then measure the watcher, not moto,
and the watcher always has work waiting.

CPU seconds and peak resident memory are the watcher's own, not its jobs':
for a single-file executable that is several processes (the unpackers and the
Python below them), found as the processes whose arguments end in
``listen COMMAND``. CPU seconds are added up; memory is the largest sum of
their resident memory, sampled every 0.1 s (an unpacker's own peak comes and
goes before the watcher starts, so adding up each process's peak would count
memory never held at once). benchmarks/executable.py runs the throughput
scenarios with a built executable beside this Python's package.

Scenarios:

- ``no-op-1``, ``no-op-8``: ``true`` at concurrency 1 and 8 (messages/s).
- ``sleep-8``: 100 ms jobs at concurrency 8, against the ideal 80 messages/s.
- ``long-short``: concurrency 4, one 20 s job running, then 40 jobs of 0.1 s
  sent beside it: seconds from sending them until the last one finished.
- ``fifo-8``: a FIFO queue, 8 message groups, 100 ms jobs at concurrency 8
  (messages/s), and whether every group's jobs started in send order.
- ``fifo-ratio``: ``sleep-8`` and ``fifo-8`` one after the other in the same
  run, printed side by side with the FIFO rate as a share of the standard
  queue's (the goal: at least ``FIFO_GOAL`` %).

By default every scenario runs except ``sleep-8`` and ``fifo-8`` alone
(``fifo-ratio`` runs both). ``--repeat N`` runs each scenario N times and prints the median and the
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.motoserver import MotoServer  # noqa: E402

MAX_VISIBLE = 20
WARMUP = 20
FIFO_GROUPS = 8
#: FIFO with FIFO_GROUPS groups at least this share (%) of the standard queue's rate.
FIFO_GOAL = 85.0
#: The pip-installed watcher: this Python's package.
PACKAGE_WATCHER = (sys.executable, "-m", "watchbot_cfn.runtime.cli")


@dataclass
class Result:
    """A throughput scenario: messages per second."""

    name: str
    concurrency: int
    messages: int
    rate: float
    cpu_per_1000: float
    peak_mib: float
    ideal: float | None = None
    load: float = 0.0
    note: str = ""

    @property
    def figure(self) -> tuple[float, str]:
        return self.rate, "msg/s"

    def line(self) -> str:
        text = (f"{self.name:<22} concurrency {self.concurrency:>2}  {self.messages:>5} msgs  "
                f"{self.rate:7.1f} msg/s  cpu {self.cpu_per_1000:5.2f} s/1000 msgs  peak {self.peak_mib:5.1f} MiB")
        if self.ideal:
            text += f"  utilisation {100 * self.rate / self.ideal:5.1f} % of {self.ideal:g} msg/s"
        if self.load:
            text += f"  load {self.load:4.1f}"
        return text + (f"  {self.note}" if self.note else "")


@dataclass
class Elapsed:
    """A scenario timed from sending its messages to the last one finished."""

    name: str
    seconds: float
    cpu_per_1000: float
    peak_mib: float
    load: float = 0.0
    note: str = ""

    @property
    def figure(self) -> tuple[float, str]:
        return self.seconds, "s"

    def line(self) -> str:
        return (f"{self.name:<36} {self.seconds:7.2f} s      cpu {self.cpu_per_1000:5.2f} s/1000 msgs  "
                f"peak {self.peak_mib:5.1f} MiB  load {self.load:4.1f}  {self.note}").rstrip()


@dataclass
class Ratio:
    """The FIFO rate as a share of the standard queue's, both measured in this run."""

    fifo: Result
    standard: Result

    @property
    def name(self) -> str:
        return "fifo-ratio"

    @property
    def figure(self) -> tuple[float, str]:
        return 100 * self.fifo.rate / self.standard.rate, "%"

    @property
    def cpu_per_1000(self) -> float:
        return self.fifo.cpu_per_1000

    @property
    def peak_mib(self) -> float:
        return max(self.fifo.peak_mib, self.standard.peak_mib)

    @property
    def load(self) -> float:
        return max(self.fifo.load, self.standard.load)

    def line(self) -> str:
        ratio = self.figure[0]
        return (f"{self.standard.line()}\n{self.fifo.line()}\n"
                f"FIFO {FIFO_GROUPS} groups vs standard, 100 ms jobs, concurrency 8: FIFO {self.fifo.rate:.1f} msg/s, "
                f"standard {self.standard.rate:.1f} msg/s, ratio {ratio:.1f} % "
                f"({'meets' if ratio >= FIFO_GOAL else 'below'} the goal of {FIFO_GOAL:g} %)")


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


@dataclass
class WatcherRun:
    """A watcher (its processes), its finished-job count and the text its jobs printed, in log order."""

    process: subprocess.Popen
    command: str
    volume: str
    mark_at: tuple[int, ...] = ()
    finished: int = 0
    worker_text: list[str] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)
    marks: dict[int, tuple[float, float]] = field(default_factory=dict)
    processes: list[int] = field(default_factory=list)
    peak_mib: float = 0.0
    listening: bool = False
    _sampling: bool = True

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.processes)

    def read(self) -> None:
        assert self.process.stdout
        for raw in self.process.stdout:
            with self.cond:
                if b"] [worker] [" in raw:
                    self.worker_text.append(raw.decode().rstrip("\n").split("] ", 3)[3])
                elif b"] completed in " in raw:
                    self.finished += 1
                    if self.finished in self.mark_at:
                        self.marks[self.finished] = (time.monotonic(), self.cpu())
                elif b"listening on" in raw:
                    self.listening = True
                self.cond.notify_all()

    def sample(self) -> None:
        while self._sampling:
            if self.processes:
                self.peak_mib = max(self.peak_mib, sum(resident_mib(pid) for pid in self.processes))
            time.sleep(0.1)

    def wait(self, predicate: Callable[[], bool], timeout: float = 600) -> None:
        with self.cond:
            if not self.cond.wait_for(predicate, timeout=timeout):
                raise RuntimeError("the benchmark timed out waiting for the watcher")

    def stop(self) -> None:
        self._sampling = False
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.volume, ignore_errors=True)


def start_watcher(server: MotoServer, url: str, command: str, concurrency: int, mark_at: tuple[int, ...] = (),
                  program: Sequence[str] = PACKAGE_WATCHER, **settings: str) -> WatcherRun:
    """A watcher that has said "listening on" (start-up is not counted), its processes found."""
    env = server.env()
    env.update(QueueUrl=url, concurrency=str(concurrency), drainTimeout="0", **settings)
    # As deployed: the template always gives the watcher task-scoped volumes to empty between jobs.
    volume = tempfile.mkdtemp(prefix="watchbot-bench-volume-")
    env["Volumes"] = volume
    process = subprocess.Popen([*program, "listen", command], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    run = WatcherRun(process, command, volume, mark_at=mark_at)
    threading.Thread(target=run.read, daemon=True).start()
    try:
        run.wait(lambda: run.listening, 60)
        run.processes.extend(watcher_processes(process.pid, command))
    except BaseException:
        run.stop()
        raise
    threading.Thread(target=run.sample, daemon=True).start()
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


def run(server: MotoServer, name: str, command: str, concurrency: int, messages: int,
        ideal: float | None = None, program: Sequence[str] = PACKAGE_WATCHER) -> Result:
    """A throughput scenario: ``messages`` jobs of ``command``, the first WARMUP not counted."""
    url = new_queue(server, name.replace(" ", "-"))
    load = os.getloadavg()[0]
    watcher = start_watcher(server, url, command, concurrency, mark_at=(WARMUP, messages), program=program)
    try:
        feed(server, url, watcher, [(f"message {index}", None) for index in range(messages)])
        watcher.wait(lambda: watcher.finished >= messages)
    finally:
        watcher.stop()
    (start, cpu_start), (end, cpu_end) = watcher.marks[WARMUP], watcher.marks[messages]
    counted = messages - WARMUP
    return Result(name, concurrency, messages, counted / (end - start), 1000 * (cpu_end - cpu_start) / counted,
                  watcher.peak_mib, ideal, max(load, os.getloadavg()[0]))


def long_beside_short(server: MotoServer, shorts: int = 40) -> Elapsed:
    url = new_queue(server, "long-short")
    load = os.getloadavg()[0]
    command = 'echo "start $Message"; case "$Message" in long) sleep 20;; *) sleep 0.1;; esac'
    watcher = start_watcher(server, url, command, 4, mark_at=(shorts,))
    try:
        sqs = server.client("sqs")
        sqs.send_message(QueueUrl=url, MessageBody="long")
        watcher.wait(lambda: "start long" in watcher.worker_text, 60)
        began, cpu_began = time.monotonic(), watcher.cpu()
        for first in range(0, shorts, 10):
            sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(index), "MessageBody": f"short {index}"}
                for index in range(first, min(first + 10, shorts))])
        watcher.wait(lambda: watcher.finished >= shorts, 120)
    finally:
        watcher.stop()
    end, cpu_end = watcher.marks[shorts]
    return Elapsed("long-short", end - began, 1000 * (cpu_end - cpu_began) / shorts, watcher.peak_mib,
                   max(load, os.getloadavg()[0]), f"{shorts} jobs of 0.1 s beside one of 20 s, concurrency 4")


def fifo_groups(server: MotoServer, messages: int, groups: int = FIFO_GROUPS) -> Result:
    url = new_queue(server, "fifo", fifo=True)
    load = os.getloadavg()[0]
    watcher = start_watcher(server, url, 'echo "$Message"; sleep 0.1', 8, mark_at=(WARMUP, messages), Fifo="true")
    try:
        feed(server, url, watcher, [(f"g{index % groups} {index // groups}", f"g{index % groups}")
                                    for index in range(messages)])
        watcher.wait(lambda: watcher.finished >= messages)
    finally:
        watcher.stop()
    started: dict[str, list[int]] = {}
    for text in watcher.worker_text:
        group, sequence = text.split()
        started.setdefault(group, []).append(int(sequence))
    in_order = all(sequence == list(range(len(sequence))) for sequence in started.values())
    (start, cpu_start), (end, cpu_end) = watcher.marks[WARMUP], watcher.marks[messages]
    counted = messages - WARMUP
    return Result(f"FIFO {groups} groups, 100 ms jobs", 8, messages, counted / (end - start),
                  1000 * (cpu_end - cpu_start) / counted, watcher.peak_mib, None, max(load, os.getloadavg()[0]),
                  f"order held: {'yes' if in_order else 'NO'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer messages per scenario")
    parser.add_argument("--repeat", type=int, default=1, metavar="N", help="runs of each scenario (default 1)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="scenarios to run (default: all)")
    args = parser.parse_args()
    scale = 0.3 if args.quick else 1.0
    scenarios: dict[str, Callable[[MotoServer], Result | Elapsed | Ratio]] = {
        "no-op-1": lambda server: run(server, "no-op", "true", 1, int(400 * scale) + WARMUP),
        "no-op-8": lambda server: run(server, "no-op", "true", 8, int(1500 * scale) + WARMUP),
        "sleep-8": lambda server: run(server, "100 ms jobs", "sleep 0.1", 8, int(600 * scale) + WARMUP,
                                      ideal=80.0),
        "long-short": long_beside_short,
        "fifo-8": lambda server: fifo_groups(server, int(600 * scale) + WARMUP),
        "fifo-ratio": lambda server: Ratio(
            standard=run(server, "100 ms jobs", "sleep 0.1", 8, int(600 * scale) + WARMUP, ideal=80.0),
            fifo=fifo_groups(server, int(600 * scale) + WARMUP)),
    }
    # fifo-ratio runs sleep-8 and fifo-8 itself, side by side
    chosen = args.only or [name for name in scenarios if name not in ("sleep-8", "fifo-8")]
    unknown = [name for name in chosen if name not in scenarios]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}; choose from {', '.join(scenarios)}")
    print(f"watcher benchmark (moto server, Volumes set, visible messages <= {MAX_VISIBLE}, "
          f"first {WARMUP} jobs of a throughput run not counted; {os.cpu_count()} CPUs)", flush=True)
    results: dict[str, list[Result | Elapsed | Ratio]] = {}
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))  # stop what was started
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
            values = [result.figure[0] for result in runs]
            cpu = [result.cpu_per_1000 for result in runs]
            print(f"{name:<11} {statistics.median(values):8.2f} {runs[0].figure[1]:<6} ({min(values):.2f} to "
                  f"{max(values):.2f})  cpu {statistics.median(cpu):5.2f} s/1000 msgs ({min(cpu):.2f} to "
                  f"{max(cpu):.2f})  peak {max(result.peak_mib for result in runs):5.1f} MiB  "
                  f"load {min(result.load for result in runs):.1f} to {max(result.load for result in runs):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
