"""The watcher executable against the pip-installed watcher: size, start time, throughput, memory.

Run from the repository root (needs the bundle extra):

    python benchmarks/executable.py                 # builds the executable and a static one first
    python benchmarks/executable.py --executable dist/watchbot --quick

Start time is the median wall time of ``watchbot --version`` (the pip-installed
console script next to this Python, the executable, the static executable), and
of a start up to the watcher's first line ("listening on", boto3 loaded and the
client made) against a local moto server. Throughput, CPU and memory come from
benchmarks/watcher.py's scenarios, run for each program in turn on one moto
server; memory adds up the watcher's own processes (the unpackers and the
Python below them); each scenario runs ``--repeat`` times per program, the
programs taking turns, and the medians are kept (the machine's load moves single
runs by 20 % and more). The last lines compare each figure with the goals: at most
20 MB, ``--version`` within 0.5 s, throughput and memory within 10 % of the
pip-installed watcher.
"""

from __future__ import annotations

import argparse
import pathlib
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from watcher import WARMUP, Result, run  # noqa: E402

from tests.support.motoserver import REGION, MotoServer  # noqa: E402

MAX_BYTES = 20_000_000
MAX_VERSION_SECONDS = 0.5
TOLERANCE = 0.10


def version_times(programs: dict[str, Sequence[str]], runs: int) -> dict[str, tuple[float, float]]:
    """name -> median (wall, CPU) seconds of ``--version``; the programs take turns, so load hits all alike."""
    wall: dict[str, list[float]] = {name: [] for name in programs}
    cpu: dict[str, list[float]] = {name: [] for name in programs}
    for _ in range(runs):
        for name, program in programs.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run([*program, "--version"], env={}, capture_output=True, check=True)
            wall[name].append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return {name: (statistics.median(wall[name]), statistics.median(cpu[name])) for name in programs}


def listening_times(server: MotoServer, programs: dict[str, Sequence[str]], runs: int) -> dict[str, float]:
    """name -> median seconds from start to the watcher's first line, the programs taking turns."""
    url = server.client("sqs").create_queue(QueueName=f"start-{time.time_ns()}")["QueueUrl"]
    env = {"QueueUrl": url, "AWS_ENDPOINT_URL": server.endpoint, "AWS_REGION": REGION,
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "drainTimeout": "1"}
    times: dict[str, list[float]] = {name: [] for name in programs}
    for _ in range(runs):
        for name, program in programs.items():
            started = time.perf_counter()
            watcher = subprocess.Popen([*program, "listen", "true"], env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.DEVNULL)
            assert watcher.stdout
            watcher.stdout.readline()
            times[name].append(time.perf_counter() - started)
            watcher.terminate()
            watcher.wait(30)
    return {name: statistics.median(values) for name, values in times.items()}


def build(directory: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    from watchbot_cfn.bundle.build import build_watcher, find_tools, make_static

    dynamic = build_watcher(directory / "watchbot").path
    static = make_static(dynamic, directory / "watchbot-static", find_tools(static=True))
    return dynamic, static


def scenarios(server: MotoServer, programs: dict[str, Sequence[str]], scale: float,
              repeat: int) -> dict[str, list[Result]]:
    """name -> one Result per scenario: the medians of ``repeat`` runs, the programs taking turns."""
    plan = [("no-op", "true", 1, 400, None), ("no-op", "true", 8, 1500, None),
            ("100 ms jobs", "sleep 0.1", 8, 600, 80.0)]
    results: dict[str, list[Result]] = {name: [] for name in programs}
    for title, command, concurrency, messages, ideal in plan:
        runs: dict[str, list[Result]] = {name: [] for name in programs}
        for _ in range(repeat):
            for name, program in programs.items():
                runs[name].append(run(server, title, command, concurrency, int(messages * scale) + WARMUP,
                                      ideal=ideal, program=program))
        for name, rows in runs.items():
            results[name].append(replace(rows[0], rate=statistics.median(row.rate for row in rows),
                                         cpu_per_1000=statistics.median(row.cpu_per_1000 for row in rows),
                                         peak_mib=statistics.median(row.peak_mib for row in rows)))
    return results


def verdict(ok: bool) -> str:
    return "within the goal" if ok else "OUTSIDE the goal"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executable", type=pathlib.Path, help="a built executable (default: build one now)")
    parser.add_argument("--static-executable", type=pathlib.Path, help="a built --static executable")
    parser.add_argument("--quick", action="store_true", help="fewer messages and start-up runs")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each scenario per program (median kept)")
    args = parser.parse_args()
    scale, runs = (0.3, 10) if args.quick else (1.0, 30)
    # a SIGTERM unwinds like Ctrl-C, so the moto server and the scratch directory go too
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))

    with tempfile.TemporaryDirectory(prefix="watchbot-bench-") as scratch:
        if args.executable:
            dynamic, static = args.executable, args.static_executable
        else:
            print("building the executables ...", file=sys.stderr, flush=True)
            dynamic, static = build(pathlib.Path(scratch))
        console_script = pathlib.Path(sys.executable).with_name("watchbot")
        programs: dict[str, Sequence[str]] = {"pip-installed": [str(console_script)], "executable": [str(dynamic)]}
        if static:
            programs["static executable"] = [str(static)]

        print("size")
        for name, program in programs.items():
            if name != "pip-installed":
                size = pathlib.Path(program[0]).stat().st_size
                print(f"  {name:<18} {size / 1e6:6.1f} MB  {verdict(size <= MAX_BYTES)} (<= 20 MB)")
        print(f"start: medians of {runs} runs (CPU: user + system, all processes)")
        version = version_times(programs, runs)
        server = MotoServer().start()
        try:
            listening = listening_times(server, programs, max(5, runs // 3))
            for name in programs:
                wall, cpu = version[name]
                print(f"  {name:<18} --version {wall:5.3f} s (CPU {cpu:5.3f} s)   "
                      f"to 'listening on' {listening[name]:5.3f} s"
                      + ("" if name == "pip-installed" else
                         f"   --version {verdict(wall <= MAX_VERSION_SECONDS)} (<= 0.5 s)"))
            results = scenarios(server, programs, scale, args.repeat)
        finally:
            server.stop()

    print(f"throughput, CPU and memory (benchmarks/watcher.py's scenarios, medians of {args.repeat} runs each)")
    baseline = results["pip-installed"]
    for name, rows in results.items():
        print(f"  {name}")
        for row in rows:
            print(f"    {row.line()}")
    for name, rows in results.items():
        if name == "pip-installed":
            continue
        print(f"  {name} against pip-installed")
        for row, base in zip(rows, baseline, strict=True):
            rate, memory = row.rate / base.rate - 1, row.peak_mib / base.peak_mib - 1
            cpu = row.cpu_per_1000 / base.cpu_per_1000 - 1
            print(f"    {row.name:<12} concurrency {row.concurrency}: throughput {rate:+6.1%} "
                  f"({verdict(rate >= -TOLERANCE)}), memory {memory:+6.1%} ({verdict(memory <= TOLERANCE)}), "
                  f"CPU per message {cpu:+6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
