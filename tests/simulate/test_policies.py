"""Step bounds, adjustment types, cooldowns, target tracking and alarm states, one rule at a time."""

from __future__ import annotations

import pytest

from watchbot_cfn.simulate.alarms import ALARM, INSUFFICIENT_DATA, OK, AlarmSpec, AlarmTracker, Query
from watchbot_cfn.simulate.metrics import MetricStore
from watchbot_cfn.simulate.policies import (
    Invocation,
    Scaler,
    StepAdjustment,
    StepPolicy,
    TargetTrackingPolicy,
)

# --- step bounds: relative to the threshold, inclusive on the side away from it ------

@pytest.mark.parametrize(("breach", "above", "lower", "upper", "expected"), [
    (0, True, 0, 400, True),       # CDK's upper alarm (>= 100) at exactly 100
    (400, True, 0, 400, False),    # upper bound exclusive above the threshold
    (400, True, 400, None, True),
    (0, False, None, 0, True),     # CDK's lower alarm (<= 0) at exactly 0
    (-1, False, -1, 0, False),     # lower bound exclusive below the threshold
    (-1, False, None, -1, True),   # upper bound inclusive below the threshold
    (-0.5, False, -1, 0, True),
])
def test_step_interval_bounds(breach, above, lower, upper, expected):
    assert StepAdjustment(lower, upper, 1).matches(breach, above) is expected


def step(adjustment_type: str, steps, aggregation="Maximum", magnitude=None) -> StepPolicy:
    return StepPolicy("p", adjustment_type, tuple(StepAdjustment(*s) for s in steps), 300, aggregation, magnitude)


def test_adjustment_types():
    points = [7.0]
    assert step("ChangeInCapacity", [(0, None, 3)]).capacity(points, 5, True, 4) == 7
    assert step("ExactCapacity", [(0, None, 3)]).capacity(points, 5, True, 9) == 3
    assert step("PercentChangeInCapacity", [(0, None, 50)]).capacity(points, 5, True, 5) == 7   # 2.5 -> 2
    assert step("PercentChangeInCapacity", [(0, None, 10)]).capacity(points, 5, True, 3) == 4   # 0.3 -> 1
    assert step("PercentChangeInCapacity", [(0, None, -50)]).capacity(points, 5, True, 5) == 3  # -2.5 -> -2
    assert step("PercentChangeInCapacity", [(0, None, 10)], magnitude=3).capacity(points, 5, True, 10) == 13


def test_metric_aggregation_picks_the_value_the_steps_read():
    steps = [(None, 5, 1), (5, None, 2)]
    points = [1.0, None, 11.0]   # threshold 0: breaches 1 and 11
    assert step("ChangeInCapacity", steps, "Maximum").capacity(points, 0, True, 0) == 2
    assert step("ChangeInCapacity", steps, "Minimum").capacity(points, 0, True, 0) == 1
    assert step("ChangeInCapacity", steps, "Average").capacity(points, 0, True, 0) == 2   # 6
    assert step("ChangeInCapacity", steps).capacity([None], 0, True, 0) is None


def test_no_matching_step_means_no_change():
    assert step("ChangeInCapacity", [(0, 10, 1)]).capacity([50.0], 0, True, 2) is None


# --- cooldowns --------------------------------------------------------------------------

def invoke(policy, value, threshold=0.0, above=True):
    return [Invocation(policy, [value], threshold, above)]


def test_scale_out_cooldown_holds_the_same_step_and_lets_a_larger_one_add_the_difference():
    scaler = Scaler(0, 20)
    small = step("ChangeInCapacity", [(0, 10, 2), (10, None, 5)])
    assert scaler.decide(0, 0, invoke(small, 1)).after == 2
    assert scaler.decide(60, 2, invoke(small, 1)) is None          # same step, cooling
    assert scaler.decide(120, 2, invoke(small, 50)).after == 5     # base 0 + 5, not 2 + 5
    assert scaler.decide(180, 5, invoke(small, 50)) is None
    assert scaler.decide(420, 5, invoke(small, 50)).after == 10    # 120 + 300: cooled down


def test_scale_in_cooldown_blocks_until_it_ends_and_a_scale_out_ends_it():
    scaler = Scaler(0, 20)
    down = step("ChangeInCapacity", [(None, 0, -1)])
    up = StepPolicy("up", "ChangeInCapacity", (StepAdjustment(0, None, 1),))
    assert scaler.decide(0, 5, invoke(down, -1, above=False)).after == 4
    assert scaler.decide(60, 4, invoke(down, -1, above=False)) is None
    assert scaler.decide(120, 4, invoke(up, 1)).after == 5
    assert scaler.decide(180, 5, invoke(down, -1, above=False)).after == 4  # the scale-out ended the cooldown
    assert scaler.decide(479, 4, invoke(down, -1, above=False)) is None
    assert scaler.decide(480, 4, invoke(down, -1, above=False)).after == 3


