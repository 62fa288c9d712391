"""The deploy flow against CloudFormation's documented answers, where moto cannot go.

moto has no Replacement details, no asynchronous execution and no rollback, so
these cases script a CloudFormation client with the shapes and event
sequences AWS documents (an update whose service fails and is rolled back;
changes that replace resources). The flow against a real endpoint process is
tests/integration/test_cli_deploy.py.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from watchbot_cfn.aws.changeset import Change, format_change
from watchbot_cfn.aws.clients import Aws, AwsError
from watchbot_cfn.aws.deployer import (
    INLINE_LIMIT,
    DeployRequest,
    change_type_for,
    deploy,
    template_source,
)
from watchbot_cfn.aws.parameters import ParameterError, parse_assignments, stack_parameters
from watchbot_cfn.aws.stackevents import Event, failure_lines
from watchbot_cfn.statusline import StatusLine

STACK = "media"
TEMPLATE = {"Parameters": {"GitSha": {"Type": "String"}, "Size": {"Type": "Number", "Default": 1}},
            "Resources": {"WatchbotQueue": {"Type": "AWS::SQS::Queue"},
                          "WatchbotService": {"Type": "AWS::ECS::Service"},
                          "WatchbotTaskDefinition": {"Type": "AWS::ECS::TaskDefinition"}}}


def event(number: int, logical_id: str, status: str, reason: str = "", kind: str = "") -> dict[str, Any]:
    return {"EventId": f"e{number}", "LogicalResourceId": logical_id, "ResourceStatus": status,
            "ResourceType": kind or ("AWS::CloudFormation::Stack" if logical_id == STACK else "AWS::ECS::Service"),
            "ResourceStatusReason": reason, "Timestamp": datetime(2026, 1, 1, 12, 0, number, tzinfo=timezone.utc)}


OLD_EVENTS = [event(1, STACK, "CREATE_COMPLETE")]
#: A failed update as CloudFormation reports it, in the order it happens; one list per poll.
ROLLBACK_POLLS = [
    [event(2, STACK, "UPDATE_IN_PROGRESS", "User Initiated"),
     event(3, "WatchbotTaskDefinition", "UPDATE_IN_PROGRESS", kind="AWS::ECS::TaskDefinition")],
    [event(4, "WatchbotTaskDefinition", "UPDATE_COMPLETE", kind="AWS::ECS::TaskDefinition"),
     event(5, "WatchbotService", "UPDATE_IN_PROGRESS"),
     event(6, "WatchbotService", "UPDATE_FAILED", 'Resource handler returned message: "Cluster not found." '
                                                  "(HandlerErrorCode: NotFound)"),
     event(7, "WatchbotQueue", "UPDATE_FAILED", "Resource update cancelled", kind="AWS::SQS::Queue"),
     event(8, STACK, "UPDATE_ROLLBACK_IN_PROGRESS", "The following resource(s) failed to update: "
                                                    "[WatchbotService].")],
    [event(9, "WatchbotService", "UPDATE_COMPLETE"),
     event(10, STACK, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"),
     event(11, STACK, "UPDATE_ROLLBACK_COMPLETE")],
]
CHANGES = [
    {"Type": "Resource", "ResourceChange": {
        "Action": "Modify", "LogicalResourceId": "WatchbotTaskDefinition", "ResourceType": "AWS::ECS::TaskDefinition",
        "Replacement": "True", "Details": [{"Target": {"Attribute": "Properties", "Name": "ContainerDefinitions"}}]}},
    {"Type": "Resource", "ResourceChange": {
        "Action": "Modify", "LogicalResourceId": "WatchbotService", "ResourceType": "AWS::ECS::Service",
        "Replacement": "Conditional", "Details": [{"Target": {"Attribute": "Properties", "Name": "TaskDefinition"}}]}},
]


class ScriptedCloudFormation:
    """Answers like CloudFormation: a change set that takes a poll to compute, then events poll by poll."""

    def __init__(self, polls: list[list[dict[str, Any]]], changes: list[dict[str, Any]],
                 stack_status: str | None = "UPDATE_COMPLETE") -> None:
        self.polls = polls
        self.changes = changes
        self.stack_status = stack_status
        self.stack_reason = ""
        self.history = list(OLD_EVENTS)  # oldest first
        self.executed = False
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        if self.stack_status is None:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "ValidationError", "Message": f"Stack with id {StackName} does "
                                         "not exist"}}, "DescribeStacks")
        return {"Stacks": [{"StackStatus": self.stack_status, "StackStatusReason": self.stack_reason,
                            "Parameters": [{"ParameterKey": "GitSha", "ParameterValue": "old"}]}]}

    def create_change_set(self, **arguments: Any) -> dict[str, Any]:
        self.calls.append(("create_change_set", arguments))
        self.pending = 1
        return {"Id": "arn:changeset/1", "StackId": "arn:stack/media"}

    def describe_change_set(self, **arguments: Any) -> dict[str, Any]:
        if self.pending:
            self.pending -= 1
            return {"Status": "CREATE_PENDING", "StackId": "arn:stack/media"}
        return {"Status": "CREATE_COMPLETE", "StackId": "arn:stack/media", "Changes": self.changes}

    def delete_change_set(self, **arguments: Any) -> None:
        self.calls.append(("delete_change_set", arguments))

    def execute_change_set(self, **arguments: Any) -> None:
        self.calls.append(("execute_change_set", arguments))
        self.executed = True

    def describe_stack_events(self, StackName: str, NextToken: str | None = None) -> dict[str, Any]:
        if self.executed and self.polls and NextToken is None:
            self.history.extend(self.polls.pop(0))
        newest_first = list(reversed(self.history))
        # pages of three, so a poll has to follow NextToken
        start = int(NextToken or 0)
        page = {"StackEvents": newest_first[start:start + 3]}
        if start + 3 < len(newest_first):
            page["NextToken"] = str(start + 3)
        return page


class ScriptedSession:
    """A boto3 session that hands out the scripted clients by service name."""

    def __init__(self, clients: dict[str, Any]) -> None:
        self.clients = clients

    def client(self, service: str, **settings: Any) -> Any:
        return self.clients[service]


def aws_with(cfn: Any, **others: Any) -> Aws:
    return Aws(session=ScriptedSession({"cloudformation": cfn, **others}), region="us-east-1", endpoint_url=None)


def run_deploy(cfn: Any, **request: Any) -> tuple[Any, str]:
    output = io.StringIO()
    arguments = {"stack_name": STACK, "template": TEMPLATE, "parameters": {"GitSha": "new"}, "yes": True,
                 "poll_interval": 0.0, **request}
    outcome = deploy(aws_with(cfn), DeployRequest(**arguments), StatusLine(output, live=False))
    return outcome, output.getvalue()


def test_failed_update_that_rolls_back_names_the_resource_and_the_reason():
    cfn = ScriptedCloudFormation([list(poll) for poll in ROLLBACK_POLLS], CHANGES)
    outcome, printed = run_deploy(cfn)
    assert not outcome.ok
    assert outcome.status == "UPDATE_ROLLBACK_COMPLETE"
    assert outcome.failures == ['WatchbotService (AWS::ECS::Service): Resource handler returned message: '
                                '"Cluster not found." (HandlerErrorCode: NotFound)']
    assert "rolled back" in outcome.describe()
    # every new event was shown once, in order, and none of the old ones
    shown = [line.split()[1] for line in printed.splitlines() if line[:2].isdigit()]
    assert shown == [e["ResourceStatus"] for poll in ROLLBACK_POLLS for e in poll]


def test_replacements_are_marked_and_previous_parameters_kept():
    cfn = ScriptedCloudFormation([[event(2, STACK, "UPDATE_IN_PROGRESS"), event(3, STACK, "UPDATE_COMPLETE")]],
                                 CHANGES)
    outcome, printed = run_deploy(cfn, parameters={})
    assert outcome.ok and outcome.status == "UPDATE_COMPLETE"
    assert "2 changes, 2 of them replacing a resource" in printed
    task_line = next(line for line in printed.splitlines() if "WatchbotTaskDefinition" in line)
    assert "REPLACED: a new resource takes its place" in task_line and "[ContainerDefinitions]" in task_line
    assert "may be REPLACED" in next(line for line in printed.splitlines() if "Modify  WatchbotService" in line)
    (_, created), = [call for call in cfn.calls if call[0] == "create_change_set"]
    assert created["ChangeSetType"] == "UPDATE"
    assert created["Parameters"] == [{"ParameterKey": "GitSha", "UsePreviousValue": True}]
    assert "CAPABILITY_NAMED_IAM" in created["Capabilities"]


def test_without_confirmation_nothing_is_executed_and_the_change_set_is_deleted():
    cfn = ScriptedCloudFormation([], CHANGES)
    output = io.StringIO()
    outcome = deploy(aws_with(cfn), DeployRequest(STACK, TEMPLATE, {"GitSha": "x"}, poll_interval=0.0),
                     StatusLine(output, live=False), confirm=lambda question: False)
    assert outcome.status == "DECLINED" and outcome.ok
    assert [name for name, _ in cfn.calls] == ["create_change_set", "delete_change_set"]


@pytest.mark.parametrize("status,expected", [
    (None, "CREATE"), ("UPDATE_ROLLBACK_COMPLETE", "UPDATE"), ("CREATE_COMPLETE", "UPDATE")])
def test_change_type(status, expected):
    stack = None if status is None else {"StackStatus": status}
    assert change_type_for(stack, STACK) == expected


NOW = datetime(2026, 1, 1, 12, 0, 45, tzinfo=timezone.utc)


@pytest.mark.parametrize("status,last_event_at,expected", [
    ("REVIEW_IN_PROGRESS", None, "stack media is REVIEW_IN_PROGRESS: it was made for a change set that was never "
                                 "applied (an earlier first deploy stopped or failed) and holds no resources; delete "
                                 "it with `watchbot-cfn delete --stack-name media`, then deploy again"),
    ("ROLLBACK_COMPLETE", None, "stack media is ROLLBACK_COMPLETE: its first deploy failed and was rolled back, and "
                                "CloudFormation cannot update such a stack; delete it with `watchbot-cfn delete "
                                "--stack-name media`, then deploy again"),
    ("ROLLBACK_FAILED", None, "stack media is ROLLBACK_FAILED: its first deploy failed and could not be rolled back"),
    ("DELETE_FAILED", None, "stack media is DELETE_FAILED (The following resource(s) failed to delete: "
                            "[WatchbotBucket].): a delete stopped at resources it could not remove; run "
                            "`watchbot-cfn delete --stack-name media` again"),
    ("UPDATE_ROLLBACK_FAILED", None, "`aws cloudformation continue-update-rollback --stack-name media`"),
    ("UPDATE_IN_PROGRESS", 5, "stack media is UPDATE_IN_PROGRESS (last event 40s ago: WatchbotService "
                              "UPDATE_IN_PROGRESS): another operation is running; wait until it settles"),
    ("UPDATE_IN_PROGRESS", -2400, "stack media is UPDATE_IN_PROGRESS and not moving (last event 40m45s ago: "
                                  "WatchbotService UPDATE_IN_PROGRESS); CloudFormation is still waiting on that "
                                  "resource (an ECS service whose tasks never start waits up to 3 hours): wait, or "
                                  "cancel the update (CloudFormation rolls it back) with `aws cloudformation "
                                  "cancel-update-stack --stack-name media`"),
    ("CREATE_IN_PROGRESS", -2400, "and not moving (last event 40m45s ago: WatchbotService UPDATE_IN_PROGRESS); "
                                  "CloudFormation is still waiting on that resource (an ECS service whose tasks "
                                  "never start waits up to 3 hours): wait, or give up on the create and remove what "
                                  "it made with `watchbot-cfn delete --stack-name media`"),
    ("UPDATE_ROLLBACK_IN_PROGRESS", -2400, "wait: CloudFormation cannot cancel this step"),
])
def test_a_stack_that_cannot_take_a_change_set_is_one_line_naming_its_state_and_the_next_step(
        status, last_event_at, expected):
    cfn = ScriptedCloudFormation([], CHANGES, stack_status=status)
    if status == "DELETE_FAILED":
        cfn.stack_reason = "The following resource(s) failed to delete: [WatchbotBucket]."
    if last_event_at is not None:
        last = event(last_event_at % 60, "WatchbotService", "UPDATE_IN_PROGRESS")
        last["Timestamp"] = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc) + timedelta(seconds=last_event_at)
        cfn.history.append(last)
    with pytest.raises(AwsError) as raised:
        run_deploy(cfn, now=lambda: NOW)
    line = str(raised.value)
    assert "\n" not in line
    assert expected in line
    assert cfn.calls == [], "no change set was made, nothing half-done"


def test_template_limits():
    aws = Aws(session=None, region="us-east-1", endpoint_url=None)
    small = {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}
    compact = '{"Resources":{"Q":{"Type":"AWS::SQS::Queue"}}}'
    assert template_source(aws, STACK, small, None) == {"TemplateBody": compact}
    big = {"Resources": {f"Q{n}": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "x" * 200}}
                         for n in range(300)}}
    with pytest.raises(AwsError, match=f"at most {INLINE_LIMIT:,} inline: give --s3-bucket"):
        template_source(aws, STACK, big, None)
    many = {"Resources": {f"Q{n}": {"Type": "AWS::SQS::Queue"} for n in range(501)}}
    with pytest.raises(AwsError, match="501 resources; a CloudFormation stack holds at most 500"):
        template_source(aws, STACK, many, "bucket")


def test_parameters():
    assert parse_assignments(["A=1", "B=x=y", "A=2"]) == {"A": "2", "B": "x=y"}
    with pytest.raises(ParameterError, match="expected KEY=VALUE"):
        parse_assignments(["novalue"])
    with pytest.raises(ParameterError, match="'Nope' is not a parameter of the template; allowed: GitSha, Size"):
        stack_parameters(TEMPLATE, {"Nope": "1"})
    with pytest.raises(ParameterError, match="give --parameter GitSha=VALUE"):
        stack_parameters(TEMPLATE, {})
    assert stack_parameters(TEMPLATE, {"Size": "3"}, previous=["GitSha"]) == [
        {"ParameterKey": "GitSha", "UsePreviousValue": True}, {"ParameterKey": "Size", "ParameterValue": "3"}]


def test_failure_lines_fall_back_to_the_stack_reason():
    events = [Event.from_api(event(1, STACK, "ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create"))]
    assert failure_lines(events, STACK) == [f"{STACK}: The following resource(s) failed to create"]


def test_format_change_for_add_and_remove():
    assert format_change(Change("Add", "Q", "AWS::SQS::Queue", ""), 3, 15) == "  + Add     Q    AWS::SQS::Queue"
    assert format_change(Change("Remove", "T", "AWS::SNS::Topic", "True"), 1, 15).startswith("  - Remove  T")


class FakeClock:
    """Monotonic time that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def run_watched(polls: list[list[dict[str, Any]]], **request: Any) -> tuple[Any, str, FakeClock]:
    clock = FakeClock()
    cfn = ScriptedCloudFormation(polls, CHANGES)
    outcome, printed = run_deploy(cfn, poll_interval=2.0, clock=clock, sleep=clock.sleep, **request)
    return outcome, printed, clock


