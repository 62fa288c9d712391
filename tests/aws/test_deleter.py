"""``delete`` against CloudFormation's documented answers where moto cannot go: a delete that fails on a
resource (DELETE_FAILED), one that outlasts --timeout, and stacks busy with another operation. The delete of a
real stack on a moto server process is tests/integration/test_cli_delete.py."""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.aws.test_deployer import NOW, STACK, FakeClock, ScriptedCloudFormation, aws_with, event
from watchbot_cfn.aws.clients import AwsError
from watchbot_cfn.aws.deleter import DeleteRequest, Fate, delete, fates, warning_lines
from watchbot_cfn.statusline import StatusLine

TEMPLATE = {"Resources": {
    "WatchbotQueue": {"Type": "AWS::SQS::Queue"},
    "WatchbotLogGroup": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Delete"},
    "WatchbotProgressTable": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain"},
    "Archive": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Snapshot"},
    "WatchbotService": {"Type": "AWS::ECS::Service"},
}}
SUMMARIES = [
    {"LogicalResourceId": "WatchbotQueue", "ResourceType": "AWS::SQS::Queue", "ResourceStatus": "CREATE_COMPLETE",
     "PhysicalResourceId": "https://sqs.us-east-1.amazonaws.com/123456789012/media-WatchbotQueue"},
    {"LogicalResourceId": "WatchbotLogGroup", "ResourceType": "AWS::Logs::LogGroup",
     "ResourceStatus": "CREATE_COMPLETE", "PhysicalResourceId": "media-WatchbotLogGroup-1"},
    {"LogicalResourceId": "WatchbotProgressTable", "ResourceType": "AWS::DynamoDB::Table",
     "ResourceStatus": "CREATE_COMPLETE", "PhysicalResourceId": "media-progress"},
    {"LogicalResourceId": "Archive", "ResourceType": "AWS::S3::Bucket", "ResourceStatus": "CREATE_COMPLETE",
     "PhysicalResourceId": "media-archive"},
    {"LogicalResourceId": "WatchbotService", "ResourceType": "AWS::ECS::Service",
     "ResourceStatus": "CREATE_COMPLETE", "PhysicalResourceId": "arn:aws:ecs:service/media"},
]
#: A delete that stops at a bucket that is not empty, as CloudFormation reports it.
FAILED_DELETE = [
    [event(2, STACK, "DELETE_IN_PROGRESS", "User Initiated"),
     event(3, "WatchbotService", "DELETE_IN_PROGRESS")],
    [event(4, "WatchbotService", "DELETE_COMPLETE"),
     event(5, "Archive", "DELETE_FAILED", "The bucket you tried to delete is not empty", kind="AWS::S3::Bucket"),
     event(6, STACK, "DELETE_FAILED", "The following resource(s) failed to delete: [Archive].")],
]


class ScriptedStack(ScriptedCloudFormation):
    """The scripted CloudFormation with a template, a resource list and DeleteStack."""

    def __init__(self, polls: list[list[dict[str, Any]]], stack_status: str = "CREATE_COMPLETE") -> None:
        super().__init__(polls, [], stack_status=stack_status)

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        answer = super().describe_stacks(StackName)
        answer["Stacks"][0]["StackId"] = "arn:aws:cloudformation:us-east-1:123456789012:stack/media/1"
        return answer

    def get_template(self, StackName: str, TemplateStage: str) -> dict[str, Any]:
        return {"TemplateBody": TEMPLATE}

    def get_paginator(self, operation: str) -> Any:
        assert operation == "list_stack_resources"

        class Pages:
            def paginate(self, StackName: str) -> list[dict[str, Any]]:
                return [{"StackResourceSummaries": SUMMARIES[:3]}, {"StackResourceSummaries": SUMMARIES[3:]}]

        return Pages()

    def delete_stack(self, StackName: str) -> None:
        self.calls.append(("delete_stack", {"StackName": StackName}))
        self.executed = True


class Sqs:
    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        return {"Attributes": {"ApproximateNumberOfMessages": "3", "ApproximateNumberOfMessagesNotVisible": "1"}}


