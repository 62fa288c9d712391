"""``migrate --execute`` against clients that answer as AWS documents, where moto cannot show it.

moto gives change sets no Replacement details and lists no imports; these scripted CloudFormation, SQS, SNS
and ECS clients answer with the shapes AWS documents: a change set that replaces the work queue or removes the
subscription must be refused and deleted, never executed; a stack that is not settled, an imported export the
adopted template would drop, and a queue no longer subscribed stop the migration before anything changes.
The whole flow against a real endpoint process is tests/integration/test_migrate_execute.py.
"""

from __future__ import annotations

import io
import tomllib
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.migrate.variants import source, v10
from watchbot_cfn.aws.changeset import Change
from watchbot_cfn.migrate.execute import check_change_set, run_migration
from watchbot_cfn.migrate.live import LiveStack, MigrateRefused, service_network
from watchbot_cfn.migrate.loading import render_document
from watchbot_cfn.migrate.plan import Plan, plan
from watchbot_cfn.migrate.pseudo import StackPlace
from watchbot_cfn.statusline import StatusLine

STACK = "my-stack"
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/my-stack-WatchbotQueue"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:my-stack-WatchbotQueue"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:my-stack-WatchbotTopic"
SERVICE_ARN = "arn:aws:ecs:us-east-1:123456789012:service/processing/my-stack-WatchbotService-1"


def _event(number: int, logical_id: str, status: str) -> dict[str, Any]:
    return {"EventId": f"e{number}", "LogicalResourceId": logical_id, "ResourceStatus": status,
            "ResourceType": "AWS::CloudFormation::Stack" if logical_id == STACK else "AWS::SQS::Queue",
            "Timestamp": datetime(2026, 1, 1, 12, 0, number, tzinfo=timezone.utc)}


def _change(action: str, logical_id: str, kind: str, replacement: str = "") -> dict[str, Any]:
    return {"Type": "Resource", "ResourceChange": {"Action": action, "LogicalResourceId": logical_id,
                                                   "ResourceType": kind, "Replacement": replacement}}


class Pages:
    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        return self.pages


class ScriptedAws:
    """CloudFormation, SQS, SNS and ECS as AWS answers them for one v10 stack being migrated."""

    def __init__(self, template: dict[str, Any], changes: list[dict[str, Any]], status: str = "UPDATE_COMPLETE",
                 subscribed: bool = True, importers: tuple[str, ...] = ()) -> None:
        self.template, self.changes, self.status = template, changes, status
        self.subscribed, self.importers = subscribed, importers
        self.calls: list[str] = []
        self.events = [_event(1, STACK, status)]
        self.executed = False
        resources = template["Resources"]
        self.physical = {key: f"{key}-physical" for key in resources}
        queue = next(key for key, item in resources.items() if "RedrivePolicy" in item.get("Properties", {}))
        topic = next(key for key, item in resources.items() if item["Type"] == "AWS::SNS::Topic")
        self.physical.update({queue: QUEUE_URL, topic: TOPIC_ARN})
        self.region = "us-east-1"
        self.endpoint_url = None

    # the Aws interface migrate uses
    def client(self, service: str, attempts: int = 5) -> Any:
        return self

    def where(self) -> str:
        return "region us-east-1"

    # CloudFormation
    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        outputs = [{"OutputKey": "WatchbotTopicOutput96825070", "ExportName": f"{STACK}-topic"}]
        return {"Stacks": [{"StackStatus": self.status, "Outputs": outputs,
                            "StackId": f"arn:aws:cloudformation:us-east-1:123456789012:stack/{STACK}/1"}]}

    def get_template(self, **_: Any) -> dict[str, Any]:
        return {"TemplateBody": self.template}

    def get_paginator(self, name: str) -> Pages:
        if name == "list_stack_resources":
            return Pages([{"StackResourceSummaries": [
                {"LogicalResourceId": key, "PhysicalResourceId": value} for key, value in self.physical.items()]}])
        endpoints = [{"Protocol": "sqs", "Endpoint": QUEUE_ARN}] if self.subscribed else []
        return Pages([{"Subscriptions": endpoints}])

    def list_imports(self, ExportName: str) -> dict[str, Any]:
        if not self.importers:
            raise ClientError({"Error": {"Code": "ValidationError",
                                         "Message": f"Export '{ExportName}' is not imported by any stack."}},
                              "ListImports")
        return {"Imports": list(self.importers)}

    def create_change_set(self, **_: Any) -> dict[str, Any]:
        self.calls.append("create_change_set")
        return {"Id": "arn:changeset/1", "StackId": "arn:stack/1"}

    def describe_change_set(self, **_: Any) -> dict[str, Any]:
        return {"Status": "CREATE_COMPLETE", "StackId": "arn:stack/1", "Changes": self.changes}

    def delete_change_set(self, **_: Any) -> None:
        self.calls.append("delete_change_set")

    def execute_change_set(self, **_: Any) -> None:
        self.calls.append("execute_change_set")
        self.executed = True
        self.events += [_event(2, STACK, "UPDATE_IN_PROGRESS"), _event(3, STACK, "UPDATE_COMPLETE")]
        self.physical["WatchbotService"] = SERVICE_ARN

    def describe_stack_events(self, StackName: str, NextToken: str | None = None) -> dict[str, Any]:
        return {"StackEvents": list(reversed(self.events))}

    # SQS, SNS, ECS
    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        policy = f'{{"Statement": [{{"Condition": {{"ArnEquals": {{"aws:SourceArn": "{TOPIC_ARN}"}}}}}}]}}'
        return {"Attributes": {"QueueArn": QUEUE_ARN, "Policy": policy}}

    def publish(self, TopicArn: str, Message: str) -> dict[str, Any]:
        self.calls.append(f"publish {TopicArn} {Message}")
        return {"MessageId": "m-1"}

    def describe_services(self, cluster: str, services: list[str]) -> dict[str, Any]:
        self.calls.append(f"describe_services {cluster}")
        return {"services": [{"runningCount": 2, "desiredCount": 2, "deployments": [{}],
                              "networkConfiguration": {"awsvpcConfiguration": {
                                  "subnets": ["subnet-0aaaaaaaaaaaaaaaa"],
                                  "securityGroups": ["sg-0bbbbbbbbbbbbbbbb",
                                                     "WatchbotServiceQueueProcessingFargateServiceSecurityGroup"
                                                     "95EEBA71-physical"]}}}]}