def test_a_heartbeat_line_every_30_seconds_without_events_says_how_long_and_what_happened_last():
    started = [event(2, STACK, "UPDATE_IN_PROGRESS"), event(3, "WatchbotService", "UPDATE_IN_PROGRESS")]
    finished = [event(4, "WatchbotService", "UPDATE_COMPLETE"), event(5, STACK, "UPDATE_COMPLETE")]
    # the service takes 41 polls of 2 s (82 s) with no event at all
    outcome, printed, _ = run_watched([started, *[[] for _ in range(40)], finished])
    assert outcome.ok and outcome.status == "UPDATE_COMPLETE"
    heartbeats = [line for line in printed.splitlines() if line.startswith("still ")]
    assert heartbeats == [
        "still UPDATE_IN_PROGRESS after 30s; last event 30s ago: WatchbotService UPDATE_IN_PROGRESS",
        "still UPDATE_IN_PROGRESS after 1m00s; last event 1m00s ago: WatchbotService UPDATE_IN_PROGRESS",
    ]
    assert printed.splitlines()[-1] == f"stack {STACK}: UPDATE_COMPLETE in 82 s"


def test_events_keep_the_heartbeat_away():
    steady = [[event(n, "WatchbotService", "UPDATE_IN_PROGRESS")] for n in range(3, 40)]
    outcome, printed, _ = run_watched([[event(2, STACK, "UPDATE_IN_PROGRESS")], *steady,
                                       [event(41, STACK, "UPDATE_COMPLETE")]])
    assert outcome.ok
    assert not [line for line in printed.splitlines() if line.startswith("still ")]


