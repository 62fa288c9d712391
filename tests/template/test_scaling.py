"""Autoscaling: the alarm -> policy -> target wiring, step sizes, metric math and the role."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.support.templates import options, rendered
from watchbot_cfn.resources import scaling


def resources(**overrides: Any) -> dict[str, dict[str, Any]]:
    return rendered(scaling.build, **overrides)


def props(built: dict[str, dict[str, Any]], logical_id: str) -> dict[str, Any]:
    return built[logical_id]["Properties"]


def evaluate(alarm: dict[str, Any], data: dict[str, float | None]) -> float | None:
    """Run an alarm's metric-math chain on one datapoint per metric (None = missing)."""
    def fill(value: float | None, default: float) -> float:
        return default if value is None else value

    values: dict[str, Any] = {"FILL": fill, "CEIL": math.ceil}
    result = None
    for query in alarm["Metrics"]:
        if "MetricStat" in query:
            values[query["Id"]] = data[query["MetricStat"]["Metric"]["MetricName"]]
        else:
            try:
                values[query["Id"]] = eval(query["Expression"], {"__builtins__": {}}, values)  # noqa: S307
            except TypeError:  # arithmetic on a missing datapoint: no datapoint
                values[query["Id"]] = None
        if query["ReturnData"]:
            result = values[query["Id"]]
    return result


def step_for(policy: dict[str, Any], alarm: dict[str, Any], value: float) -> int | None:
    """The adjustment Application Auto Scaling picks for a metric value in breach."""
    threshold = alarm["Threshold"]
    difference = value - threshold
    for step in policy["StepScalingPolicyConfiguration"]["StepAdjustments"]:
        lower = step.get("MetricIntervalLowerBound", -math.inf)
        upper = step.get("MetricIntervalUpperBound", math.inf)
        if difference >= 0 and lower <= difference < upper or difference < 0 and lower < difference <= upper:
            return step["ScalingAdjustment"]
    return None


# --- wiring ------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["backlog", "queue-depth", "backlog-per-task"])
def test_each_alarm_drives_its_policy_which_drives_the_service_target(mode):
    built = resources(prefix="Thumbs", scaling_mode=mode)
    assert props(built, "ThumbsScaleOutAlarm")["AlarmActions"] == [{"Ref": "ThumbsScaleOutPolicy"}]
    assert props(built, "ThumbsScaleInAlarm")["AlarmActions"] == [{"Ref": "ThumbsScaleInPolicy"}]
    for policy in ("ThumbsScaleOutPolicy", "ThumbsScaleInPolicy"):
        assert props(built, policy)["ScalingTargetId"] == {"Ref": "ThumbsScalingTarget"}
        assert props(built, policy)["PolicyType"] == "StepScaling"
    target = props(built, "ThumbsScalingTarget")
    assert target["ServiceNamespace"] == "ecs"
    assert target["ScalableDimension"] == "ecs:service:DesiredCount"
    assert target["ResourceId"] == {"Fn::Sub": "service/processing/${ThumbsService.Name}"}
    assert target["RoleARN"] == {"Fn::GetAtt": ["ThumbsScalingRole", "Arn"]}


