"""Autoscaling of the service's DesiredCount from queue metrics, without Lambda.

The original needed a Lambda function, a per-minute Events rule and a custom
resource to add two SQS metrics together; CloudWatch metric-math alarms do it
natively. Every policy is an Application Auto Scaling step policy driven by a
CloudWatch alarm (alarm -> policy -> scalable target).

* Scale in (both modes): when visible + in-flight messages have been 0 for
  ``scale_in_idle_minutes``, set the count to ``min_size``.
* Scale out, ``queue-depth`` mode: while any message is visible, add
  ``scale_out_step`` tasks per cooldown.
* Scale out, ``backlog-per-task`` mode: keep visible messages per running task
  at or below ``backlog_target``; the alarm watches how many tasks are missing
  (``CEIL(visible / target) - running``) and steps add about that many.

See docs/scaling.md for worked examples.
"""

from __future__ import annotations

import math
from typing import Any

import awacs.cloudwatch
import awacs.ecs
from awacs.aws import Allow, Statement
from troposphere import GetAtt, Ref, Sub
from troposphere.applicationautoscaling import (
    ScalableTarget,
    ScalingPolicy,
    StepAdjustment,
    StepScalingPolicyConfiguration,
)
from troposphere.cloudwatch import Alarm, Metric, MetricDataQuery, MetricStat
from troposphere.iam import Policy, Role

from watchbot_cfn.naming import Names
from watchbot_cfn.options import MAX_TASKS, Options
from watchbot_cfn.resources import dimensions as dim
from watchbot_cfn.resources import policies

__all__ = ["MAX_STEP_ADJUSTMENTS", "backlog_ladder", "backlog_target", "build", "follow_capacities",
           "follow_expression", "scale_out_step"]

#: Resolution of SQS metrics; the idle window is counted in these.
MINUTE = 60


def build(options: Options, names: Names) -> list[Any]:
    resources: list[Any] = []
    if options.autoscaling_role_arn is None:
        resources.append(_role(options, names))
        role_arn: Any = GetAtt(names.scaling_role, "Arn")
    else:
        role_arn = options.autoscaling_role_arn
    resources.append(
        ScalableTarget(
            names.scaling_target,
            ServiceNamespace="ecs",
            ScalableDimension="ecs:service:DesiredCount",
            ResourceId=dim.scalable_resource_id(options, names),
            MinCapacity=options.min_size,
            MaxCapacity=options.max_size,
            RoleARN=role_arn,
        )
    )
    if options.scaling_mode == "backlog":
        resources += [_step_policy(names.scale_out_policy, names, "out", "ExactCapacity",
                                   options.scale_out_cooldown, _follow_steps(options)),
                      _follow_alarm(options, names)]
    elif options.scaling_mode == "backlog-per-task":
        resources += [_scale_out_policy(options, names, _backlog_steps(options)), _backlog_alarm(options, names)]
    else:
        resources += [_scale_out_policy(options, names, _queue_depth_steps(options)),
                      _queue_depth_alarm(options, names)]
    resources += [_scale_in_policy(options, names), _scale_in_alarm(options, names)]
    return resources


# --- sizes ----------------------------------------------------------------------

def scale_out_step(options: Options) -> int:
    """Tasks one queue-depth step adds: the original ``max(1, min(100, round(max_size / 10)))``.

    Rounds halves up like JavaScript's ``Math.round`` (Python's ``round`` would
    turn 2.5 into 2). With an intrinsic max_size the value is unknown at render
    time, so the step is 1 unless ``scale_out_step`` says otherwise.
    """
    if options.scale_out_step is not None:
        return options.scale_out_step
    max_size = options.literal("max_size")
    if max_size is None:
        return 1
    return max(1, min(100, math.floor(max_size / 10 + 0.5)))


#: Application Auto Scaling's limit on step adjustments in one policy.
MAX_STEP_ADJUSTMENTS = 20


def follow_capacities(options: Options) -> list[int]:
    """Task counts the ``backlog`` mode sets: each count up to a point, then a constant ratio, up to max_size.

    At most ``MAX_STEP_ADJUSTMENTS`` of them; a backlog needing ``n`` tasks gets
    the smallest count of the list that is at least ``n``, so the service never
    runs fewer tasks than the backlog needs (the ratio, under 1.7 for 10,000
    tasks and 1.2 for 50, bounds how many more).
    """
    cap = options.literal("max_size")
    cap = MAX_TASKS if cap is None else max(cap, 1)
    counts: list[int] = []
    count, slots = 1, MAX_STEP_ADJUSTMENTS
    while count < cap and slots > 1:
        counts.append(count)
        slots -= 1
        count = max(count + 1, math.ceil(count * (cap / count) ** (1 / slots)))
    counts.append(cap)
    return counts


