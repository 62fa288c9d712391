"""The dashboard: every panel an operator needs, with names that resolve at deploy time."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.support.templates import rendered
from watchbot_cfn.resources import dashboard

PSEUDO = {"AWS::Region": "us-east-1", "AWS::StackName": "jobs"}


def resolved(**overrides: Any) -> dict[str, Any]:
    """The DashboardBody after Fn::Sub, with made-up values for its variables."""
    built = rendered(dashboard.build, **overrides)
    [resource] = built.values()
    text, variables = resource["Properties"]["DashboardBody"]["Fn::Sub"]
    placeholders = set(re.findall(r"\$\{([^}]+)\}", text))
    assert placeholders <= set(variables) | set(PSEUDO), placeholders - set(variables)
    values = {**PSEUDO, **{name: f"<{name}>" for name in variables}}
    return json.loads(re.sub(r"\$\{([^}]+)\}", lambda m: values[m[1]], text))


def metrics(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(line[0], line[1]) for widget in body["widgets"] for line in widget["properties"]["metrics"]]


def test_dashboard_variables_name_this_system_resources():
    [resource] = rendered(dashboard.build, prefix="Thumbs").values()
    properties = resource["Properties"]
    _, variables = properties["DashboardBody"]["Fn::Sub"]
    assert variables == {
        "QueueName": {"Fn::GetAtt": ["ThumbsQueue", "QueueName"]},
        "DeadLetterQueueName": {"Fn::GetAtt": ["ThumbsDeadLetterQueue", "QueueName"]},
        "ClusterName": "processing",
        "ServiceName": {"Fn::GetAtt": ["ThumbsService", "Name"]},
    }
    assert properties["DashboardName"] == {"Fn::Sub": "${AWS::StackName}-${AWS::Region}-Thumbs"}


def test_every_panel_of_the_issue_is_there():
    shown = set(metrics(resolved(prefix="Thumbs")))
    assert {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/SQS", "ApproximateNumberOfMessagesNotVisible"),
        ("Watchbot", "WorkerErrors-jobs-Thumbs"),
        ("Watchbot", "WorkerDuration-jobs-Thumbs"),
        ("Watchbot", "ResponseDuration-jobs-Thumbs"),
        ("ECS/ContainerInsights", "RunningTaskCount"),
        ("AWS/ECS", "CPUUtilization"),
        ("AWS/ECS", "MemoryUtilization"),
    } <= shown


def test_queue_panels_show_the_work_queue_and_the_dead_letter_queue():
    body = resolved()
    queues = {line[3] for widget in body["widgets"] for line in widget["properties"]["metrics"]
              if line[0] == "AWS/SQS"}
    assert queues == {"<QueueName>", "<DeadLetterQueueName>"}
    assert all(widget["properties"]["region"] == "us-east-1" for widget in body["widgets"])


def test_log_metrics_use_the_configured_namespace():
    shown = metrics(resolved(metric_namespace="Team/Workers"))
    assert ("Team/Workers", "WorkerErrors-jobs-Watchbot") in shown


def test_widgets_do_not_overlap():
    cells = set()
    for widget in resolved()["widgets"]:
        for x in range(widget["x"], widget["x"] + widget["width"]):
            for y in range(widget["y"], widget["y"] + widget["height"]):
                assert (x, y) not in cells
                cells.add((x, y))
    assert max(x for x, _ in cells) < 24


def test_no_dashboard_when_turned_off():
    assert rendered(dashboard.build, dashboard=False) == {}
