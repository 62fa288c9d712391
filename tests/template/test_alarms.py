"""Alarms: the CONTRACT.md defaults, every override, actions and runbook links."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.templates import REQUIRED, options, rendered
from watchbot_cfn.resources import alarms, notifications

DOCS = Path(__file__).resolve().parents[2] / "docs" / "alarms.md"

#: CONTRACT.md's table: comparison, threshold, period, evaluation periods.
DEFAULTS = {
    "WorkerErrors": ("GreaterThanThreshold", 10, 60, 1),
    "QueueSize": ("GreaterThanThreshold", 40, 300, 24),
    "DeadLetterQueueSize": ("GreaterThanOrEqualToThreshold", 1, 60, 1),
    "MemoryUtilization": ("GreaterThanThreshold", 100, 60, 10),
    "CpuUtilization": ("GreaterThanThreshold", 90, 60, 10),
}

#: Overrides for every tunable number, and what each alarm should then show.
OVERRIDES = {
    "WorkerErrors": ({"error_threshold": 3, "error_period": 300, "error_evaluation_periods": 2}, (3, 300, 2)),
    "QueueSize": ({"alarm_threshold": 1000, "alarm_period": 60, "alarm_periods": 5}, (1000, 60, 5)),
    "DeadLetterQueueSize": ({"dead_letter_alarm_threshold": 20, "dead_letter_alarm_period": 600,
                             "dead_letter_alarm_evaluation_periods": 3}, (20, 600, 3)),
    "MemoryUtilization": ({"memory_threshold": 80, "memory_period": 120, "memory_evaluation_periods": 4},
                          (80, 120, 4)),
    "CpuUtilization": ({"cpu_threshold": 75, "cpu_period": 300, "cpu_evaluation_periods": 6}, (75, 300, 6)),
}


def built_alarms(**overrides: Any) -> dict[str, dict[str, Any]]:
    prefix = overrides.get("prefix", "Watchbot")
    return {logical_id.removeprefix(prefix).removesuffix("Alarm"): resource["Properties"]
            for logical_id, resource in rendered(alarms.build, **overrides).items()
            if resource["Type"] == "AWS::CloudWatch::Alarm"}


def test_the_five_alarms_of_the_contract_with_their_defaults():
    built = built_alarms()
    assert sorted(built) == sorted(DEFAULTS)
    for name, (comparison, threshold, period, periods) in DEFAULTS.items():
        alarm = built[name]
        assert (alarm["ComparisonOperator"], alarm["Threshold"], alarm["Period"], alarm["EvaluationPeriods"]) == \
            (comparison, threshold, period, periods), name


@pytest.mark.parametrize("name", sorted(OVERRIDES))
def test_every_threshold_period_and_evaluation_count_is_configurable(name):
    given, (threshold, period, periods) = OVERRIDES[name]
    alarm = built_alarms(**given)[name]
    assert (alarm["Threshold"], alarm["Period"], alarm["EvaluationPeriods"]) == (threshold, period, periods)
    assert f" {threshold} " in alarm["AlarmDescription"]
    others = {other: built_alarms()[other] for other in DEFAULTS if other != name}
    for other, alarm in others.items():  # an override touches its own alarm only
        assert alarm == built_alarms(**given)[other]


def test_each_alarm_watches_its_metric():
    built = built_alarms(prefix="Thumbs", metric_namespace="Team")
    worker = built["WorkerErrors"]
    assert (worker["Namespace"], worker["Statistic"]) == ("Team", "Sum")
    assert worker["MetricName"] == {"Fn::Sub": "WorkerErrors-${AWS::StackName}-Thumbs"}
    queue = built["QueueSize"]
    assert (queue["Namespace"], queue["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert queue["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["ThumbsQueue", "QueueName"]}}]
    dead = built["DeadLetterQueueSize"]
    assert dead["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["ThumbsDeadLetterQueue", "QueueName"]}
    for name, metric in (("MemoryUtilization", "MemoryUtilization"), ("CpuUtilization", "CPUUtilization")):
        assert (built[name]["Namespace"], built[name]["MetricName"]) == ("AWS/ECS", metric)
        assert built[name]["Dimensions"] == [
            {"Name": "ClusterName", "Value": "processing"},
            {"Name": "ServiceName", "Value": {"Fn::GetAtt": ["ThumbsService", "Name"]}},
        ]
    assert all(alarm["TreatMissingData"] == "notBreaching" for alarm in built.values())


def test_dead_letter_alarm_false_drops_only_that_alarm():
    assert sorted(built_alarms(dead_letter_alarm=False)) == sorted(set(DEFAULTS) - {"DeadLetterQueueSize"})


def test_an_email_gets_a_topic_with_an_email_subscription_and_every_alarm_notifies_it():
    built = rendered(notifications.build, prefix="Thumbs", notification_email="ops@example.com")
    topic = built["ThumbsNotificationTopic"]
    assert topic["Type"] == "AWS::SNS::Topic"
    assert topic["Properties"]["Subscription"] == [{"Protocol": "email", "Endpoint": "ops@example.com"}]
    for alarm in built_alarms(prefix="Thumbs").values():
        assert alarm["AlarmActions"] == [{"Ref": "ThumbsNotificationTopic"}]


def test_a_given_topic_receives_the_alarms_and_no_topic_is_built():
    given = {key: value for key, value in REQUIRED.items() if key != "notification_email"}
    arn = "arn:aws:sns:us-east-1:123456789012:ops"
    given = {**given, "notification_email": None, "notification_topic": arn}
    assert rendered(notifications.build, **given) == {}
    built = rendered(alarms.build, **given)
    assert all(r["Properties"]["AlarmActions"] == [arn] for r in built.values())


def test_each_description_links_to_its_runbook_section():
    built = built_alarms(runbook_url="https://runbooks.example.com/watchbot")
    for name, alarm in built.items():
        assert alarm["AlarmDescription"].endswith(f"https://runbooks.example.com/watchbot#{name.lower()}")
        assert len(alarm["AlarmDescription"]) <= 1024


def test_docs_have_a_runbook_section_for_every_linked_anchor():
    headings = re.findall(r"^## (\S+)\s*$", DOCS.read_text(encoding="utf-8"), flags=re.MULTILINE)
    anchors = {heading.lower() for heading in headings}
    for spec in alarms.ALARMS:
        assert spec.anchor in anchors, f"docs/alarms.md has no '## {spec.metric}' section"
        assert alarms.runbook_link(options(), spec).endswith(f"docs/alarms.md#{spec.anchor}")