def _planned(name: str = "minimal") -> tuple[Plan, dict[str, Any]]:
    data = tomllib.loads(source(name))
    result = plan(data, "stack.toml", v10(name), StackPlace(STACK, "us-east-1"), render_document)
    assert result.safe
    return result, render_document(result.document, "adopted")


def _live(aws: ScriptedAws) -> LiveStack:
    return LiveStack(STACK, aws.status, aws.template, dict(aws.physical), {f"{STACK}-topic": "Output"})


def _migrate(aws: ScriptedAws, planned: Plan, template: dict[str, Any],
             canary: str | None = None) -> tuple[int, list[str], str]:
    said: list[str] = []
    output = io.StringIO()
    code = run_migration(aws, _live(aws), planned, template, planned.service_id, StatusLine(output, live=False),
                         said.append, poll_interval=0.0, canary=canary)
    return code, said, output.getvalue()


def test_a_change_set_that_replaces_the_work_queue_is_refused_deleted_and_never_executed():
    planned, template = _planned()
    queue = planned.pairs["queue"]
    aws = ScriptedAws(v10("minimal"), [_change("Modify", queue, "AWS::SQS::Queue", "True"),
                                       _change("Remove", "WatchbotServiceTotalMessagesLambda18104231",
                                               "AWS::Lambda::Function")])
    with pytest.raises(MigrateRefused, match="would lose 1 stateful resource"):
        _migrate(aws, planned, template)
    assert aws.calls == ["create_change_set", "delete_change_set"]


@pytest.mark.parametrize(("change", "says"), [
    (("Remove", "WatchbotQueueMyStackWatchbotTopicE979EEE08E81285D", "AWS::SNS::Subscription"), "removes"),
    (("Modify", "ProgressTable", "AWS::DynamoDB::Table", "Conditional"), "replaces (Conditional)"),
    (("Modify", "WatchbotQueuePolicy15E07733", "AWS::SQS::QueuePolicy", "True"), "replaces (True)"),
])
def test_stateful_removes_and_replacements_are_named(change, says):
    planned, _ = _planned("reduce")
    [line] = check_change_set([Change.from_api(_change(*change))], planned)
    assert line == f"the change set {says} {change[1]} ({change[2]})"


def test_stateless_replacements_and_removes_pass():
    planned, _ = _planned()
    changes = [Change.from_api(_change("Modify", "WatchbotService", "AWS::ECS::Service", "True")),
               Change.from_api(_change("Remove", "CDKMetadata", "AWS::CDK::Metadata")),
               Change.from_api(_change("Modify", planned.pairs["queue"], "AWS::SQS::Queue", "False"))]
    assert check_change_set(changes, planned) == []


