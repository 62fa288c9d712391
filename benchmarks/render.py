"""Time ``watchbot-cfn render`` as a whole process, the way CI and people run it.

Each run is a fresh process (interpreter start, imports, validation, building,
JSON), so import cost counts. Prints the median and p90 wall time and the peak
resident memory per run (from ``wait4``'s rusage, in MiB), and exits 1 when a
budget is exceeded.

    python benchmarks/render.py                 # 20 runs of examples/minimal.toml
    python benchmarks/render.py --runs 50 --source examples/two-systems.toml
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 0.4
BUDGET_MIB = 80.0


def command() -> list[str]:
    """The console script next to this interpreter, else on PATH, else ``python -m``."""
    beside = Path(sys.executable).with_name("watchbot-cfn")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("watchbot-cfn")
    return [found] if found else [sys.executable, "-m", "watchbot_cfn.cli.main"]


def run_once(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"render failed ({process.returncode}): {error.strip()}")
    if process.stderr:
        process.stderr.close()
    return elapsed, usage.ru_maxrss / 1024  # Linux reports KiB


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="processes to time (default: 20)")
    parser.add_argument("--source", default="examples/minimal.toml", help="what to render")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs first, to warm file caches")
    args = parser.parse_args()

    argv = [*command(), "render", args.source]
    for _ in range(args.warmup):
        run_once(argv)
    samples = [run_once(argv) for _ in range(args.runs)]
    times = [t for t, _ in samples]
    memory = [m for _, m in samples]
    median, p90, peak = statistics.median(times), percentile(times, 0.9), max(memory)
    print(f"{' '.join(argv[-3:])}: {args.runs} runs")
    print(f"  wall time  median {median:.3f} s   p90 {p90:.3f} s   (budget {BUDGET_SECONDS} s median)")
    print(f"  peak RSS   median {statistics.median(memory):.1f} MiB   max {peak:.1f} MiB   "
          f"(budget {BUDGET_MIB:.0f} MiB)")
    over = median > BUDGET_SECONDS or peak > BUDGET_MIB
    if over:
        print("  over budget: profile with  python -X importtime -m watchbot_cfn.cli.main render "
              f"{args.source} >/dev/null", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
