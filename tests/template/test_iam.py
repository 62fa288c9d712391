"""Task role and execution role."""

from __future__ import annotations

from typing import Any

import awacs.s3
from awacs.aws import Allow, Statement

from tests.support.templates import FARGATE, REQUIRED, rendered, walk
from watchbot_cfn import template
from watchbot_cfn.resources import iam

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password-AbCdEf"
PARAMETER_ARN = "arn:aws:ssm:us-east-1:123456789012:parameter/worker/token"


def policy(role: dict[str, Any], name: str) -> list[dict[str, Any]]:
    [document] = [p["PolicyDocument"] for p in role["Properties"]["Policies"] if p["PolicyName"] == name]
    return document["Statement"]


def statement(role: dict[str, Any], policy_name: str, sid: str) -> dict[str, Any]:
    [found] = [s for s in policy(role, policy_name) if s.get("Sid") == sid]
    return found


def test_task_role_may_only_receive_delete_and_extend_on_its_own_queue():
    role = rendered(iam.build, prefix="Thumbs")["ThumbsTaskRole"]
    work_queue = statement(role, "watchbot", "WorkQueue")
    assert sorted(work_queue["Action"]) == ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage",
                                            "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
    assert work_queue["Resource"] == [{"Fn::GetAtt": ["ThumbsQueue", "Arn"]}]


def test_task_role_publishes_to_its_own_topic():
    role = rendered(iam.build)["WatchbotTaskRole"]
    assert statement(role, "watchbot", "WorkTopic") == {
        "Sid": "WorkTopic", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": [{"Ref": "WatchbotTopic"}]}


def test_fifo_task_role_has_no_topic_to_publish_to():
    role = rendered(iam.build, fifo=True)["WatchbotTaskRole"]
    assert [s["Sid"] for s in policy(role, "watchbot")] == ["WorkQueue", "TaskProtection"]


def test_fifo_reduce_mode_may_send_a_jobs_parts_to_its_own_queue_only():
    role = rendered(iam.build, fifo=True, reduce=True)["WatchbotTaskRole"]
    [parts] = [s for s in policy(role, "watchbot") if s["Sid"] == "WorkQueueParts"]
    assert parts["Action"] == ["sqs:SendMessage"]
    assert parts["Resource"] == [{"Fn::GetAtt": ["WatchbotQueue", "Arn"]}]


def test_task_protection_is_granted_on_the_clusters_tasks_and_only_when_on():
    role = rendered(iam.build, cluster="arn:aws:ecs:us-east-1:123456789012:cluster/jobs")["WatchbotTaskRole"]
    [protection] = [s for s in policy(role, "watchbot") if s["Sid"] == "TaskProtection"]
    assert protection["Action"] == ["ecs:UpdateTaskProtection", "ecs:GetTaskProtection"]
    assert protection["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/jobs/*"}]
    # a cluster given as an intrinsic may be a name or an ARN: any cluster of the account then
    role = rendered(iam.build, cluster={"Ref": "Cluster"})["WatchbotTaskRole"]
    [protection] = [s for s in policy(role, "watchbot") if s["Sid"] == "TaskProtection"]
    assert protection["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/*/*"}]
    role = rendered(iam.build, task_protection=False)["WatchbotTaskRole"]
    assert "TaskProtection" not in [s["Sid"] for s in policy(role, "watchbot")]


def test_reduce_mode_grants_the_progress_table_to_the_task_role_exactly_once():
    # the progress builder owns the grant; the task role must not repeat it
    body = template(**REQUIRED, reduce=True).to_dict()
    grants = [(key, found) for key, resource in body["Resources"].items()
              for found in walk(resource) if isinstance(found, dict) and "Action" in found
              and any(str(action).startswith("dynamodb:") for action in found["Action"])]
    [(owner, grant)] = grants
    assert grant["Resource"] == [{"Fn::GetAtt": ["WatchbotProgressTable", "Arn"]}]
    assert body["Resources"][owner]["Properties"]["Roles"] == [{"Ref": "WatchbotTaskRole"}]


def test_every_watcher_statement_names_a_resource_of_its_own_system():
    role = rendered(iam.build, reduce=True, prefix="Thumbs")["ThumbsTaskRole"]
    for found in policy(role, "watchbot"):
        if found["Sid"] == "TaskProtection":
            continue  # its own task, whose ARN is known only at run time (tested above)
        for resource in found["Resource"]:
            target = resource.get("Ref") or resource["Fn::GetAtt"][0]
            assert target.startswith("Thumbs")


