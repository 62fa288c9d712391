"""``watchbot-cfn migrate --from-stack --execute`` as a real process against a moto server process.

Given a Watchbot 10 stack deployed from the construct's own template, with messages waiting in its queue and
dead-letter queue and items in its table, when migrate takes it over in place, then the queue URLs, the topic ARN
and the table are the same, every message and item is still there, and a message published to the topic still
reaches the queue. moto cannot show change-set replacement details or a refused change set: those are
tests/migrate/test_execute_scripted.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.migrate.variants import source, variant
from tests.support.motoserver import REGION, MotoServer
from tests.support.waiting import until

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("watchbot-cfn")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "watchbot_cfn.cli.main"]


def cli(server: MotoServer, *args: str) -> subprocess.CompletedProcess:
    env = {**server.env(), "PYTHONWARNINGS": "ignore"}
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, cwd=REPO, timeout=300, env=env,
                          input="")


def deployable(template: dict[str, Any]) -> dict[str, Any]:
    """The construct's template as `cdk deploy` sends it, less CDK's bootstrap check: the BootstrapVersion
    parameter reads an SSM parameter the bootstrap stack would have created, which this endpoint has not."""
    copy = dict(template)
    copy.pop("Parameters", None)
    copy.pop("Rules", None)
    return copy


def physical_ids(server: MotoServer, stack: str) -> dict[str, str]:
    summaries = server.client("cloudformation").list_stack_resources(StackName=stack)["StackResourceSummaries"]
    return {item["LogicalResourceId"]: item["PhysicalResourceId"] for item in summaries
            if item.get("LogicalResourceId")}


def counts(server: MotoServer, url: str) -> int:
    attributes = server.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(value) for value in attributes["Attributes"].values())


def emulate_what_cloudformation_creates(server: MotoServer, queue_url: str, topic_arn: str) -> None:
    """moto's CloudFormation models neither AWS::SNS::Subscription nor AWS::SQS::QueuePolicy: make the
    subscription and the policy the v10 stack has on AWS (an update to them is then a no-op here, so these
    post-checks read what the update left in place, not what it set)."""
    queue_arn = server.client("sqs").get_queue_attributes(QueueUrl=queue_url,
                                                          AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}}}]}
    server.client("sqs").set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    server.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)


@pytest.fixture
def v10_stack(moto_server: MotoServer) -> dict[str, Any]:
    stack = f"Migrate-{uuid.uuid4().hex[:8]}"
    moto_server.client("ecs").create_cluster(clusterName="processing")
    template = variant("reduce", stack=stack, region=REGION, prefix="Watchbot", construct="Watchbot")
    cfn = moto_server.client("cloudformation")
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps(deployable(template)),
                     Capabilities=["CAPABILITY_IAM"])
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    ids = physical_ids(moto_server, stack)
    resources = template["Resources"]
    by_type = {kind: [key for key, item in resources.items() if item["Type"] == kind]
               for kind in ("AWS::SNS::Topic", "AWS::DynamoDB::Table")}
    queue = next(key for key, item in resources.items() if "RedrivePolicy" in item.get("Properties", {}))
    dead = resources[queue]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    return {"stack": stack, "ids": ids, "queue": queue, "dead": dead, "topic": by_type["AWS::SNS::Topic"][0],
            "table": by_type["AWS::DynamoDB::Table"][0]}


def test_execute_takes_over_a_v10_stack_and_keeps_every_message_and_item(moto_server, v10_stack, tmp_path):
    stack, ids = v10_stack["stack"], v10_stack["ids"]
    queue_url, dead_url = ids[v10_stack["queue"]], ids[v10_stack["dead"]]
    topic_arn, table = ids[v10_stack["topic"]], ids[v10_stack["table"]]
    sns, sqs, dynamodb = (moto_server.client(name) for name in ("sns", "sqs", "dynamodb"))
    emulate_what_cloudformation_creates(moto_server, queue_url, topic_arn)
    for number in range(3):
        sns.publish(TopicArn=topic_arn, Message=f"job {number}")
    sqs.send_message(QueueUrl=dead_url, MessageBody="failed job")
    for number in range(4):
        dynamodb.put_item(TableName=table, Item={"id": {"S": f"job-{number}"}, "parts": {"N": str(number)}})
    until(lambda: counts(moto_server, queue_url) == 3, timeout=30, what="the published jobs in the queue")

    src = tmp_path / "stack.toml"
    src.write_text(source("reduce"))  # moto's stack services have no network configuration to read subnets from
    adopted = tmp_path / "adopted.toml"
    result = cli(moto_server, "migrate", str(src), "--from-stack", stack, "--region", REGION, "--endpoint-url",
                 moto_server.endpoint, "--execute", "-o", str(adopted))
    err = result.stderr
    # moto deletes and re-creates a topic on every update (AWS updates a DisplayName in place), which drops the
    # subscription: the post-check must say so, and nothing else may fail
    failed = [line for line in err.splitlines() if "post-check failed" in line]
    assert failed == [f"migrate: post-check failed: the work queue is no longer subscribed to {topic_arn}"], err
    assert result.returncode == 1
    assert "pre-check: stack " in err and "is CREATE_COMPLETE" in err
    assert f"pre-check: export {stack}-topic is kept (who imports it is unknown: ListImports failed" in err  # moto

    assert "pre-check: the work queue is subscribed" in err
    assert "change set: no stateful resource replaced or removed" in err
    assert f"post-check: queue {v10_stack['queue']} is still {queue_url}" in err
    assert "post-check: the work queue's policy lets the topic send" in err
    assert 'topic_subscription = "resource"' in adopted.read_text()

    after = physical_ids(moto_server, stack)
    for logical_id in (v10_stack["queue"], v10_stack["dead"], v10_stack["topic"]):
        assert after[logical_id] == ids[logical_id]
    # moto lists an updated table without its ids; the table itself is the same one, with its items
    assert f"post-check: progress_table {v10_stack['table']} is still {table}" in err
    assert counts(moto_server, queue_url) == 3
    assert counts(moto_server, dead_url) == 1
    assert dynamodb.scan(TableName=table)["Count"] == 4
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)  # what AWS would have kept
    sns.publish(TopicArn=topic_arn, Message="after the move")
    until(lambda: counts(moto_server, queue_url) == 4, timeout=30, what="a message published after the move")
    stack_status = moto_server.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    assert stack_status["StackStatus"] == "UPDATE_COMPLETE"
    assert not any(key.startswith("WatchbotServiceTotalMessagesLambda") for key in after)


def test_from_stack_without_execute_prints_the_adoption_and_changes_nothing(moto_server, v10_stack, tmp_path):
    stack = v10_stack["stack"]
    cfn = moto_server.client("cloudformation")
    before = cfn.get_template(StackName=stack)["TemplateBody"]
    src = tmp_path / "stack.toml"
    src.write_text(source("reduce"))
    result = cli(moto_server, "migrate", str(src), "--from-stack", stack, "--region", REGION, "--endpoint-url",
                 moto_server.endpoint)
    assert result.returncode == 0, result.stderr
    assert f'+resource_names = {{ topic = "{stack}-WatchbotTopic", progress_table = "{stack.lower()}-watchbot-' \
           'progress" }' in result.stdout
    assert "stateful resources replaced or deleted: 5 before, 0 after adoption" in result.stderr
    assert src.read_text() == source("reduce")
    assert cfn.get_template(StackName=stack)["TemplateBody"] == before
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