def test_the_event_wait_ends_by_timeout_and_says_how_to_keep_watching_or_cancel():
    outcome, printed, _ = run_watched([[event(2, STACK, "UPDATE_IN_PROGRESS")]], timeout=60.0)
    assert outcome.status == "TIMEOUT" and not outcome.ok
    assert outcome.describe() == (
        "stopped watching after 1m00s (--timeout 60) while it is UPDATE_IN_PROGRESS; CloudFormation carries on: "
        "keep watching with `aws cloudformation wait stack-update-complete --stack-name media` (or its events in "
        "the console), or cancel the update (CloudFormation rolls it back) with "
        "`aws cloudformation cancel-update-stack --stack-name media`")
    assert "still UPDATE_IN_PROGRESS after 30s; last event 30s ago: media UPDATE_IN_PROGRESS" in printed


def test_timeout_is_an_option_of_deploy_with_a_default():
    from watchbot_cfn.cli.main import build_parser

    parser = build_parser(["deploy"])
    assert parser.parse_args(["deploy", "s.toml", "--stack-name", "s"]).timeout == 1800.0
    assert parser.parse_args(["deploy", "s.toml", "--stack-name", "s", "--timeout", "90"]).timeout == 90.0
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["deploy", "s.toml", "--stack-name", "s", "--timeout", "-5"])
    assert exited.value.code == 2
