"""Small hand-written CloudFormation templates for simulator tests.

Each helper returns plain dicts, so a test reads as the template it simulates:
one queue, one ECS service, one scalable target, the alarms and policies under
test, nothing else.
"""

from __future__ import annotations

import copy
from typing import Any

QUEUE = "Queue"
TARGET = "Target"
SERVICE = "Service"
TASK = "Task"
ROLE = "TaskRole"


def queue_metric(name: str = "ApproximateNumberOfMessagesVisible", queue: str = QUEUE) -> dict[str, Any]:
    return {"Namespace": "AWS/SQS", "MetricName": name,
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]}


def alarm(policy: str, comparison: str, threshold: float, *, period: int = 60, evaluation: int = 1,
          datapoints: int | None = None, statistic: str = "Maximum", metric: dict[str, Any] | None = None,
          treat_missing: str | None = None, metrics: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"ComparisonOperator": comparison, "Threshold": threshold,
                             "EvaluationPeriods": evaluation, "AlarmActions": [{"Ref": policy}]}
    if metrics is not None:
        props["Metrics"] = metrics
    else:
        props.update(metric or queue_metric())
        props.update(Period=period, Statistic=statistic)
    if datapoints is not None:
        props["DatapointsToAlarm"] = datapoints
    if treat_missing is not None:
        props["TreatMissingData"] = treat_missing
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": props}


def step_policy(adjustment_type: str, steps: list[dict[str, Any]], cooldown: int | None = None,
                aggregation: str = "Maximum") -> dict[str, Any]:
    config: dict[str, Any] = {"AdjustmentType": adjustment_type, "MetricAggregationType": aggregation,
                              "StepAdjustments": steps}
    if cooldown is not None:
        config["Cooldown"] = cooldown
    return {"Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {"PolicyName": "p", "PolicyType": "StepScaling", "ScalingTargetId": {"Ref": TARGET},
                           "StepScalingPolicyConfiguration": config}}


def target_tracking(target: float, metric: str = "ECSServiceAverageCPUUtilization",
                    **extra: Any) -> dict[str, Any]:
    return {"Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {"PolicyName": "tt", "PolicyType": "TargetTrackingScaling",
                           "ScalingTargetId": {"Ref": TARGET},
                           "TargetTrackingScalingPolicyConfiguration": {
                               "TargetValue": target,
                               "PredefinedMetricSpecification": {"PredefinedMetricType": metric}, **extra}}}


def template(min_capacity: Any, max_capacity: Any, resources: dict[str, Any], *,
             environment: dict[str, str] | None = None, command: list[str] | None = None,
             role_actions: list[str] | None = None, visibility_timeout: int | None = None,
             parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """A service scaled by ``resources`` (alarms and policies), its queue, task and role."""
    queue: dict[str, Any] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    if visibility_timeout is not None:
        queue["Properties"]["VisibilityTimeout"] = visibility_timeout
    container: dict[str, Any] = {
        "Name": "worker", "Image": "worker:1", "Essential": True,
        "Command": command or ["python", "-m", "worker"],
        "Environment": [{"Name": key, "Value": value} for key, value in (environment or {}).items()],
    }
    statements = [{"Effect": "Allow", "Action": ["sqs:ReceiveMessage"], "Resource": "*"}]
    if role_actions:
        statements.append({"Effect": "Allow", "Action": role_actions, "Resource": "*"})
    body: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            QUEUE: queue,
            ROLE: {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {},
                "Policies": [{"PolicyName": "work", "PolicyDocument": {"Version": "2012-10-17",
                                                                       "Statement": statements}}]}},
            TASK: {"Type": "AWS::ECS::TaskDefinition", "Properties": {
                "TaskRoleArn": {"Fn::GetAtt": [ROLE, "Arn"]}, "ContainerDefinitions": [container]}},
            SERVICE: {"Type": "AWS::ECS::Service", "Properties": {"Cluster": "c", "TaskDefinition": {"Ref": TASK}}},
            TARGET: {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": {
                "ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount",
                "ResourceId": {"Fn::Join": ["", ["service/c/", {"Fn::GetAtt": [SERVICE, "Name"]}]]},
                "MinCapacity": min_capacity, "MaxCapacity": max_capacity}},
            **copy.deepcopy(resources),
        },
    }
    if parameters:
        body["Parameters"] = parameters
    return body
