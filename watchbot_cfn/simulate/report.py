"""The summary a simulation prints: what was read from the template, what was assumed, what came out."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from typing import Any

from watchbot_cfn.simulate.alarms import AlarmSpec
from watchbot_cfn.simulate.model import Result, Settings
from watchbot_cfn.simulate.policies import StepPolicy, TargetTrackingPolicy
from watchbot_cfn.simulate.reader import Setup
from watchbot_cfn.simulate.trace import Trace

__all__ = ["TRACE_TITLES", "WIDTH", "capped_minutes", "comparison_markdown", "figures_json", "summary"]

#: The summary's lines fit this many columns.
WIDTH = 96


def figures_json(result: Result) -> str:
    """Exactly the keys max_tasks, p95_wait_seconds, task_minutes, interrupted_jobs, drained_minute."""
    return json.dumps(result.figures()) + "\n"


def _policy(policy: StepPolicy | TargetTrackingPolicy) -> str:
    if isinstance(policy, StepPolicy):
        exact = policy.adjustment_type == "ExactCapacity"
        steps = ", ".join(_step(step.lower, step.upper, step.adjustment, exact) for step in policy.steps)
        return (f"step {policy.adjustment_type} [{steps}], {policy.aggregation.lower()} of datapoints, "
                f"cooldown {policy.cooldown} s")
    scale_in = "no scale-in" if policy.disable_scale_in else f"in after {policy.scale_in_cooldown} s"
    return (f"target tracking at {policy.target:g}, cooldowns out {policy.scale_out_cooldown} s, "
            f"{scale_in}")


def _step(lower: float | None, upper: float | None, adjustment: float, exact: bool) -> str:
    low = "-inf" if lower is None else f"{lower:g}"
    high = "+inf" if upper is None else f"{upper:g}"
    return f"{low}..{high}: " + (f"={adjustment:g}" if exact else f"{adjustment:+g}")


_SIGNAL_LABELS = {
    "visible": "visible", "in_flight": "in flight", "oldest_age": "age of oldest", "sent": "sent",
    "received": "received", "deleted": "deleted", "running_tasks": "running tasks",
    "pending_tasks": "pending tasks", "desired_tasks": "desired tasks", "utilization": "utilization %",
}


def _alarm(alarm: AlarmSpec) -> str:
    signals = ", ".join(_SIGNAL_LABELS[signal] for signal in
                        sorted({q.signal for q in alarm.queries if q.signal} - {"zero"})) or "constant"
    math_used = " (metric math)" if any(q.expression is not None for q in alarm.queries) else ""
    symbol = {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">=", "LessThanThreshold": "<",
              "LessThanOrEqualToThreshold": "<="}[alarm.comparison]
    return (f"{signals}{math_used} {symbol} {alarm.threshold:g}, {alarm.datapoints_to_alarm} of "
            f"{alarm.evaluation_periods} x {alarm.period_seconds} s, missing data: {alarm.treat_missing}")


def _short(name: str, limit: int = 48) -> str:
    """Long generated logical ids (CDK's) keep their start and their unique end."""
    if len(name) <= limit:
        return name
    keep = (limit - 3) // 2
    return f"{name[:keep]}...{name[-(limit - 3 - keep):]}"


def _wrapped(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, width=WIDTH, initial_indent=indent, subsequent_indent=indent + "    ",
                         break_on_hyphens=False)


def capped_minutes(result: Result, max_capacity: int) -> int:
    """Minutes the desired count sat at MaxCapacity while messages waited: the cap, not the policy, set the pace."""
    return sum(1 for desired, visible in zip(result.desired, result.visible, strict=True)
               if desired >= max_capacity and visible > 0)


def summary(setup: Setup, settings: Settings, trace: Trace, result: Result, source: str) -> str:
    lines = _wrapped(f"{source}: {_short(setup.target)}, {setup.min_capacity} to {setup.max_capacity} tasks", "")
    for alarm in setup.alarms:
        for state, names in alarm.actions.items():
            for name in names:
                when = "" if state == "ALARM" else f" (in {state})"
                lines += _wrapped(f"alarm {_short(alarm.name)}{when}: {_alarm(alarm)}", "  ")
                lines += _wrapped(f"-> {_short(name)}: {_policy(setup.policies[name])}", "    ")
    lines += _wrapped(f"tasks: {setup.concurrency} job(s) at a time ({setup.concurrency_source}), "
                      f"start {settings.start_seconds:g} s after launch", "  ")
    if setup.protection:
        lines += _wrapped(f"scale-in protection: on ({setup.protection_source}); a task running a job is not "
                          "stopped by scale-in", "  ")
    else:
        lines += _wrapped(f"scale-in protection: off ({setup.protection_source}); a stopped task's jobs " + (
            f"may finish for {setup.drain_seconds:g} s (the watcher's drain), the rest return at once"
            if setup.watcher else f"end, their messages reappear after {setup.visibility_timeout:g} s"), "  ")
    for note in setup.notes:
        lines += _wrapped(f"note: {note}", "  ")
    jobs = sorted({row.job_seconds for row in trace.rows if row.job_seconds is not None})
    job_text = f"{settings.job_seconds:g} s" + (f" (trace rows: {', '.join(f'{j:g}' for j in jobs)} s)"
                                                 if jobs else "")
    lines += _wrapped(f"{trace.origin}: {trace.total_messages:,} messages in minutes 0 to {trace.last_minute}, "
                      f"jobs {job_text}", "")
    lines.append("")
    p95 = result.p95_wait_seconds
    drained = ("not drained" if result.drained_minute is None
               else f"minute {result.drained_minute}")
    lines += [
        f"max tasks          {result.max_tasks}",
        f"p95 wait           {p95:,.1f} s ({p95 / 60:,.1f} min)",
        f"task-minutes       {result.task_minutes:,.1f}",
        f"interrupted jobs   {result.interrupted_jobs}",
        f"drained            {drained} ({result.completed:,} of {result.messages:,} messages done; "
        f"run of {result.minutes} minutes)",
        f"scaling activities {len(result.activities)}",
    ]
    capped = capped_minutes(result, setup.max_capacity)
    if capped:
        tasks = f"{setup.max_capacity} task" + ("" if setup.max_capacity == 1 else "s")
        text = (f"{capped:,} minutes at MaxCapacity ({tasks}) with messages waiting: max_size caps this system; "
                "raise it to drain sooner")
        lines[-1:-1] = textwrap.wrap(text, width=WIDTH, initial_indent="capped             ",
                                     subsequent_indent=" " * 19, break_on_hyphens=False)
    for activity in result.activities[:_SHOWN_ACTIVITIES]:
        lines.append(f"  minute {activity.second / 60:>5g}: {activity.before} -> {activity.after} tasks "
                     f"({_short(activity.policy)})")
    if len(result.activities) > _SHOWN_ACTIVITIES:
        lines.append(f"  ... {len(result.activities) - _SHOWN_ACTIVITIES} more")
    return "\n".join(lines) + "\n"


_SHOWN_ACTIVITIES = 12


#: Headings of the example traces in docs/scaling.md.
TRACE_TITLES = {"burst": "Burst", "steady": "Steady flow", "daily-wave": "Daily wave",
                "long-and-short": "Long and short jobs"}


def comparison_markdown(templates: Mapping[str, Mapping[str, Any]], traces: Mapping[str, Trace]) -> str:
    """docs/scaling.md's comparison: per trace, the figures (protection off and on) and each chart."""
    from watchbot_cfn.simulate.chart import text_chart
    from watchbot_cfn.simulate.model import simulate
    from watchbot_cfn.simulate.reader import read_setup

    out: list[str] = []
    for trace_name, trace in traces.items():
        out += [f"#### {TRACE_TITLES.get(trace_name, trace_name)} (`{trace_name}.csv`)", "",
                "| template | protection | max_tasks | p95_wait_seconds | task_minutes | interrupted_jobs "
                "| drained_minute |", "|---|---|---:|---:|---:|---:|---:|"]
        charts: list[str] = []
        for name, body in templates.items():
            for protection in (False, True):
                result = simulate(read_setup(body, protection=protection), trace)
                figures = result.figures()
                drained = "never" if figures["drained_minute"] is None else figures["drained_minute"]
                out.append(f"| {name} | {'on' if protection else 'off'} | {figures['max_tasks']} | "
                           f"{figures['p95_wait_seconds']:,} | {figures['task_minutes']:,} | "
                           f"{figures['interrupted_jobs']} | {drained} |")
                if not protection:
                    charts += [f"<details><summary>{name}: chart (protection off)</summary>", "", "```text",
                               text_chart(result).rstrip("\n"), "```", "", "</details>", ""]
        out += ["", *charts]
    return "\n".join(out) + "\n"
