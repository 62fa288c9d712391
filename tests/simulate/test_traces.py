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

from watchbot_cfn.simulate import Result, load_trace, read_setup, simulate
from watchbot_cfn.sources.templatefile import load_template

REPO = Path(__file__).resolve().parents[2]
TRACES = REPO / "examples" / "traces"
CDK = Path(__file__).resolve().parents[1] / "fixtures" / "cdk-queue-processing" / "stack.template.json"
TRACE_NAMES = ("burst", "steady", "daily-wave", "long-and-short")
TEMPLATES = ("backlog", "queue-depth", "backlog-per-task", "cdk")


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
        assert read_setup(body(template)).protection is True  # the templates protect busy tasks by default
        result = run(template, trace, protection=False)
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


def test_backlog_mode_jumps_to_max_size_at_the_first_evaluation_of_a_burst():
    result = run("backlog", "burst")
    outs = [(a.second / 60, a.after) for a in result.activities if a.after > a.before]
    assert outs == [(2, 50)]  # minute 0's datapoint, ingested a minute later, evaluated at the end of minute 1
    assert result.drained_minute < run("backlog-per-task", "burst").drained_minute


def test_backlog_mode_starts_one_task_for_one_message_within_one_alarm_period(tmp_path):
    trace = tmp_path / "one.csv"
    trace.write_text("minute,messages\n0,1\n")
    result = simulate(read_setup(body("backlog")), load_trace(str(trace)))
    [first, *rest] = [a for a in result.activities if a.after > a.before]
    assert (first.second, first.before, first.after) == (120, 0, 1)
    assert result.max_tasks == 1 and result.tasks[-1] == 0


def test_backlog_mode_follows_the_daily_wave_down_as_well_as_up():
    backlog = run("backlog", "daily-wave")
    others = [run(mode, "daily-wave") for mode in ("queue-depth", "backlog-per-task")]
    assert all(backlog.task_minutes < 0.8 * other.task_minutes for other in others)
    assert backlog.p95_wait_seconds <= min(other.p95_wait_seconds for other in others) + 60
    ins = [a for a in backlog.activities if a.after < a.before]
    assert len(ins) > 10  # gradually, not all at once when the queue is idle
    assert backlog.tasks[-1] == 0


@pytest.mark.parametrize("trace", TRACE_NAMES)
def test_backlog_mode_beats_queue_depth_on_wait_and_cost_and_interrupts_nothing_with_protection(trace):
    backlog, depth = run("backlog", trace), run("queue-depth", trace)
    assert backlog.interrupted_jobs == 0 and backlog.completed == backlog.messages
    assert backlog.p95_wait_seconds <= depth.p95_wait_seconds + 5  # the daily wave: 2 s against 0 s
    assert backlog.task_minutes <= depth.task_minutes


def test_backlog_mode_needs_protection_when_it_scales_in_under_load():
    assert run("backlog", "daily-wave", protection=False).interrupted_jobs > 0


def test_the_chart_series_cover_every_minute_of_the_run():
    result = run("queue-depth", "long-and-short")
    lengths = {len(series) for series in (result.arrivals, result.visible, result.in_flight, result.tasks,
                                          result.desired)}
    assert lengths == {result.minutes}
    assert sum(result.arrivals) == result.messages
