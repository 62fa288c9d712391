"""``watchbot-cfn simulate``: replay a template's scaling against a trace of arriving messages.

The command takes a rendered template (.json/.yaml) or any SOURCE that
``render`` accepts (rendered first), reads its alarms and scaling policies and
prints a chart and a summary, or with ``--json`` only the figures. Everything
is validated (trace, template, options, matplotlib for ``--png``) before the
simulation runs, so an error never leaves half an output.
"""

from __future__ import annotations

import argparse
import math
import sys
import textwrap
from pathlib import Path

from watchbot_cfn.cli.arguments import TEMPLATE_OR_SOURCE_HELP, describe
from watchbot_cfn.errors import WatchbotError
from watchbot_cfn.sources.templatefile import load_template

__all__ = ["add_arguments", "load_template", "run"]

HELP_EPILOG = """\
trace: CSV lines minute,messages[,job_seconds] (header optional, # comments
allowed); job_seconds sets the duration of that row's jobs, so one trace can
mix long and short jobs. Task protection is read from the template (a
taskProtection container variable, else a task role that may call
ecs:UpdateTaskProtection); --protection overrides it. What the model covers:
docs/scaling.md.

Example: watchbot-cfn simulate examples/traces/queue-depth.toml --trace examples/traces/burst.csv
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        description=textwrap.fill("Replay the scaling alarms and policies of a template (or of a SOURCE, "
                                  "rendered first) minute by minute against a trace of arriving messages, and "
                                  "print a chart of arrivals, backlog and tasks with a summary.", width=78),
        epilog=HELP_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target_file", metavar="SOURCE_OR_TEMPLATE",
                        help=TEMPLATE_OR_SOURCE_HELP)
    parser.add_argument("--trace", required=True, metavar="FILE", help="CSV of arrivals: minute,messages[,job_seconds]")
    parser.add_argument("--job-seconds", type=_positive_seconds, metavar="S",
                        help="duration of each job where the trace does not say (default: 60)")
    parser.add_argument("--start-seconds", type=_seconds, metavar="S",
                        help="seconds from launching a task until it takes messages (default: 60)")
    parser.add_argument("--concurrency", type=_concurrency, metavar="N",
                        help="jobs per task (default: the container's concurrency variable, else 1)")
    parser.add_argument("--protection", choices=("on", "off"),
                        help="task scale-in protection while jobs run (default: read from the template)")
    parser.add_argument("--target", metavar="ID", dest="scalable_target",
                        help="logical id of the ScalableTarget, when the template scales several services")
    parser.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE",
                        help="value of a template parameter (default: its Default); repeat for several")
    parser.add_argument("--json", action="store_true",
                        help="print only the figures: max_tasks, p95_wait_seconds, task_minutes, interrupted_jobs, "
                             "drained_minute")
    parser.add_argument("--png", metavar="FILE", help="also draw the chart to FILE (needs matplotlib)")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 43_200:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0 to 43200")
    return value


def _positive_seconds(text: str) -> float:
    value = _seconds(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be above 0 seconds")
    return value


def _concurrency(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to 1000")
    return value


def _parameters(pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise WatchbotError(f"--parameter {pair!r}: expected NAME=VALUE")
        values[name] = value
    return values


def run(args: argparse.Namespace) -> int:
    from watchbot_cfn.simulate import Settings, load_trace, read_setup, simulate
    from watchbot_cfn.simulate.chart import png_available, text_chart, write_png
    from watchbot_cfn.simulate.model import DEFAULT_JOB_SECONDS, DEFAULT_START_SECONDS
    from watchbot_cfn.simulate.report import figures_json, summary

    if args.png and not png_available():
        raise WatchbotError("--png needs matplotlib, which is not installed; pip install 'watchbot-cfn[plot]'")
    if args.png and not Path(args.png).resolve().parent.is_dir():
        raise WatchbotError(f"--png {args.png}: the directory does not exist")
    trace = load_trace(args.trace)
    parameters = _parameters(args.parameter)
    protection = None if args.protection is None else args.protection == "on"
    setup = read_setup(load_template(args.target_file), target=args.scalable_target, parameters=parameters,
                       concurrency=args.concurrency, protection=protection)
    settings = Settings(
        job_seconds=DEFAULT_JOB_SECONDS if args.job_seconds is None else args.job_seconds,
        start_seconds=DEFAULT_START_SECONDS if args.start_seconds is None else args.start_seconds,
    )
    result = simulate(setup, trace, settings)
    if args.png:
        write_png(result, args.png, f"{Path(args.target_file).name} / {Path(args.trace).name}")
    if args.json:
        sys.stdout.write(figures_json(result))
    else:
        sys.stdout.write(text_chart(result) + "\n" + summary(setup, settings, trace, result, args.target_file))
    sys.stdout.flush()
    return 0
