"""The four example traces against this project's two scaling modes and CDK's pattern.

These assert behaviour the docs rely on (docs/scaling.md, "Simulated
comparison"), not exact figures: a model change that keeps the behaviour keeps
the tests.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from watchbot_cfn.cli.templatefile import load_template
from watchbot_cfn.simulate import Result, load_trace, read_setup, simulate

REPO = Path(__file__).resolve().parents[2]
TRACES = REPO / "examples" / "traces"
CDK = Path(__file__).resolve().parent / "data" / "cdk-queue-processing.template.json"
TRACE_NAMES = ("burst", "steady", "daily-wave", "long-and-short")
TEMPLATES = ("queue-depth", "backlog-per-task", "cdk")


@functools.cache
def body(name: str) -> dict:
    if name == "cdk":
        return json.loads(CDK.read_text())
    return load_template(str(TRACES / f"{name}.toml"))


@functools.cache
def run(template: str, trace: str, protection: bool | None = None) -> Result:
    return simulate(read_setup(body(template), protection=protection), load_trace(str(TRACES / f"{trace}.csv")))


def test_the_traces_are_what_the_docs_say():
    assert load_trace(str(TRACES / "burst.csv")).total_messages == 2000
    assert load_trace(str(TRACES / "steady.csv")).arrivals_per_minute() == [20] * 180
    wave = load_trace(str(TRACES / "daily-wave.csv"))
    per_minute = wave.arrivals_per_minute()
    assert (len(per_minute), max(per_minute), per_minute[0], per_minute[720]) == (1440, 40, 0, 40)
    mixed = load_trace(str(TRACES / "long-and-short.csv"))
    assert {row.job_seconds for row in mixed.rows} == {60.0, 1800.0}


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("trace", TRACE_NAMES)
def test_no_job_is_interrupted_with_task_protection(template, trace):
    assert run(template, trace, protection=True).interrupted_jobs == 0


@pytest.mark.parametrize("trace", TRACE_NAMES)
def test_idle_scale_in_never_interrupts_even_without_protection(trace):
    for template in ("queue-depth", "backlog-per-task"):
        result = run(template, trace)
        assert read_setup(body(template)).protection is False
        assert result.interrupted_jobs == 0
        assert result.completed == result.messages
        assert result.tasks[-1] == 0  # back to min_size once idle


def test_cdk_scales_in_on_visible_messages_alone_and_interrupts_jobs():
    for trace in ("steady", "long-and-short"):
        assert run("cdk", trace).interrupted_jobs > 0
        assert run("cdk", trace, protection=True).interrupted_jobs == 0


def test_cdk_never_starts_a_task_for_fewer_than_100_waiting_messages():
    result = run("cdk", "daily-wave")
    left = result.messages - result.completed
    assert result.drained_minute is None
    assert 0 < left < 100
    assert result.tasks[-1] == 0 and result.visible[-1] == left


def test_burst_queue_depth_adds_a_fixed_step_per_cooldown():
    result = run("queue-depth", "burst")
    outs = [(a.second / 60, a.after - a.before) for a in result.activities if a.after > a.before]
    assert outs[:3] == [(2, 5), (7, 5), (12, 5)]
    assert result.max_tasks == 50


def test_burst_backlog_mode_reaches_its_capacity_in_two_evaluations_and_drains_sooner():
    backlog, depth = run("backlog-per-task", "burst"), run("queue-depth", "burst")
    outs = [a for a in backlog.activities if a.after > a.before]
    assert outs[-1].after == 50 and len(outs) == 2
    assert backlog.drained_minute < depth.drained_minute
    assert backlog.p95_wait_seconds < depth.p95_wait_seconds


def test_steady_flow_backlog_mode_runs_fewer_tasks_than_queue_depth():
    backlog, depth = run("backlog-per-task", "steady"), run("queue-depth", "steady")
    assert backlog.task_minutes < depth.task_minutes
    assert backlog.max_tasks < depth.max_tasks


def test_the_chart_series_cover_every_minute_of_the_run():
    result = run("queue-depth", "long-and-short")
    lengths = {len(series) for series in (result.arrivals, result.visible, result.in_flight, result.tasks,
                                          result.desired)}
    assert lengths == {result.minutes}
    assert sum(result.arrivals) == result.messages
