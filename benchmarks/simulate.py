"""Time ``watchbot-cfn simulate`` in-process and print the figures of the scaling comparison.

Runs every example trace (examples/traces/*.csv) against the backlog,
queue-depth and backlog-per-task examples and, when given, other templates (such as AWS CDK's
QueueProcessingFargateService), without and with task protection. Prints one
line per run: the five figures ``--json`` reports and the median wall time of
the simulation alone (template reading excluded). Exits 1 when a day of
traffic takes longer than the budget.

    python benchmarks/simulate.py
    python benchmarks/simulate.py --runs 5 --template cdk=tests/fixtures/cdk-queue-processing/stack.template.json
    python benchmarks/simulate.py --template cdk=tests/fixtures/cdk-queue-processing/stack.template.json --markdown
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TRACES = REPO / "examples" / "traces"
#: A simulated day of traffic must take well under a second.
BUDGET_SECONDS = 0.5
TRACE_NAMES = ("burst", "steady", "daily-wave", "long-and-short")
#: Scaling modes compared; examples/traces/<mode>.toml holds each one's worker.
MODES = ("backlog", "queue-depth", "backlog-per-task")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="simulations to time per case (default: 3)")
    parser.add_argument("--template", action="append", default=[], metavar="NAME=FILE",
                        help="another template or source to compare; repeat for several")
    parser.add_argument("--markdown", action="store_true",
                        help="print the figures and charts as the Markdown of docs/scaling.md instead")
    args = parser.parse_args()

    from watchbot_cfn.simulate import load_trace, read_setup, simulate
    from watchbot_cfn.sources.templatefile import load_template

    templates = {mode: str(TRACES / f"{mode}.toml") for mode in MODES}
    for item in args.template:
        name, _, path = item.partition("=")
        templates[name] = path
    bodies = {name: load_template(path) for name, path in templates.items()}
    if args.markdown:
        from watchbot_cfn.simulate.report import comparison_markdown

        traces = {name: load_trace(str(TRACES / f"{name}.csv")) for name in TRACE_NAMES}
        print(comparison_markdown(bodies, traces), end="")
        return 0
    worst_day = 0.0
    print(f"{'trace':<15} {'template':<17} {'protection':<10} {'max':>4} {'p95 s':>8} {'task-min':>9} "
          f"{'interr.':>7} {'drained':>7} {'ms':>6}")
    for trace_name in TRACE_NAMES:
        trace = load_trace(str(TRACES / f"{trace_name}.csv"))
        for name, body in bodies.items():
            for protection in (False, True):
                setup = read_setup(body, protection=protection)
                times = []
                for _ in range(args.runs):
                    start = time.perf_counter()
                    result = simulate(setup, trace)
                    times.append(time.perf_counter() - start)
                median = statistics.median(times)
                if trace.last_minute >= 1000:
                    worst_day = max(worst_day, median)
                figures = result.figures()
                drained = "-" if figures["drained_minute"] is None else figures["drained_minute"]
                print(f"{trace_name:<15} {name:<17} {'on' if protection else 'off':<10} {figures['max_tasks']:>4} "
                      f"{figures['p95_wait_seconds']:>8} {figures['task_minutes']:>9} "
                      f"{figures['interrupted_jobs']:>7} {drained:>7} {median * 1000:>6.0f}")
    print(f"slowest simulated day: {worst_day * 1000:.0f} ms (budget {BUDGET_SECONDS * 1000:.0f} ms)")
    return 1 if worst_day > BUDGET_SECONDS else 0


if __name__ == "__main__":
    sys.exit(main())
