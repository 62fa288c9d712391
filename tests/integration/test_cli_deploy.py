"""``watchbot-cfn deploy`` and ``send`` as real processes against a moto server process.

moto's CloudFormation computes change sets (Add/Modify/Remove, without
Replacement details), executes them inside the ExecuteChangeSet call and
never rolls back: a resource that fails makes that call answer with the
resource's error. The rollback path of real CloudFormation (events ending in
UPDATE_ROLLBACK_COMPLETE) is covered by tests/aws/test_deployer.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.support.motoserver import REGION, MotoServer

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("watchbot-cfn")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "watchbot_cfn.cli.main"]
CLUSTER = "deploy-tests"

SOURCE = f"""\
cluster = "{CLUSTER}"
service = "resize"
service_version = "abc123"
command = "./resize.sh"
notification_email = "ops@example.com"
"""


def cli(server: MotoServer, *args: str, stdin: str | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**server.env(), "PYTHONWARNINGS": "ignore"}
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, cwd=cwd, timeout=120, env=env,
                          input=stdin if stdin is not None else "")


def deploy(server: MotoServer, source: Path, stack: str, *extra: str) -> subprocess.CompletedProcess:
    return cli(server, "deploy", str(source), "--stack-name", stack, "--endpoint-url", server.endpoint,
               "--region", REGION, *extra)


def one_error_line(result: subprocess.CompletedProcess, code: int = 1) -> str:
    assert result.returncode == code, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("watchbot-cfn"), lines
    assert "Traceback" not in result.stderr
    return lines[0]


def stack_name() -> str:
    return f"deploy-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def server(moto_server: MotoServer) -> MotoServer:
    moto_server.client("ecs").create_cluster(clusterName=CLUSTER)
    return moto_server


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "system.toml"
    path.write_text(SOURCE)
    return path


def task_definition(server: MotoServer, stack: str) -> tuple[str, list[str]]:
    """(the task definition's ARN, the command in the stack's current template)."""
    cfn = server.client("cloudformation")
    resources = cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    arn = next(r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::ECS::TaskDefinition")
    body = cfn.get_template(StackName=stack)["TemplateBody"]
    template = body if isinstance(body, dict) else json.loads(body)
    container = template["Resources"]["WatchbotTaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    # (moto registers an updated revision without its command, so the stack's template is read instead)
    return arn, container["Command"]


def test_create_then_no_changes_then_update(server, source):
    stack = stack_name()
    # when a new stack is deployed
    created = deploy(server, source, stack, "--yes")
    # then the change set lists every resource as added and the stack is complete
    assert created.returncode == 0, created.stderr
    template = json.loads(cli(server, "render", str(source)).stdout)
    for logical_id in template["Resources"]:
        assert f"+ Add     {logical_id}" in created.stdout
    assert f"stack {stack}: CREATE_COMPLETE" in created.stdout
    status = server.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    assert status == "CREATE_COMPLETE"
    first_arn, command = task_definition(server, stack)
    assert command == ["watchbot", "listen", "./resize.sh"]

    # when the same source is deployed again, nothing changes and that is success
    again = deploy(server, source, stack, "--yes")
    assert again.returncode == 0, again.stderr
    assert f"stack {stack}: no changes" in again.stdout

    # when the command changes, only the task definition (and what refers to it) is modified
    source.write_text(SOURCE.replace("./resize.sh", "./resize.sh --fast"))
    updated = deploy(server, source, stack, "--yes")
    assert updated.returncode == 0, updated.stderr
    assert "~ Modify  WatchbotTaskDefinition" in updated.stdout
    assert "+ Add" not in updated.stdout and "- Remove" not in updated.stdout
    assert f"stack {stack}: UPDATE_COMPLETE" in updated.stdout
    arn, command = task_definition(server, stack)
    assert command == ["watchbot", "listen", "./resize.sh --fast"]
    assert arn != first_arn, "a new task definition revision was registered"


def test_failing_update_names_the_failure_and_exits_1(server, source):
    stack = stack_name()
    assert deploy(server, source, stack, "--yes").returncode == 0
    # when the update moves the service to a cluster that does not exist, spelled so that only CloudFormation
    # can know it (ECS refuses the service while the change set executes)
    source.write_text(SOURCE.replace(f'"{CLUSTER}"', '{ "Fn::Join" = ["", ["no-such", "-cluster"]] }'))
    failed = deploy(server, source, stack, "--yes")
    # then the change set was shown, the reason is printed and the exit code is 1
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "~ Modify  WatchbotService" in failed.stdout
    assert "Cluster not found" in failed.stderr
    assert failed.stderr.splitlines()[-1].startswith(f"watchbot-cfn: error: stack {stack}: ")
    assert "Traceback" not in failed.stderr


def test_a_missing_cluster_is_named_before_anything_is_created(server, source):
    stack = stack_name()
    source.write_text(SOURCE.replace(CLUSTER, "not-made-yet"))
    line = one_error_line(deploy(server, source, stack, "--yes"))
    assert f"WatchbotService (Cluster): the ECS cluster 'not-made-yet' does not exist in region {REGION}" in line
    assert "aws ecs create-cluster --cluster-name not-made-yet" in line
    names = [s["StackName"] for s in server.client("cloudformation").list_stacks()["StackSummaries"]]
    assert stack not in names, "no stack, not even one in REVIEW_IN_PROGRESS"


def test_dry_run_and_declining_leave_no_stack(server, source):
    stack = stack_name()
    dry = deploy(server, source, stack, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "+ Add     WatchbotQueue" in dry.stdout and "dry run" in dry.stdout
    # stdin is not a terminal: without --yes nothing is applied, and that is an error
    unconfirmed = deploy(server, source, stack)
    assert "--yes" in one_error_line(unconfirmed)
    stacks = server.client("cloudformation").list_stacks()["StackSummaries"]
    assert [s["StackStatus"] for s in stacks if s["StackName"] == stack and s["StackStatus"] != "DELETE_COMPLETE"] \
        == []


def test_large_template_needs_a_bucket_and_goes_through_s3(server, tmp_path):
    source = tmp_path / "three.toml"
    systems = "\n".join(f'[[systems]]\nprefix = "{p}"\ncluster = "{CLUSTER}"\nservice = "s"\nservice_version = "1"\n'
                        f'command = "true"\nnotification_email = "ops@example.com"\n'
                        for p in ("Alpha", "Beta", "Gamma"))
    source.write_text(systems)
    stack = stack_name()
    refused = deploy(server, source, stack, "--yes")
    line = one_error_line(refused)
    assert "51,200" in line and "--s3-bucket" in line
    bucket = f"templates-{uuid.uuid4().hex[:8]}"
    server.client("s3").create_bucket(Bucket=bucket)
    uploaded = deploy(server, source, stack, "--yes", "--s3-bucket", bucket)
    assert uploaded.returncode == 0, uploaded.stderr
    assert f"s3://{bucket}/watchbot-cfn/{stack}/" in uploaded.stdout
    keys = [o["Key"] for o in server.client("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    assert len(keys) == 1
    status = server.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    assert status == "CREATE_COMPLETE"


@pytest.mark.parametrize("case", ["missing source", "template error", "unknown parameter", "bad stack name",
                                  "unreachable endpoint"])
def test_bad_input_is_one_line(server, source, tmp_path, case):
    stack = stack_name()
    if case == "missing source":
        result = deploy(server, tmp_path / "absent.toml", stack, "--yes")
        expected = "absent.toml: no such file"
    elif case == "template error":
        source.write_text(SOURCE + '\n[Resources.Extra]\nType = "AWS::SQS::Queue"\n'
                                   'Properties = { QueueName = { Ref = "Nowhere" } }\n')
        result = deploy(server, source, stack, "--yes")
        expected = "Extra refers to 'Nowhere'"
    elif case == "unknown parameter":
        result = deploy(server, source, stack, "--yes", "--parameter", "GitSha=1")
        expected = "'GitSha' is not a parameter"
    elif case == "bad stack name":
        result = deploy(server, source, "1-bad", "--yes")
        expected = "--stack-name: got '1-bad'"
    else:
        result = cli(server, "deploy", str(source), "--stack-name", stack, "--endpoint-url", "http://127.0.0.1:9",
                     "--region", REGION, "--yes")
        expected = "cannot reach http://127.0.0.1:9"
    assert expected in one_error_line(result)
    names = [s["StackName"] for s in server.client("cloudformation").list_stacks()["StackSummaries"]]
    assert stack not in names, "nothing was created"


def test_unknown_option_is_a_usage_error():
    result = subprocess.run([*COMMAND, "deploy", "x.toml", "--stack-name", "s", "--bogus"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "watchbot-cfn: error: unrecognized arguments: --bogus (usage: watchbot-cfn --help)"]


def test_send_to_a_missing_stack_is_one_line(server):
    assert "stack 'nowhere-stack' not found in us-east-1" in one_error_line(
        cli(server, "send", "--stack-name", "nowhere-stack", "--endpoint-url", server.endpoint, "hello"))


def test_send_to_a_fifo_system_needs_a_group_and_keeps_order(server, tmp_path):
    source = tmp_path / "fifo.toml"
    source.write_text(SOURCE + "fifo = true\n")
    stack = stack_name()
    assert deploy(server, source, stack, "--yes").returncode == 0
    line = one_error_line(cli(server, "send", "--stack-name", stack, "--endpoint-url", server.endpoint, "a"))
    assert "--group-id" in line
    # given three lines, one blank, on standard input
    sent = cli(server, "send", "--stack-name", stack, "--endpoint-url", server.endpoint, "--group-id", "g1", "-",
               stdin="first\n\nsecond\nfirst\n")
    assert sent.returncode == 0, sent.stderr
    ids = sent.stdout.split()
    assert len(ids) == 3 and len(set(ids)) == 3, "equal lines are separate jobs"
    sqs = server.client("sqs")
    url = next(r["PhysicalResourceId"] for r in server.client("cloudformation").list_stack_resources(
        StackName=stack)["StackResourceSummaries"] if r["LogicalResourceId"] == "WatchbotQueue")
    bodies = []
    while len(bodies) < 3:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                       AttributeNames=["MessageGroupId"]).get("Messages", [])
        assert messages, f"only {bodies} arrived"
        for message in messages:
            assert message["Attributes"]["MessageGroupId"] == "g1"
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert bodies == ["first", "second", "first"]


def test_send_from_a_file_to_the_topic(server, source, tmp_path):
    stack = stack_name()
    assert deploy(server, source, stack, "--yes").returncode == 0
    lines = tmp_path / "jobs.txt"
    lines.write_text("".join(f"job {n}\n" for n in range(12)))
    sent = cli(server, "send", "--stack-name", stack, "--endpoint-url", server.endpoint, "--file", str(lines),
               "--subject", "batch")
    assert sent.returncode == 0, sent.stderr
    assert len(sent.stdout.split()) == 12, "two batches, every id printed"
    assert "sent 12 of 12 messages to the topic" in sent.stderr
    assert "--group-id" in one_error_line(cli(server, "send", "--stack-name", stack, "--endpoint-url",
                                              server.endpoint, "--group-id", "g", "x"))


def test_region_and_credentials_default_for_a_loopback_endpoint(server, source):
    stack = stack_name()
    assert deploy(server, source, stack, "--yes").returncode == 0
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(HOME=str(source.parent), PYTHONWARNINGS="ignore")  # no config files, no credentials, no region
    result = subprocess.run([*COMMAND, "send", "--stack-name", stack, "--endpoint-url", server.endpoint, "hi"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    away = subprocess.run([*COMMAND, "send", "--stack-name", stack, "hi"], capture_output=True, text=True,
                          timeout=60, env=env)
    assert "no AWS region" in one_error_line(away)


def test_a_stack_left_in_review_is_one_line_naming_the_state_and_the_next_step(server, source):
    stack = stack_name()
    # given a first change set that was made and never applied (as a failed or stopped first deploy leaves it)
    cfn = server.client("cloudformation")
    template = cli(server, "render", str(source)).stdout
    cfn.create_change_set(StackName=stack, ChangeSetName="earlier", ChangeSetType="CREATE", TemplateBody=template,
                          Capabilities=["CAPABILITY_IAM"])
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"
    line = one_error_line(deploy(server, source, stack, "--yes"))
    assert line == (f"watchbot-cfn: error: stack {stack} is REVIEW_IN_PROGRESS: it was made for a change set that "
                    "was never applied (an earlier first deploy stopped or failed) and holds no resources; delete "
                    f"it with `watchbot-cfn delete --stack-name {stack}`, then deploy again")
    # (moto lists every stack's change sets here, hence the filter)
    summaries = cfn.list_change_sets(StackName=stack)["Summaries"]
    assert [s["ChangeSetName"] for s in summaries if s.get("StackName") == stack] == ["earlier"], \
        "no change set was added"


def test_a_first_deploy_that_fails_says_what_it_left_and_what_to_do(server, source):
    stack = stack_name()
    # a cluster spelled so that only CloudFormation can know it: the create fails while it executes
    source.write_text(SOURCE.replace(f'"{CLUSTER}"', '{ "Fn::Join" = ["", ["no-such", "-cluster"]] }'))
    failed = deploy(server, source, stack, "--yes")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Cluster not found" in failed.stderr
    last = failed.stderr.splitlines()[-1]
    status = server.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    # moto leaves the stack in REVIEW_IN_PROGRESS (CloudFormation in ROLLBACK_COMPLETE): either way, delete it
    assert f"stack {stack} is {status}" in last and f"`watchbot-cfn delete --stack-name {stack}`" in last
    assert "Traceback" not in failed.stderr
