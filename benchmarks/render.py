"""Time ``watchbot-cfn render`` as a whole process, the way CI and people run it.

Each run is a fresh process (interpreter start, imports, validation, building,
JSON), so import cost counts. Prints the median and p90 wall time and the peak
resident memory per run (from ``wait4``'s rusage, in MiB), and exits 1 when a
budget or a goal is missed.

Machines differ, so the goal is a ratio measured in the same run: render against
a process that only imports the troposphere and awacs modules render loads (its
dependencies' floor), interleaved run by run; goal at most RATIO_GOAL. The
``watchbot-cfn`` script tunes Python's garbage collector for a process that ends
after one command (``cli.main.console``), which also speeds up the dependencies'
share of the work; so two more rows give each side the other's setting: render
through ``main()`` with Python's default collector, and the floor with the
script's collector settings. The
``--help`` of ``watchbot-cfn`` and ``watchbot-dead-letter`` are timed too (goal
HELP_GOAL_SECONDS each). Measure an installed copy (``pip install .``): an
editable install adds its import hook to every process.

    python benchmarks/render.py                 # 20 runs of examples/minimal.toml
    python benchmarks/render.py --runs 50 --source examples/two-systems.toml
"""

from __future__ import annotations

import argparse
import json
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
RATIO_GOAL = 1.25
HELP_GOAL_SECONDS = 0.15


def command(script: str = "watchbot-cfn", module: str = "watchbot_cfn.cli.main") -> list[str]:
    """The console script next to this interpreter, else on PATH, else ``python -m``."""
    beside = Path(sys.executable).with_name(script)
    if beside.exists():
        return [str(beside)]
    found = shutil.which(script)
    return [found] if found else [sys.executable, "-m", module]


def dependency_floor(source: str) -> list[str]:
    """A process that imports exactly the troposphere and awacs modules rendering ``source`` loads."""
    probe = ("import json, sys\n"
             f"sys.argv = ['watchbot-cfn', 'render', {source!r}]\n"
             "from watchbot_cfn.cli.main import main\n"
             "main()\n"
             "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('troposphere', 'awacs'))))")
    # -I: not this directory's sources, so the probe loads what the installed copy loads
    output = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True, check=True,
                            cwd=REPO).stdout  # the template, then the list of modules on the last line
    modules = json.loads(output.strip().splitlines()[-1])
    return [sys.executable, "-I", "-c", "import " + ", ".join(modules)]


def with_console_collector(floor: list[str]) -> list[str]:
    """The floor, with the collector set as the ``watchbot-cfn`` script sets it (``cli.main.console``)."""
    from watchbot_cfn.cli.main import GC_EVERY

    imports = floor[-1]
    return [*floor[:-1], f"import gc\ngc.set_threshold({GC_EVERY}, *gc.get_threshold()[1:])\n{imports}\ngc.freeze()"]


def default_collector(source: str) -> list[str]:
    """Render through ``main()``, which leaves Python's collector as it is."""
    code = ("import sys\nfrom watchbot_cfn.cli.main import main\n"
            f"sys.exit(main(['render', {source!r}]))")
    return [sys.executable, "-I", "-c", code]


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
    floor = dependency_floor(args.source)
    others = {"default": default_collector(args.source), "tuned floor": with_console_collector(floor)}
    helps = {"watchbot-cfn --help": [*command(), "--help"],
             "watchbot-dead-letter --help": [*command("watchbot-dead-letter", "watchbot_cfn.cli.dead_letter"),
                                             "--help"]}
    for _ in range(args.warmup):
        run_once(argv)
        run_once(floor)
    samples, floors = [], []
    other_times: dict[str, list[float]] = {name: [] for name in others}
    help_times: dict[str, list[float]] = {name: [] for name in helps}
    for _ in range(args.runs):  # interleaved, so a busy moment costs both sides alike
        samples.append(run_once(argv))
        floors.append(run_once(floor)[0])
        for name, other_argv in others.items():
            other_times[name].append(run_once(other_argv)[0])
        for name, help_argv in helps.items():
            help_times[name].append(run_once(help_argv)[0])
    times = [t for t, _ in samples]
    memory = [m for _, m in samples]
    median, p90, peak = statistics.median(times), percentile(times, 0.9), max(memory)
    ratio = median / statistics.median(floors)
    print(f"{' '.join(argv[-3:])}: {args.runs} runs")
    print(f"  wall time  median {median:.3f} s   p90 {p90:.3f} s   (budget {BUDGET_SECONDS} s median)")
    print(f"  importing its {len(floor[-1].split(','))} troposphere/awacs modules alone: median "
          f"{statistics.median(floors):.3f} s")
    print(f"  ratio      {ratio:.2f}   (goal at most {RATIO_GOAL})")
    default, tuned = (statistics.median(other_times[name]) for name in ("default", "tuned floor"))
    print("  one collector setting on both sides:")
    print(f"    render with Python's default collector: median {default:.3f} s, "
          f"{default / statistics.median(floors):.2f} x the import")
    print(f"    the import with the script's collector settings: median {tuned:.3f} s; render is "
          f"{ratio * statistics.median(floors) / tuned:.2f} x that")
    for name, values in help_times.items():
        print(f"  {name:<28} median {statistics.median(values):.3f} s   (goal under {HELP_GOAL_SECONDS} s)")
    print(f"  peak RSS   median {statistics.median(memory):.1f} MiB   max {peak:.1f} MiB   "
          f"(budget {BUDGET_MIB:.0f} MiB)")
    missed = ratio > RATIO_GOAL or any(statistics.median(values) >= HELP_GOAL_SECONDS
                                        for values in help_times.values())
    over = median > BUDGET_SECONDS or peak > BUDGET_MIB or missed
    if over:
        print("  over budget: profile with  python -X importtime -m watchbot_cfn.cli.main render "
              f"{args.source} >/dev/null", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
