"""CloudWatch metric sources shared by scaling, alarms and the dashboard.

Scaling, alarms and the dashboard must watch exactly the same metrics, so the
namespaces, metric names and dimensions live here once.
"""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Ref, Select, Split, Sub
from troposphere.cloudwatch import MetricDimension

from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options

__all__ = [
    "ECS",
    "ECS_INSIGHTS",
    "IN_FLIGHT",
    "RUNNING_TASKS",
    "SQS",
    "VISIBLE",
    "cluster_name",
    "dead_letter_queue_dimensions",
    "queue_dimensions",
    "scalable_resource_id",
    "service_dimensions",
    "service_name",
]

SQS = "AWS/SQS"
ECS = "AWS/ECS"
#: Container Insights namespace; the only source of a service's running task count.
ECS_INSIGHTS = "ECS/ContainerInsights"
VISIBLE = "ApproximateNumberOfMessagesVisible"
IN_FLIGHT = "ApproximateNumberOfMessagesNotVisible"
RUNNING_TASKS = "RunningTaskCount"


def cluster_name(options: Options, names: Names) -> Any:
    """The cluster's *name*, which metric dimensions and scaling resource ids need.

    A literal name or ARN is resolved now. An intrinsic might be either, so the
    name is read from the service ARN (``arn:...:service/<cluster>/<service>``,
    the long ARN format every account uses).
    """
    cluster = options.literal("cluster")
    if cluster is None:
        return Select(1, Split("/", Ref(names.service)))
    return cluster.rsplit("/", 1)[-1] if cluster.startswith("arn:") else cluster


def service_name(names: Names) -> GetAtt:
    return GetAtt(names.service, "Name")


def scalable_resource_id(options: Options, names: Names) -> Sub:
    """``service/<cluster name>/<service name>``, as Application Auto Scaling wants it."""
    cluster = cluster_name(options, names)
    if isinstance(cluster, str):  # "${!" is Fn::Sub's literal "${"
        return Sub(f"service/{cluster.replace('${', '${!')}/${{{names.service}.Name}}")
    return Sub(f"service/${{Cluster}}/${{{names.service}.Name}}", Cluster=cluster)


def queue_dimensions(names: Names) -> list[MetricDimension]:
    return [MetricDimension(Name="QueueName", Value=GetAtt(names.queue, "QueueName"))]


def dead_letter_queue_dimensions(names: Names) -> list[MetricDimension]:
    return [MetricDimension(Name="QueueName", Value=GetAtt(names.dead_letter_queue, "QueueName"))]


def service_dimensions(options: Options, names: Names) -> list[MetricDimension]:
    return [
        MetricDimension(Name="ClusterName", Value=cluster_name(options, names)),
        MetricDimension(Name="ServiceName", Value=service_name(names)),
    ]