def test_a_clean_change_set_is_executed_and_every_check_is_said():
    planned, template = _planned()
    changes = [_change("Modify", planned.pairs["queue"], "AWS::SQS::Queue", "False"),
               _change("Remove", "WatchbotServiceTotalMessagesLambda18104231", "AWS::Lambda::Function"),
               _change("Add", "WatchbotService", "AWS::ECS::Service")]
    aws = ScriptedAws(v10("minimal"), changes, importers=("consumer-stack",))
    code, said, printed = _migrate(aws, planned, template, canary="hello")
    assert code == 0, said
    assert aws.calls[:2] == ["create_change_set", "execute_change_set"]
    assert said[0] == f"pre-check: stack {STACK} is UPDATE_COMPLETE"
    assert f"pre-check: export {STACK}-topic is kept (imported by consumer-stack)" in said
    assert f"pre-check: the work queue is subscribed to {TOPIC_ARN}" in said
    assert "change set: no stateful resource replaced or removed (3 changes)" in said
    assert f"post-check: queue {planned.pairs['queue']} is still {QUEUE_URL}" in said
    assert f"post-check: the work queue is still subscribed to {TOPIC_ARN}" in said
    assert "post-check: the work queue's policy lets the topic send" in said
    assert f"post-check: service {SERVICE_ARN} is steady (2 running)" in said
    assert "UPDATE_COMPLETE" in printed
    assert aws.calls[-1] == f"publish {TOPIC_ARN} hello"
    assert said[-1] == f"post-check: canary message m-1 sent to {TOPIC_ARN}; the new service's log group shows its job"


@pytest.mark.parametrize(("arguments", "says"), [
    ({"status": "UPDATE_ROLLBACK_FAILED"}, "is UPDATE_ROLLBACK_FAILED; migrate starts from a settled stack"),
    ({"status": "UPDATE_IN_PROGRESS"}, "is UPDATE_IN_PROGRESS"),
    ({"subscribed": False}, "is not subscribed to the topic"),
])
def test_pre_checks_stop_before_any_change_set(arguments, says):
    planned, template = _planned()
    aws = ScriptedAws(v10("minimal"), [], **arguments)
    with pytest.raises(MigrateRefused, match=says):
        _migrate(aws, planned, template)
    assert aws.calls == []


def test_an_export_the_adopted_template_drops_is_refused_with_who_imports_it():
    planned, template = _planned()
    template = {**template, "Outputs": {key: value for key, value in template["Outputs"].items()
                                        if "Export" not in value}}
    aws = ScriptedAws(v10("minimal"), [], importers=("consumer-stack",))
    with pytest.raises(MigrateRefused, match=f"export {STACK}-topic \\(imported by consumer-stack\\) is not in"):
        _migrate(aws, planned, template)
    assert aws.calls == []


def test_the_running_services_network_leaves_out_the_security_group_the_stack_drops():
    aws = ScriptedAws(v10("minimal"), [])
    subnets, groups = service_network(aws, _live(aws))
    assert subnets == ["subnet-0aaaaaaaaaaaaaaaa"]
    assert groups == ["sg-0bbbbbbbbbbbbbbbb"]
    assert "describe_services processing" in aws.calls


def test_a_service_that_never_settles_is_a_failed_post_check():
    planned, template = _planned()
    aws = ScriptedAws(v10("minimal"), [_change("Add", "WatchbotService", "AWS::ECS::Service")])
    answers = iter([{"runningCount": 0, "desiredCount": 2, "deployments": [{}, {}]}] * 3)

    def never_steady(cluster: str, services: list[str]) -> dict[str, Any]:
        return {"services": [next(answers)]}

    aws.describe_services = never_steady  # type: ignore[method-assign]
    from watchbot_cfn.migrate.execute import postchecks

    said: list[str] = []
    slept: list[float] = []
    aws.physical["WatchbotService"] = SERVICE_ARN  # what the update created
    problems = postchecks(aws, _live(aws), planned, planned.service_id, said.append, steady_timeout=0.0,
                          interval=1.0, sleep=slept.append)
    assert problems == [f"service {SERVICE_ARN} is not steady after 0 s: 0 of 2 running"]


def test_a_fargate_source_without_subnets_gets_the_running_services(capsys):
    from watchbot_cfn.cli.migrate import _fill_network

    aws = ScriptedAws(v10("minimal"), [])
    data = {k: v for k, v in tomllib.loads(source("minimal")).items() if k != "fargate_subnets"}
    _fill_network(aws, _live(aws), data)
    assert data["fargate_subnets"] == ["subnet-0aaaaaaaaaaaaaaaa"]
    assert data["fargate_security_groups"] == ["sg-0bbbbbbbbbbbbbbbb"]
    assert "pre-check: Fargate subnets subnet-0aaaaaaaaaaaaaaaa and security groups sg-0bbbbbbbbbbbbbbbb, read " \
           "from the running service" in capsys.readouterr().err
    given = tomllib.loads(source("minimal"))
    _fill_network(aws, _live(aws), given)
    assert given["fargate_subnets"] == ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]  # the source's win
