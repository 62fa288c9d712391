"""``watchbot-cfn delete`` as a real process against a moto server process: the warning lists what is lost
and what a DeletionPolicy keeps, nothing happens without --yes when standard input is not a terminal, and with
it the stack goes (and what was retained stays). DELETE_FAILED, the heartbeat and --timeout, which moto cannot
produce, are tests/aws/test_deleter.py."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.integration.test_cli_deploy import CLUSTER, SOURCE, cli, deploy, one_error_line, stack_name
from tests.support.motoserver import REGION, MotoServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(moto_server: MotoServer) -> MotoServer:
    moto_server.client("ecs").create_cluster(clusterName=CLUSTER)
    return moto_server


def delete(server: MotoServer, stack: str, *extra: str):
    return cli(server, "delete", "--stack-name", stack, "--endpoint-url", server.endpoint, "--region", REGION,
               *extra)


def status_of(server: MotoServer, stack: str) -> str | None:
    try:
        return server.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    except ClientError as error:
        assert "does not exist" in str(error)
        return None


def queue_url(server: MotoServer, stack: str, logical_id: str) -> str:
    resources = server.client("cloudformation").list_stack_resources(StackName=stack)["StackResourceSummaries"]
    return next(r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"] == logical_id)


def test_without_yes_and_without_a_terminal_the_warning_is_shown_and_nothing_is_deleted(server, tmp_path):
    source = tmp_path / "system.toml"
    source.write_text(SOURCE)
    stack = stack_name()
    assert deploy(server, source, stack, "--yes").returncode == 0
    url = queue_url(server, stack, "WatchbotQueue")
    server.client("sqs").send_message(QueueUrl=url, MessageBody="job 1")
    refused = delete(server, stack)
    assert "pass --yes to delete stack" in one_error_line(refused)
    lines = refused.stdout.splitlines()
    assert lines[0].startswith(f"stack {stack}: deleting it removes its ")
    queue = next(line for line in lines if line.strip().startswith("WatchbotQueue "))
    assert "LOST: the queue and its messages (1 message waiting)" in queue
    assert any("WatchbotLogGroup" in line and "LOST: the log group and its logs" in line for line in lines)
    assert any("WatchbotDeadLetterQueue" in line and "LOST: the queue and its messages" in line for line in lines)
    assert status_of(server, stack) == "CREATE_COMPLETE"
    assert server.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])


def test_with_yes_the_stack_goes_and_what_was_retained_stays(server, tmp_path):
    stack = stack_name()
    kept_name, lost_name = f"kept-{uuid.uuid4().hex[:8]}", f"lost-{uuid.uuid4().hex[:8]}"
    template = {"Resources": {
        "Kept": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Retain", "Properties": {"QueueName": kept_name}},
        "Lost": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": lost_name}},
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": f"/{stack}/logs"}},
    }}
    server.client("cloudformation").create_stack(StackName=stack, TemplateBody=json.dumps(template))
    assert status_of(server, stack) == "CREATE_COMPLETE"
    deleted = delete(server, stack, "--yes")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    out = deleted.stdout
    assert "kept: the queue and its messages stay (DeletionPolicy Retain), outside any stack" in \
        next(line for line in out.splitlines() if line.strip().startswith("Kept "))
    assert "LOST: the queue and its messages (0 messages waiting)" in \
        next(line for line in out.splitlines() if line.strip().startswith("Lost "))
    assert "LOST: the log group and its logs" in out
    assert "DELETE_IN_PROGRESS" in out, "the events were followed"
    assert f"stack {stack}: DELETE_COMPLETE in " in out
    assert "kept outside any stack: Kept " in out
    assert status_of(server, stack) is None
    urls = server.client("sqs").list_queues().get("QueueUrls", [])
    assert any(url.endswith(f"/{kept_name}") for url in urls)
    assert not any(url.endswith(f"/{lost_name}") for url in urls)
    assert server.client("logs").describe_log_groups(logGroupNamePrefix=f"/{stack}/")["logGroups"] == []


def test_the_stack_deploy_sends_here_from_review_in_progress_is_deleted(server, tmp_path):
    source = tmp_path / "system.toml"
    source.write_text(SOURCE)
    stack = stack_name()
    cfn = server.client("cloudformation")
    cfn.create_change_set(StackName=stack, ChangeSetName="earlier", ChangeSetType="CREATE",
                          TemplateBody=cli(server, "render", str(source)).stdout, Capabilities=["CAPABILITY_IAM"])
    assert f"delete --stack-name {stack}" in one_error_line(deploy(server, source, stack, "--yes"))
    deleted = delete(server, stack, "--yes")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert f"stack {stack}: deleting it removes its 0 resources" in deleted.stdout
    assert status_of(server, stack) is None
    assert deploy(server, source, stack, "--yes").returncode == 0, "and then deploy works"


def test_a_missing_stack_is_one_line(server):
    line = one_error_line(delete(server, "no-such-stack", "--yes"))
    assert f"stack 'no-such-stack' not found (region {REGION} at {server.endpoint}): check --stack-name" in line