def backlog_target(options: Options) -> int:
    """Visible messages one task may have waiting and still start each within target_latency.

    A task finishes ``concurrency`` jobs per ``typical_job_duration``, so a
    message behind ``b`` others waits about ``b / concurrency * duration``.
    """
    return max(1, options.target_latency * options.concurrency // options.typical_job_duration)


def backlog_ladder(options: Options) -> list[tuple[int, int | None, int]]:
    """(lower, upper, tasks to add) on ``missing tasks - 1``: doubling steps, never overshooting.

    A deficit of d tasks (d >= 1) falls in [2**k, 2**(k+1)) and adds 2**k,
    so each step closes at least half the gap and never adds more than needed.
    """
    cap = options.literal("max_size")
    if cap is None:
        cap = MAX_TASKS
    ladder: list[tuple[int, int | None, int]] = []
    size = 1
    while True:
        last = size * 2 > max(cap, 1)
        ladder.append((size - 1, None if last else 2 * size - 1, size))
        if last:
            return ladder
        size *= 2


# --- role -----------------------------------------------------------------------

def _role(options: Options, names: Names) -> Role:
    """What Application Auto Scaling does for a step policy: read the alarms, change this service."""
    service_arn = Ref(names.service)
    alarms = Sub(awacs.cloudwatch.ARN(resource="alarm:*", region="${AWS::Region}",
                                      account="${AWS::AccountId}").JSONrepr())
    return Role(
        names.scaling_role,
        Description=f"Watchbot {names.prefix}: lets Application Auto Scaling change the service's task count",
        AssumeRolePolicyDocument=policies.trusted_by(policies.AUTOSCALING),
        Policies=[
            Policy(
                PolicyName="scaling",
                PolicyDocument=policies.document([
                    Statement(Sid="Service", Effect=Allow, Action=[awacs.ecs.DescribeServices, awacs.ecs.UpdateService],
                              Resource=[service_arn]),
                    Statement(Sid="Alarms", Effect=Allow, Action=[awacs.cloudwatch.DescribeAlarms], Resource=[alarms]),
                ]),
            )
        ],
    )


# --- policies -------------------------------------------------------------------

def _step_policy(logical_id: str, names: Names, direction: str, adjustment_type: str, cooldown: int,
                 steps: list[StepAdjustment]) -> ScalingPolicy:
    """Both directions are step policies on the one scalable target; only these parts differ."""
    return ScalingPolicy(
        logical_id,
        PolicyName=names.scaling_policy_name(direction),
        PolicyType="StepScaling",
        ScalingTargetId=Ref(names.scaling_target),
        StepScalingPolicyConfiguration=StepScalingPolicyConfiguration(
            AdjustmentType=adjustment_type,
            Cooldown=cooldown,
            MetricAggregationType="Maximum",
            StepAdjustments=steps,
        ),
    )


def _scale_out_policy(options: Options, names: Names, steps: list[StepAdjustment]) -> ScalingPolicy:
    return _step_policy(names.scale_out_policy, names, "out", "ChangeInCapacity", options.scale_out_cooldown, steps)


def _queue_depth_steps(options: Options) -> list[StepAdjustment]:
    return [StepAdjustment(MetricIntervalLowerBound=0, ScalingAdjustment=scale_out_step(options))]


def _backlog_steps(options: Options) -> list[StepAdjustment]:
    steps = []
    for lower, upper, add in backlog_ladder(options):
        step = StepAdjustment(MetricIntervalLowerBound=lower, ScalingAdjustment=add)
        if upper is not None:
            step.MetricIntervalUpperBound = upper
        steps.append(step)
    return steps


def _follow_steps(options: Options) -> list[StepAdjustment]:
    """ExactCapacity steps on ``tasks needed - 1``: needed in (previous count, count] sets count."""
    steps = []
    previous = 0
    counts = follow_capacities(options)
    for index, count in enumerate(counts):
        step = StepAdjustment(MetricIntervalLowerBound=previous, ScalingAdjustment=count)
        if index < len(counts) - 1:
            step.MetricIntervalUpperBound = count
        steps.append(step)
        previous = count
    return steps


def _scale_in_policy(options: Options, names: Names) -> ScalingPolicy:
    steps = [StepAdjustment(MetricIntervalUpperBound=0, ScalingAdjustment=options.min_size)]
    return _step_policy(names.scale_in_policy, names, "in", "ExactCapacity", options.scale_in_cooldown, steps)


# --- alarms ---------------------------------------------------------------------

def _metric(query_id: str, namespace: str, metric_name: str, dimensions: list[Any], period: int,
            stat: str = "Maximum") -> MetricDataQuery:
    return MetricDataQuery(
        Id=query_id,
        MetricStat=MetricStat(Metric=Metric(Namespace=namespace, MetricName=metric_name, Dimensions=dimensions),
                              Period=period, Stat=stat),
        ReturnData=False,
    )


def _expression(query_id: str, expression: str, label: str, returned: bool = False) -> MetricDataQuery:
    return MetricDataQuery(Id=query_id, Expression=expression, Label=label, ReturnData=returned)


def _queue_depth_alarm(options: Options, names: Names) -> Alarm:
    return Alarm(
        names.scale_out_alarm,
        AlarmDescription=f"Watchbot {names.prefix}: messages are waiting; add tasks (docs/scaling.md)",
        Namespace=dim.SQS,
        MetricName=dim.VISIBLE,
        Dimensions=dim.queue_dimensions(names),
        Statistic="Maximum",
        Period=options.scale_out_period,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[Ref(names.scale_out_policy)],
    )


def backlog_expressions(options: Options) -> dict[str, str]:
    """The metric-math chain of backlog-per-task mode, by query id."""
    return {
        "running": "FILL(runningraw, 0)",
        "needed": f"CEIL(visible / {backlog_target(options)})",
        "missing": "needed - running",
    }


def _backlog_alarm(options: Options, names: Names) -> Alarm:
    period = options.scale_out_period
    expressions = backlog_expressions(options)
    return Alarm(
        names.scale_out_alarm,
        AlarmDescription=(f"Watchbot {names.prefix}: more than {backlog_target(options)} visible messages per "
                          "running task; add the missing tasks (docs/scaling.md)"),
        Metrics=[
            _metric("visible", dim.SQS, dim.VISIBLE, dim.queue_dimensions(names), period),
            _metric("runningraw", dim.ECS_INSIGHTS, dim.RUNNING_TASKS, dim.service_dimensions(options, names),
                    period, stat="Average"),
            _expression("running", expressions["running"], "Running tasks (0 when none report)"),
            _expression("needed", expressions["needed"], "Tasks needed for the backlog"),
            _expression("missing", expressions["missing"], "Tasks missing", returned=True),
        ],
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[Ref(names.scale_out_policy)],
    )


def follow_expression(options: Options) -> str:
    """Tasks the backlog needs: every visible and in-flight message has a slot."""
    return f"CEIL((FILL(visible, 0) + FILL(inflight, 0)) / {options.concurrency})"


def _follow_alarm(options: Options, names: Names) -> Alarm:
    period = options.scale_out_period
    return Alarm(
        names.scale_out_alarm,
        AlarmDescription=(f"Watchbot {names.prefix}: set the task count to what visible + in-flight messages "
                          f"need at {options.concurrency} job(s) per task (docs/scaling.md)"),
        Metrics=[
            _metric("visible", dim.SQS, dim.VISIBLE, dim.queue_dimensions(names), period),
            _metric("inflight", dim.SQS, dim.IN_FLIGHT, dim.queue_dimensions(names), period),
            _expression("needed", follow_expression(options), "Tasks the backlog needs", returned=True),
        ],
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[Ref(names.scale_out_policy)],
    )


IDLE_EXPRESSION = "visible + inflight"


def _scale_in_alarm(options: Options, names: Names) -> Alarm:
    minutes = options.scale_in_idle_minutes
    return Alarm(
        names.scale_in_alarm,
        AlarmDescription=(f"Watchbot {names.prefix}: no visible or in-flight message for {minutes} minutes; "
                          "scale in to min_size (docs/scaling.md)"),
        Metrics=[
            _metric("visible", dim.SQS, dim.VISIBLE, dim.queue_dimensions(names), MINUTE),
            _metric("inflight", dim.SQS, dim.IN_FLIGHT, dim.queue_dimensions(names), MINUTE),
            _expression("idle", IDLE_EXPRESSION, "Visible + in-flight messages", returned=True),
        ],
        EvaluationPeriods=minutes,
        DatapointsToAlarm=minutes,
        Threshold=1,
        ComparisonOperator="LessThanThreshold",
        # No data means no one polls the queue, so there is nothing to scale in.
        TreatMissingData="notBreaching",
        AlarmActions=[Ref(names.scale_in_policy)],
    )