def run_delete(cfn: Any, confirm: Any = None, **request: Any) -> tuple[Any, str]:
    clock = FakeClock()
    output = io.StringIO()
    arguments = {"stack_name": STACK, "yes": True, "clock": clock, "sleep": clock.sleep, **request}
    outcome = delete(aws_with(cfn, sqs=Sqs()), DeleteRequest(**arguments), StatusLine(output, live=False),
                     confirm=confirm)
    return outcome, output.getvalue()


def test_the_warning_names_what_each_deletion_policy_keeps_or_loses():
    found = fates(TEMPLATE, SUMMARIES)
    assert [(f.logical_id, f.policy, f.kept) for f in found] == [
        ("WatchbotQueue", "Delete", False), ("WatchbotLogGroup", "Delete", False),
        ("WatchbotProgressTable", "Retain", True), ("Archive", "Snapshot", False)]
    lines = warning_lines(STACK, found, len(SUMMARIES), "region us-east-1")
    assert lines[0] == "stack media: deleting it removes its 5 resources (region us-east-1)"
    assert "LOST: the queue and its messages" in lines[1]
    assert "LOST: the log group and its logs" in lines[2]
    assert "kept: the table and its items stay (DeletionPolicy Retain), outside any stack" in lines[3]
    assert "lost, a snapshot kept: the bucket and its objects" in lines[4]
    assert lines[5] == "  and 1 other resource that holds no data (roles, task definition, service, alarms...)"
    unreadable = fates(None, SUMMARIES[:1])
    assert "the template could not be read" in unreadable[0].line(5)


def test_a_delete_that_fails_names_the_resource_why_and_the_ways_on():
    cfn = ScriptedStack([list(poll) for poll in FAILED_DELETE])
    outcome, printed = run_delete(cfn)
    assert not outcome.ok and outcome.status == "DELETE_FAILED"
    assert outcome.failures == ["Archive (AWS::S3::Bucket): The bucket you tried to delete is not empty"]
    assert outcome.detail == (
        "the delete failed (DELETE_FAILED); fix what is named above and run `watchbot-cfn delete --stack-name "
        "media` again, or leave those resources out of it: `aws cloudformation delete-stack --stack-name media "
        "--retain-resources Archive`")
    assert "LOST: the queue and its messages (3 messages waiting, 1 being worked on)" in printed
    assert "DELETE_FAILED" in printed.splitlines()[-1]


def test_a_delete_that_outlasts_the_timeout_says_cloudformation_goes_on():
    cfn = ScriptedStack([[event(2, STACK, "DELETE_IN_PROGRESS")]])
    outcome, printed = run_delete(cfn, timeout=45.0, poll_interval=5.0)
    assert outcome.status == "TIMEOUT" and not outcome.ok
    assert outcome.detail.startswith("stopped watching after 45s (--timeout 45) while it is DELETE_IN_PROGRESS; "
                                     "CloudFormation carries on: keep watching with `aws cloudformation wait "
                                     "stack-delete-complete --stack-name media`")
    assert "still DELETE_IN_PROGRESS after 30s; last event 30s ago: media DELETE_IN_PROGRESS" in printed


def test_declining_or_no_terminal_deletes_nothing():
    cfn = ScriptedStack([])
    outcome, printed = run_delete(cfn, yes=False, confirm=lambda question: False)
    assert outcome.status == "DECLINED" and outcome.ok
    assert printed.splitlines()[-1] == "stack media: not deleted"
    with pytest.raises(AwsError, match="standard input is not a terminal; pass --yes"):
        run_delete(cfn, yes=False, confirm=None)
    assert [name for name, _ in cfn.calls] == []


def test_a_stack_busy_with_an_update_is_not_deleted():
    cfn = ScriptedStack([], stack_status="UPDATE_IN_PROGRESS")
    with pytest.raises(AwsError, match=r"^stack media is UPDATE_IN_PROGRESS \(last event 44s ago: media "
                                       r"CREATE_COMPLETE\): another operation is running; wait until it settles"):
        run_delete(cfn, now=lambda: NOW)
    assert cfn.calls == []


def test_fate_of_a_retained_queue_has_no_message_count_needed():
    fate = Fate("Q", "AWS::SQS::Queue", "https://q", "RetainExceptOnCreate")
    assert fate.kept and "stay (DeletionPolicy RetainExceptOnCreate)" in fate.line(1)