def test_target_bounds_come_from_min_and_max_size_even_as_intrinsics():
    target = props(resources(min_size={"Ref": "Min"}, max_size={"Ref": "Max"}), "WatchbotScalingTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == ({"Ref": "Min"}, {"Ref": "Max"})


@pytest.mark.parametrize("cluster, expected", [
    ("arn:aws:ecs:us-east-1:123456789012:cluster/processing",
     {"Fn::Sub": "service/processing/${WatchbotService.Name}"}),
    ("odd${name}", {"Fn::Sub": "service/odd${!name}/${WatchbotService.Name}"}),
    ({"Ref": "Cluster"}, {"Fn::Sub": ["service/${Cluster}/${WatchbotService.Name}", {
        "Cluster": {"Fn::Select": [1, {"Fn::Split": ["/", {"Ref": "WatchbotService"}]}]}}]}),
])
def test_the_resource_id_names_the_cluster_by_name(cluster, expected):
    target = props(resources(cluster=cluster), "WatchbotScalingTarget")
    assert target["ResourceId"] == expected


def test_the_scaling_role_may_only_describe_alarms_and_change_this_service():
    role = props(resources(), "WatchbotScalingRole")
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["application-autoscaling.amazonaws.com"]}
    [policy] = role["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert statements["Service"]["Action"] == ["ecs:DescribeServices", "ecs:UpdateService"]
    assert statements["Service"]["Resource"] == [{"Ref": "WatchbotService"}]
    assert statements["Alarms"]["Action"] == ["cloudwatch:DescribeAlarms"]
    assert all("*" != resource for s in statements.values() for resource in s["Resource"])


def test_a_given_autoscaling_role_replaces_the_built_one():
    built = resources(autoscaling_role_arn="arn:aws:iam::123456789012:role/scaler")
    assert "WatchbotScalingRole" not in built
    assert props(built, "WatchbotScalingTarget")["RoleARN"] == "arn:aws:iam::123456789012:role/scaler"


# --- queue-depth mode -----------------------------------------------------------

@pytest.mark.parametrize("max_size, step", [(0, 1), (1, 1), (4, 1), (5, 1), (14, 1), (15, 2), (25, 3), (50, 5),
                                            (999, 100), (1000, 100), (5000, 100)])
def test_default_step_is_a_tenth_of_max_size_rounded_like_the_original(max_size, step):
    assert scaling.scale_out_step(options(max_size=max_size)) == step
    policy = props(resources(max_size=max_size, scaling_mode="queue-depth"), "WatchbotScaleOutPolicy")
    [adjustment] = policy["StepScalingPolicyConfiguration"]["StepAdjustments"]
    assert adjustment == {"MetricIntervalLowerBound": 0, "ScalingAdjustment": step}


def test_intrinsic_max_size_steps_by_one_unless_a_step_is_given():
    assert scaling.scale_out_step(options(max_size={"Ref": "Max"})) == 1
    assert scaling.scale_out_step(options(max_size={"Ref": "Max"}, scale_out_step=7)) == 7
    assert scaling.scale_out_step(options(max_size=500, scale_out_step=2)) == 2


def test_queue_depth_scales_out_while_any_message_is_visible():
    built = resources(max_size=40, scaling_mode="queue-depth")
    alarm = props(built, "WatchbotScaleOutAlarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["WatchbotQueue", "QueueName"]}}]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert (alarm["Period"], alarm["EvaluationPeriods"]) == (60, 1)
    policy = props(built, "WatchbotScaleOutPolicy")
    assert policy["StepScalingPolicyConfiguration"]["Cooldown"] == 300
    assert policy["StepScalingPolicyConfiguration"]["AdjustmentType"] == "ChangeInCapacity"
    assert step_for(policy, alarm, 1) == 4


def test_cooldowns_and_scale_out_period_are_options():
    built = resources(scale_out_cooldown=120, scale_in_cooldown=900, scale_out_period=300, scaling_mode="queue-depth")
    assert props(built, "WatchbotScaleOutPolicy")["StepScalingPolicyConfiguration"]["Cooldown"] == 120
    assert props(built, "WatchbotScaleInPolicy")["StepScalingPolicyConfiguration"]["Cooldown"] == 900
    assert props(built, "WatchbotScaleOutAlarm")["Period"] == 300


# --- backlog mode (the default) --------------------------------------------------

def test_backlog_is_the_default_mode():
    assert options().scaling_mode == "backlog"


@pytest.mark.parametrize("max_size", [0, 1, 2, 7, 19, 20, 21, 50, 333, 10_000, {"Ref": "Max"}])
def test_backlog_counts_are_at_most_twenty_rising_to_max_size(max_size):
    counts = scaling.follow_capacities(options(max_size=max_size))
    top = max_size if isinstance(max_size, int) else 10_000
    assert 1 <= len(counts) <= scaling.MAX_STEP_ADJUSTMENTS
    assert counts == sorted(set(counts)) and counts[0] == 1 and counts[-1] == max(top, 1)
    if top <= scaling.MAX_STEP_ADJUSTMENTS:
        assert counts == list(range(1, max(top, 1) + 1))  # every count while they fit


@pytest.mark.parametrize("concurrency", [1, 4])
def test_backlog_sets_the_count_the_visible_and_in_flight_messages_need(concurrency):
    built = resources(max_size=50, concurrency=concurrency)
    alarm, policy = props(built, "WatchbotScaleOutAlarm"), props(built, "WatchbotScaleOutPolicy")
    assert policy["StepScalingPolicyConfiguration"]["AdjustmentType"] == "ExactCapacity"
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    names = {q["MetricStat"]["Metric"]["MetricName"] for q in alarm["Metrics"] if "MetricStat" in q}
    assert names == {"ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesNotVisible"}
    counts = scaling.follow_capacities(options(max_size=50))
    for visible in range(0, 400, 7):
        for inflight in (0, 3, 60):
            needed = evaluate(alarm, {"ApproximateNumberOfMessagesVisible": visible,
                                      "ApproximateNumberOfMessagesNotVisible": inflight})
            assert needed == math.ceil((visible + inflight) / concurrency)
            if needed < 1:
                continue  # the alarm is OK: nothing to set (the idle alarm scales in to min_size)
            count = step_for(policy, alarm, needed)
            # the smallest count that gives every message a slot, or all of max_size
            assert count == min([c for c in counts if c >= needed] or [50])


def test_backlog_starts_one_task_for_one_message_and_counts_missing_data_as_none():
    built = resources(max_size=50)
    alarm, policy = props(built, "WatchbotScaleOutAlarm"), props(built, "WatchbotScaleOutPolicy")
    assert evaluate(alarm, {"ApproximateNumberOfMessagesVisible": 1,
                            "ApproximateNumberOfMessagesNotVisible": None}) == 1
    assert step_for(policy, alarm, 1) == 1
    assert {q["MetricStat"]["Period"] for q in alarm["Metrics"] if "MetricStat" in q} == {60}
    assert (alarm["EvaluationPeriods"], alarm["TreatMissingData"]) == (1, "notBreaching")


# --- scale in -------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["backlog", "queue-depth", "backlog-per-task"])
def test_scale_in_to_min_size_after_ten_idle_minutes_of_visible_plus_in_flight(mode):
    built = resources(scaling_mode=mode, min_size=2, max_size=10)
    alarm = props(built, "WatchbotScaleInAlarm")
    sources = {q["Id"]: q["MetricStat"]["Metric"]["MetricName"] for q in alarm["Metrics"] if "MetricStat" in q}
    assert sources == {"visible": "ApproximateNumberOfMessagesVisible",
                       "inflight": "ApproximateNumberOfMessagesNotVisible"}
    [returned] = [q for q in alarm["Metrics"] if q["ReturnData"]]
    assert returned["Expression"] == "visible + inflight"
    assert all(q["MetricStat"]["Period"] == 60 for q in alarm["Metrics"] if "MetricStat" in q)
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (10, 10)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanThreshold", 1)
    assert alarm["TreatMissingData"] == "notBreaching"
    policy = props(built, "WatchbotScaleInPolicy")
    assert policy["StepScalingPolicyConfiguration"]["AdjustmentType"] == "ExactCapacity"
    idle = evaluate(alarm, {"ApproximateNumberOfMessagesVisible": 0, "ApproximateNumberOfMessagesNotVisible": 0})
    busy = evaluate(alarm, {"ApproximateNumberOfMessagesVisible": 0, "ApproximateNumberOfMessagesNotVisible": 1})
    assert idle == 0 and busy == 1
    assert step_for(policy, alarm, idle) == 2


def test_idle_minutes_is_an_option():
    alarm = props(resources(scale_in_idle_minutes=30), "WatchbotScaleInAlarm")
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (30, 30)


# --- backlog-per-task mode ------------------------------------------------------

@pytest.mark.parametrize("latency, duration, concurrency, target", [
    (300, 60, 1, 5), (300, 60, 4, 20), (60, 300, 1, 1), (3600, 7, 1, 514), (1, 86_400, 1, 1)])
def test_backlog_target_is_what_one_task_finishes_within_the_latency(latency, duration, concurrency, target):
    built = options(scaling_mode="backlog-per-task", target_latency=latency, typical_job_duration=duration,
                    concurrency=concurrency)
    assert scaling.backlog_target(built) == target


def backlog(**overrides: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    built = resources(scaling_mode="backlog-per-task", **overrides)
    return props(built, "WatchbotScaleOutAlarm"), props(built, "WatchbotScaleOutPolicy")


def test_backlog_alarm_is_metric_math_over_visible_messages_and_running_tasks():
    alarm, _ = backlog(target_latency=300, typical_job_duration=60)
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    assert queries["visible"]["MetricStat"]["Metric"]["Namespace"] == "AWS/SQS"
    running = queries["runningraw"]["MetricStat"]["Metric"]
    assert (running["Namespace"], running["MetricName"]) == ("ECS/ContainerInsights", "RunningTaskCount")
    assert [d["Name"] for d in running["Dimensions"]] == ["ClusterName", "ServiceName"]
    assert queries["running"]["Expression"] == "FILL(runningraw, 0)"
    assert queries["needed"]["Expression"] == "CEIL(visible / 5)"
    assert queries["missing"]["Expression"] == "needed - running"
    assert [q["Id"] for q in alarm["Metrics"] if q["ReturnData"]] == ["missing"]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)


def test_backlog_mode_scales_from_zero_on_one_message():
    alarm, policy = backlog()
    missing = evaluate(alarm, {"ApproximateNumberOfMessagesVisible": 1, "RunningTaskCount": None})
    assert missing == 1 and missing >= alarm["Threshold"]
    assert step_for(policy, alarm, missing) == 1


def test_backlog_within_target_does_not_alarm():
    alarm, _ = backlog(target_latency=300, typical_job_duration=60)  # 5 per task
    assert evaluate(alarm, {"ApproximateNumberOfMessagesVisible": 10, "RunningTaskCount": 2}) == 0
    assert evaluate(alarm, {"ApproximateNumberOfMessagesVisible": 11, "RunningTaskCount": 2}) == 1


@pytest.mark.parametrize("max_size", [1, 2, 7, 64, 100, 10_000])
def test_backlog_steps_close_at_least_half_the_gap_and_never_overshoot(max_size):
    alarm, policy = backlog(max_size=max_size)
    steps = policy["StepScalingPolicyConfiguration"]["StepAdjustments"]
    assert len(steps) <= 20  # Application Auto Scaling's limit on step adjustments
    for missing in range(1, max_size + 1):
        added = step_for(policy, alarm, missing)
        assert added is not None and missing / 2 < added <= missing, (missing, added)


def test_backlog_ladder_covers_any_size_when_max_size_is_an_intrinsic():
    alarm, policy = backlog(max_size={"Ref": "Max"})
    assert step_for(policy, alarm, 10_000) == 8192
    assert step_for(policy, alarm, 3) == 2