def test_user_permissions_go_into_their_own_policy_unchanged():
    given = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": {"Fn::Sub": "${Bucket.Arn}/*"}}
    role = rendered(iam.build, permissions=[given])["WatchbotTaskRole"]
    assert policy(role, "worker") == [given]


def test_user_permissions_may_be_awacs_statements():
    given = Statement(Effect=Allow, Action=[awacs.s3.GetObject], Resource=["arn:aws:s3:::inputs/*"])
    role = rendered(iam.build, permissions=[given])["WatchbotTaskRole"]
    assert policy(role, "worker") == [{"Effect": "Allow", "Action": ["s3:GetObject"],
                                       "Resource": ["arn:aws:s3:::inputs/*"]}]


def test_no_user_permissions_means_no_worker_policy():
    role = rendered(iam.build)["WatchbotTaskRole"]
    assert [p["PolicyName"] for p in role["Properties"]["Policies"]] == ["watchbot"]


def test_only_ecs_tasks_of_this_account_assume_the_task_role():
    role = rendered(iam.build)["WatchbotTaskRole"]
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["ecs-tasks.amazonaws.com"]}
    assert trust["Action"] == ["sts:AssumeRole"]
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_no_role_trusts_an_aws_principal():
    built = rendered(iam.build, **FARGATE, secrets={"TOKEN": PARAMETER_ARN})
    principals = [node["Principal"] for node in walk(built) if isinstance(node, dict) and "Principal" in node]
    assert principals and all(set(p) == {"Service"} for p in principals)


def test_execution_role_pulls_the_default_image_from_its_repository_only():
    role = rendered(iam.build, service="team/worker")["WatchbotExecutionRole"]
    pull = statement(role, "execution", "EcrPull")
    assert pull["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/team/worker"}]
    assert statement(role, "execution", "EcrLogin")["Action"] == ["ecr:GetAuthorizationToken"]


def test_execution_role_ships_logs_to_its_own_log_group():
    role = rendered(iam.build, **FARGATE)["WatchbotExecutionRole"]
    logs = statement(role, "execution", "Logs")
    assert logs["Resource"] == [{"Fn::GetAtt": ["WatchbotLogGroup", "Arn"]}]
    assert sorted(logs["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]


def test_a_literal_ecr_image_is_pulled_from_its_own_repository():
    image = "210987654321.dkr.ecr.eu-west-1.amazonaws.com/shared/base:2024-01"
    role = rendered(iam.build, image=image)["WatchbotExecutionRole"]
    assert statement(role, "execution", "EcrPull")["Resource"] == [
        "arn:aws:ecr:eu-west-1:210987654321:repository/shared/base"]


def test_ec2_with_a_public_image_and_no_secrets_needs_no_execution_role():
    built = rendered(iam.build, image="public.ecr.aws/docker/library/python:3.12")
    assert set(built) == {"WatchbotTaskRole"}


def test_fargate_with_a_public_image_has_an_execution_role_without_ecr_statements():
    role = rendered(iam.build, **FARGATE, image="python:3.12")["WatchbotExecutionRole"]
    assert [s["Sid"] for s in policy(role, "execution")] == ["Logs"]


def test_secrets_are_readable_exactly_as_given():
    secrets = {"DB_PASSWORD": SECRET_ARN + ":password::", "TOKEN": PARAMETER_ARN, "KEY": "/worker/key"}
    role = rendered(iam.build, image="python:3.12", secrets=secrets)["WatchbotExecutionRole"]
    assert statement(role, "execution", "Secrets") == {
        "Sid": "Secrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [SECRET_ARN]}
    assert statement(role, "execution", "Parameters")["Resource"] == [
        PARAMETER_ARN,
        {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/worker/key"},
    ]


def test_a_secret_given_as_an_intrinsic_may_be_either_kind():
    role = rendered(iam.build, secrets={"TOKEN": {"Ref": "TokenArn"}}, **FARGATE)["WatchbotExecutionRole"]
    assert statement(role, "execution", "Secrets")["Resource"] == [{"Ref": "TokenArn"}]
    assert statement(role, "execution", "Parameters")["Resource"] == [{"Ref": "TokenArn"}]


def test_a_secret_given_as_a_sub_is_granted_by_the_kind_its_arn_names():
    parameter = {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/token"}
    secret = {"Fn::Sub": ["arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${Name}",
                          {"Name": {"Ref": "SecretName"}}]}
    role = rendered(iam.build, secrets={"TOKEN": parameter, "DB": secret}, **FARGATE)["WatchbotExecutionRole"]
    assert statement(role, "execution", "Parameters")["Resource"] == [parameter]
    assert statement(role, "execution", "Secrets")["Resource"] == [secret]


def test_an_image_given_as_an_intrinsic_may_come_from_any_repository_of_the_account():
    role = rendered(iam.build, image={"Ref": "Image"})["WatchbotExecutionRole"]
    assert statement(role, "execution", "EcrPull")["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*"}]


def test_the_only_wildcard_resource_is_the_ecr_login():
    built = rendered(iam.build, **FARGATE, reduce=True, secrets={"TOKEN": PARAMETER_ARN})
    wildcards = [node for node in walk(built)
                 if isinstance(node, dict) and "*" in (node.get("Resource") or [])]
    assert [node["Action"] for node in wildcards] == [["ecr:GetAuthorizationToken"]]