def test_simultaneous_policies_scale_out_wins_then_largest_capacity():
    scaler = Scaler(1, 10)
    up = StepPolicy("up", "ChangeInCapacity", (StepAdjustment(0, None, 1),))
    more = StepPolicy("more", "ChangeInCapacity", (StepAdjustment(0, None, 3),))
    down = StepPolicy("down", "ExactCapacity", (StepAdjustment(None, 0, 1),))
    both = [Invocation(down, [-1.0], 0, False), Invocation(up, [1.0], 0, True), Invocation(more, [1.0], 0, True)]
    activity = scaler.decide(0, 4, both)
    assert (activity.policy, activity.after) == ("more", 7)
    gentle = StepPolicy("gentle", "ChangeInCapacity", (StepAdjustment(None, 0, -1),))
    activity = scaler.decide(600, 7, [Invocation(down, [-1.0], 0, False), Invocation(gentle, [-1.0], 0, False)])
    assert (activity.policy, activity.after) == ("gentle", 6)


def test_capacity_stays_within_min_and_max():
    scaler = Scaler(2, 6)
    assert scaler.decide(0, 5, invoke(step("ChangeInCapacity", [(0, None, 10)]), 1)).after == 6
    assert scaler.decide(0, 3, invoke(step("ExactCapacity", [(None, 0, 0)]), -1, above=False)).after == 2
    assert scaler.decide(0, 6, invoke(step("ChangeInCapacity", [(0, None, 1)]), 1)) is None


def test_target_tracking_capacity():
    policy = TargetTrackingPolicy("tt", 50)
    assert policy.capacity([None, 100.0], 3) == 6
    assert policy.capacity([75.0], 2) == 3
    assert policy.capacity([30.0], 10) == 6
    assert policy.capacity([None], 3) is None
    assert TargetTrackingPolicy("tt", 50, disable_scale_in=True).capacity([10.0], 4) is None
    assert policy.capacity([60.0], 0) == 0   # no proportional growth from zero


# --- alarms -------------------------------------------------------------------------------

def store_with(values: list[float | None]) -> MetricStore:
    store = MetricStore()
    for value in values:
        store.record({"visible": [] if value is None else [value]})
    return store


def tracker(comparison="GreaterThanThreshold", evaluation=3, datapoints=2, treat="missing", period=60):
    return AlarmTracker(AlarmSpec("a", (Query("m", "visible", "Maximum"),), period, evaluation, datapoints, 5.0,
                                  comparison, treat, {"ALARM": ("p",)}))


@pytest.mark.parametrize(("values", "treat", "state"), [
    ([9, 1, 9], "missing", ALARM),                 # 2 of 3 breach
    ([9, 1, 1], "missing", OK),
    ([None, None, None], "missing", INSUFFICIENT_DATA),
    ([9, None, None], "missing", OK),              # present ones only: 1 breach < 2
    ([9, None, None], "breaching", ALARM),
    ([9, None, 9], "notBreaching", ALARM),
    ([9, None, None], "notBreaching", OK),
])
def test_alarm_state_from_datapoints_and_missing_data(values, treat, state):
    alarm = tracker(treat=treat)
    assert alarm.evaluate(store_with(values), 3) == state
    assert alarm.invoked_policies() == (("p",) if state == ALARM else ())


def test_ignore_keeps_the_state_when_everything_is_missing():
    alarm = tracker(treat="ignore")
    alarm.evaluate(store_with([9, 9, 9]), 3)
    assert alarm.evaluate(store_with([9, 9, 9, None, None, None]), 6) == ALARM


def test_periods_of_several_minutes_aggregate_aligned_minutes():
    alarm = tracker(evaluation=2, datapoints=1, period=300)
    store = store_with([0, 0, 7, 0, 0, 1, 2, 3, 1, 0, 4])
    alarm.evaluate(store, 11)
    assert alarm.datapoints == [7.0, 3.0]       # minutes 0-4 and 5-9; minute 10 is not a full period yet
    alarm.evaluate(store, 9)
    assert alarm.datapoints[0] is None and alarm.datapoints[1] == 7.0
