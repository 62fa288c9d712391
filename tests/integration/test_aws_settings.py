"""Every tool reaches AWS the same way (docs/commands.md, "Reaching AWS"): region from --region, AWS_REGION,
AWS_DEFAULT_REGION or the profile; a loopback endpoint needs neither region nor credentials.

The same stack exists in two regions of one moto server; which one a tool finds shows which region it used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
AWAY = "eu-west-1"
HOME = "us-east-1"  # what a loopback endpoint assumes when nothing says otherwise


def template(stack: str) -> str:
    """The original's logical ids, enough for send and watchbot-dead-letter to find a system."""
    return json.dumps({"Resources": {
        "WatchbotDeadLetterQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"{stack}-dead"}},
        "WatchbotQueue": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": f"{stack}-work",
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["WatchbotDeadLetterQueue", "Arn"]},
                              "maxReceiveCount": 3}}},
        "WatchbotTopic": {"Type": "AWS::SNS::Topic", "Properties": {"Subscription": [
            {"Protocol": "sqs", "Endpoint": {"Fn::GetAtt": ["WatchbotQueue", "Arn"]}}]}},
    }})


def client(server, service: str, region: str):
    return boto3.client(service, endpoint_url=server.endpoint, region_name=region, aws_access_key_id="x",
                        aws_secret_access_key="x")


@pytest.fixture(scope="module")
def stacks(moto_server):
    """One stack name and one table name, in both regions; the work queue of each, by region."""
    name = f"settings-{uuid.uuid4().hex[:6]}"
    queues = {}
    for region in (AWAY, HOME):
        client(moto_server, "cloudformation", region).create_stack(StackName=name, TemplateBody=template(name))
        sqs = client(moto_server, "sqs", region)
        queues[region] = sqs.get_queue_url(QueueName=f"{name}-work")["QueueUrl"]
        sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=f"{name}-dead")["QueueUrl"],
                         MessageBody=f"dead in {region}")
        client(moto_server, "dynamodb", region).create_table(
            TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    return name, queues


def bare_environment(tmp_path: Path) -> dict[str, str]:
    """No AWS setting at all, and no config or credentials files to fall back on."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=str(tmp_path / "no-config"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-creds"),
               AWS_EC2_METADATA_DISABLED="true")
    return env


def ways(server, tmp_path: Path) -> dict[str, tuple[dict[str, str], list[str], str]]:
    """name -> (environment, extra arguments, the region the tool must use)."""
    endpoint = {"AWS_ENDPOINT_URL": server.endpoint}
    profile_dir = tmp_path / "profile"
    profile_dir.mkdir(exist_ok=True)
    (profile_dir / "config").write_text(f"[profile away]\nregion = {AWAY}\n")
    (profile_dir / "credentials").write_text("[away]\naws_access_key_id = x\naws_secret_access_key = x\n")
    profile = {"AWS_CONFIG_FILE": str(profile_dir / "config"),
               "AWS_SHARED_CREDENTIALS_FILE": str(profile_dir / "credentials")}
    return {
        "AWS_REGION only": ({**endpoint, "AWS_REGION": AWAY}, [], AWAY),
        "AWS_DEFAULT_REGION only": ({**endpoint, "AWS_DEFAULT_REGION": AWAY}, [], AWAY),
        "AWS_PROFILE only": ({**endpoint, **profile, "AWS_PROFILE": "away"}, [], AWAY),
        "--profile": ({**endpoint, **profile}, ["--profile", "away"], AWAY),
        "--region and --endpoint-url": ({}, ["--region", AWAY, "--endpoint-url", server.endpoint], AWAY),
        "loopback endpoint, nothing else": (endpoint, [], HOME),
    }


WAYS = ["AWS_REGION only", "AWS_DEFAULT_REGION only", "AWS_PROFILE only", "--profile", "--region and --endpoint-url",
        "loopback endpoint, nothing else"]


def run(tmp_path: Path, env: dict[str, str], *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / argv[0]), *argv[1:]], env={**bare_environment(tmp_path), **env},
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("way", WAYS)
def test_send_reaches_the_stack_of_the_region_it_was_told(moto_server, stacks, tmp_path, way):
    name, queues = stacks
    env, extra, region = ways(moto_server, tmp_path)[way]
    marker = f"hello {uuid.uuid4().hex[:6]}"
    result = run(tmp_path, env, "watchbot-cfn", "send", "--stack-name", name, *extra, marker)
    assert result.returncode == 0, result.stderr
    received = client(moto_server, "sqs", region).receive_message(QueueUrl=queues[region], WaitTimeSeconds=1,
                                                                  MaxNumberOfMessages=10)
    assert any(marker in message["Body"] for message in received.get("Messages", []))


@pytest.mark.parametrize("way", WAYS)
def test_watchbot_dead_letter_reaches_the_stack_of_the_region_it_was_told(moto_server, stacks, tmp_path, way):
    name, _ = stacks
    env, extra, region = ways(moto_server, tmp_path)[way]
    result = run(tmp_path, env, "watchbot-dead-letter", "print", "--stack-name", name, *extra)
    assert result.returncode == 0, result.stderr
    assert f"dead in {region}" in result.stdout


@pytest.mark.parametrize("way", WAYS)
def test_watchbot_progress_reaches_the_table_of_the_region_it_was_told(moto_server, stacks, tmp_path, way):
    name, _ = stacks
    env, extra, region = ways(moto_server, tmp_path)[way]
    job = f"job-{uuid.uuid4().hex[:6]}"
    result = run(tmp_path, env, "watchbot-progress", "--table", name, *extra, "set-total", job, "--total", "2")
    assert result.returncode == 0, result.stderr
    item = client(moto_server, "dynamodb", region).get_item(TableName=name, Key={"id": {"S": job}})
    assert item["Item"]["total"] == {"N": "2"}


@pytest.mark.parametrize("tool", [["watchbot-cfn", "send", "--stack-name", "x", "hi"],
                                  ["watchbot-dead-letter", "print", "--stack-name", "x"],
                                  ["watchbot-progress", "--table", "jobs", "status", "j"]])
def test_no_region_anywhere_is_one_line_naming_the_ways_to_give_one(tmp_path, tool):
    result = run(tmp_path, {}, *tool)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert "no AWS region" in line and "AWS_REGION" in line and "AWS_DEFAULT_REGION" in line
