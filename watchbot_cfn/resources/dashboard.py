"""A CloudWatch dashboard with what an operator looks at first.

Queue depth and in-flight messages, the dead-letter queue, worker errors, job
and response durations, receives per message, running tasks, CPU and memory.
The body is JSON inside ``Fn::Sub`` so region, queue, cluster and service
names resolve at deploy time.
"""

from __future__ import annotations

import json
from typing import Any

from troposphere import GetAtt, Sub
from troposphere.cloudwatch import Dashboard

from watchbot_cfn import contract
from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options
from watchbot_cfn.resources import dimensions as dim

__all__ = ["body", "build", "widgets"]

WIDTH = 12
HEIGHT = 6
PERIOD = 60


def build(options: Options, names: Names) -> list[Any]:
    if not options.dashboard:
        return []
    return [
        Dashboard(
            names.dashboard,
            DashboardName=names.dashboard_name,
            DashboardBody=body(options, names),
        )
    ]


def body(options: Options, names: Names) -> Sub:
    """The dashboard JSON with ``${...}`` placeholders, resolved by Fn::Sub."""
    text = json.dumps({"widgets": widgets(options, names)}, separators=(",", ":"))
    return Sub(
        text,
        QueueName=GetAtt(names.queue, "QueueName"),
        DeadLetterQueueName=GetAtt(names.dead_letter_queue, "QueueName"),
        ClusterName=dim.cluster_name(options, names),
        ServiceName=dim.service_name(names),
    )


def widgets(options: Options, names: Names) -> list[dict[str, Any]]:
    def log_metric(metric: str, stat: str, label: str) -> list[Any]:
        return [options.metric_namespace, names.metric_name_text(metric),
                {"stat": stat, "label": label}]

    def queue(name: str, metric: str, label: str) -> list[Any]:
        return [dim.SQS, metric, "QueueName", f"${{{name}}}", {"stat": "Maximum", "label": label}]

    def service(namespace: str, metric: str, stat: str, label: str) -> list[Any]:
        return [namespace, metric, "ClusterName", "${ClusterName}", "ServiceName", "${ServiceName}",
                {"stat": stat, "label": label}]

    panels: list[tuple[str, list[list[Any]]]] = [
        ("Work queue: visible and in-flight messages", [
            queue("QueueName", dim.VISIBLE, "Visible"),
            queue("QueueName", dim.IN_FLIGHT, "In flight"),
        ]),
        ("Dead-letter queue: visible messages", [queue("DeadLetterQueueName", dim.VISIBLE, "Dead letters")]),
        ("Worker errors (failed jobs)", [log_metric(contract.METRIC_WORKER_ERRORS, "Sum", "Failed jobs")]),
        ("Job duration (ms)", [
            log_metric(contract.METRIC_WORKER_DURATION, "Average", "Average"),
            log_metric(contract.METRIC_WORKER_DURATION, "p90", "p90"),
            log_metric(contract.METRIC_WORKER_DURATION, "Maximum", "Maximum"),
        ]),
        ("Response time, sent to finished (ms)", [
            log_metric(contract.METRIC_RESPONSE_DURATION, "Average", "Average"),
            log_metric(contract.METRIC_RESPONSE_DURATION, "p90", "p90"),
            log_metric(contract.METRIC_RESPONSE_DURATION, "Maximum", "Maximum"),
        ]),
        ("Receives per message", [
            log_metric(contract.METRIC_MESSAGE_RECEIVES, "Average", "Average"),
            log_metric(contract.METRIC_MESSAGE_RECEIVES, "Maximum", "Maximum"),
        ]),
        ("Running tasks (needs Container Insights)", [
            service(dim.ECS_INSIGHTS, dim.RUNNING_TASKS, "Average", "Running"),
            service(dim.ECS_INSIGHTS, "DesiredTaskCount", "Average", "Desired"),
        ]),
        ("CPU and memory utilisation (%)", [
            service(dim.ECS, "CPUUtilization", "Average", "CPU"),
            service(dim.ECS, "MemoryUtilization", "Average", "Memory"),
        ]),
    ]
    return [
        {
            "type": "metric",
            "x": (index % 2) * WIDTH,
            "y": (index // 2) * HEIGHT,
            "width": WIDTH,
            "height": HEIGHT,
            "properties": {"title": title, "region": "${AWS::Region}", "view": "timeSeries", "stacked": False,
                           "period": PERIOD, "metrics": metrics},
        }
        for index, (title, metrics) in enumerate(panels)
    ]
