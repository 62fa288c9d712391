"""The task role (what the watcher and the worker may do) and the execution role
(what ECS needs to start the container).

Every statement is built with awacs and scoped to this system's own resources:
the task role reads and deletes on its own queue only, publishes to its own
topic only, and gets the user's ``permissions`` in a separate policy so they
are easy to audit. No statement grants ``Principal: {AWS: "*"}``. In reduce
mode the progress builder attaches the table's permissions to this role. With
``message_kms_key`` it may use the key for its own queue and topic only
(resources/keys.py).
"""

from __future__ import annotations

import json
import re
from typing import Any

import awacs.ecr
import awacs.ecs
import awacs.logs
import awacs.secretsmanager
import awacs.sns
import awacs.sqs
import awacs.ssm
from awacs.aws import Allow, PolicyDocument, Statement
from troposphere import GetAtt, Ref, Sub, encode_to_dict
from troposphere.iam import Policy, Role

from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options
from watchbot_cfn.resources import keys, policies

__all__ = ["build", "ecr_repository_arn", "needs_execution_role", "secret_resources"]


#: ``<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:tag|@digest]``
ECR_IMAGE = (
    r"(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9._/-]+?)(?::[\w.-]+|@sha256:[0-9a-f]+)?"
)  # a pattern, compiled (and cached by re) the first time an image is matched


def build(options: Options, names: Names) -> list[Any]:
    resources: list[Any] = [_task_role(options, names)]
    if needs_execution_role(options):
        resources.append(_execution_role(options, names))
    return resources


def needs_execution_role(options: Options) -> bool:
    """Fargate always needs one; EC2 only to pull from private ECR or to read secrets.

    On EC2 with a non-ECR image and no secrets, the container instance role
    (which the awslogs driver falls back to) is enough.
    """
    return options.is_fargate or bool(options.secrets) or ecr_repository_arn(options) is not None


# --- task role ----------------------------------------------------------------

def _task_role(options: Options, names: Names) -> Role:
    inline = [Policy(PolicyName="watchbot", PolicyDocument=_watcher_policy(options, names))]
    if options.permissions:
        inline.append(Policy(PolicyName="worker", PolicyDocument={"Version": policies.POLICY_VERSION,
                                                                    "Statement": list(options.permissions)}))
    return Role(
        names.task_role,
        Description=f"Watchbot system {names.prefix}: what the watcher and the worker may do",
        AssumeRolePolicyDocument=policies.trusted_by(policies.ECS_TASKS),
        Policies=inline,
    )


def _watcher_policy(options: Options, names: Names) -> PolicyDocument:
    statements = [
        Statement(
            Sid="WorkQueue",
            Effect=Allow,
            Action=[awacs.sqs.ReceiveMessage, awacs.sqs.DeleteMessage, awacs.sqs.ChangeMessageVisibility,
                    awacs.sqs.GetQueueAttributes],
            Resource=[GetAtt(names.queue, "Arn")],
        )
    ]
    if not options.fifo:
        statements.append(Statement(Sid="WorkTopic", Effect=Allow, Action=[awacs.sns.Publish],
                                    Resource=[Ref(names.topic)]))
    elif options.reduce:
        # The map-reduce helper sends a job's parts straight to a FIFO queue (there is no topic).
        statements.append(Statement(Sid="WorkQueueParts", Effect=Allow, Action=[awacs.sqs.SendMessage],
                                    Resource=[GetAtt(names.queue, "Arn")]))
    if options.task_protection:
        # The watcher protects its own task while jobs run; the ECS agent calls ECS with these credentials.
        statements.append(Statement(Sid="TaskProtection", Effect=Allow,
                                    Action=[awacs.ecs.UpdateTaskProtection, awacs.ecs.GetTaskProtection],
                                    Resource=[_tasks_in_cluster(options)]))
    statements += [found for found in (keys.queue_key(options, names), keys.parts_key(options, names),
                                       keys.topic_key(options, names)) if found]
    return policies.document(statements)


# --- execution role -----------------------------------------------------------

def _execution_role(options: Options, names: Names) -> Role:
    statements = [
        Statement(
            Sid="Logs",
            Effect=Allow,
            Action=[awacs.logs.CreateLogStream, awacs.logs.PutLogEvents],
            Resource=[GetAtt(names.log_group, "Arn")],
        )
    ]
    repository = ecr_repository_arn(options)
    if repository is not None:
        statements += [
            # GetAuthorizationToken has no resource type; it only returns a login token.
            Statement(Sid="EcrLogin", Effect=Allow, Action=[awacs.ecr.GetAuthorizationToken], Resource=["*"]),
            Statement(
                Sid="EcrPull",
                Effect=Allow,
                Action=[awacs.ecr.BatchCheckLayerAvailability, awacs.ecr.GetDownloadUrlForLayer,
                        awacs.ecr.BatchGetImage],
                Resource=[repository],
            ),
        ]
    secrets_manager, parameters = secret_resources(options)
    if secrets_manager:
        statements.append(Statement(Sid="Secrets", Effect=Allow, Action=[awacs.secretsmanager.GetSecretValue],
                                    Resource=secrets_manager))
    if parameters:
        statements.append(Statement(Sid="Parameters", Effect=Allow, Action=[awacs.ssm.GetParameters],
                                    Resource=parameters))
    return Role(
        names.execution_role,
        Description=f"Watchbot system {names.prefix}: lets ECS pull the image, ship logs and read secrets",
        AssumeRolePolicyDocument=policies.trusted_by(policies.ECS_TASKS, same_account_only=False),
        Policies=[Policy(PolicyName="execution", PolicyDocument=policies.document(statements))],
    )


def _tasks_in_cluster(options: Options) -> Sub:
    """ARN pattern of every task in the service's cluster (a task's own ARN is known only at run time).

    A cluster given as an intrinsic may be a name or an ARN, and reading the name from the service's ARN
    would make the role depend on the service that depends on it: then any cluster of the account.
    """
    cluster = options.literal("cluster")
    name = "*" if cluster is None else cluster.rsplit("/", 1)[-1]
    arn = awacs.ecs.ARN(resource=f"task/{name}/*", region="${AWS::Region}", account="${AWS::AccountId}")
    return Sub(arn.JSONrepr())


def ecr_repository_arn(options: Options) -> Any:
    """ARN of the ECR repository the image comes from, or None when it is not in ECR.

    The default image lives in ``<service>`` of this account and region; a
    literal ECR URI names its own; an image given as an intrinsic may be any
    repository of this account and region.
    """
    if options.image is None:
        return _sub_arn(awacs.ecr.ARN(resource=f"repository/{options.service}", region="${AWS::Region}",
                                      account="${AWS::AccountId}"))
    image = options.literal("image")
    if image is None:
        return _sub_arn(awacs.ecr.ARN(resource="repository/*", region="${AWS::Region}",
                                      account="${AWS::AccountId}"))
    found = re.fullmatch(ECR_IMAGE, image)
    if found is None:
        return None
    return awacs.ecr.ARN(resource=f"repository/{found['repository']}", region=found["region"],
                         account=found["account"]).JSONrepr()


def secret_resources(options: Options) -> tuple[list[Any], list[Any]]:
    """(Secrets Manager ARNs, SSM parameter ARNs) the execution role may read.

    An intrinsic whose kind cannot be read from it (a Ref, say) goes in both
    lists; granting ssm on a Secrets Manager ARN (or the reverse) matches nothing.
    """
    secrets_manager: list[Any] = []
    parameters: list[Any] = []
    for name, value in options.secrets.items():
        if not options.is_literal(f"secrets.{name}"):
            text = _sub_text(value)
            if ":ssm:" not in text:
                secrets_manager.append(value)
            if ":secretsmanager:" not in text:
                parameters.append(value)
        elif ":secretsmanager:" in value:
            secrets_manager.append(_secret_arn(value))
        elif value.startswith("arn:"):
            parameters.append(value)
        else:  # a parameter name in this account and region
            parameters.append(_sub_arn(awacs.ssm.ARN(resource="parameter/" + value.lstrip("/"),
                                                     region="${AWS::Region}", account="${AWS::AccountId}")))
    return _unique(secrets_manager), _unique(parameters)


def _sub_text(value: Any) -> str:
    """The template string of an Fn::Sub (either form), or "" for other intrinsics."""
    data = getattr(value, "data", None)
    text = data.get("Fn::Sub", "") if isinstance(data, dict) else ""
    if isinstance(text, list) and text:
        text = text[0]
    return text if isinstance(text, str) else ""


def _secret_arn(value_from: str) -> str:
    """Drop the ``:json-key:version-stage:version-id`` suffix ECS allows after a secret ARN."""
    return ":".join(value_from.split(":")[:7])


def _sub_arn(arn: awacs.aws.BaseARN) -> Sub:
    return Sub(arn.JSONrepr())


def _unique(values: list[Any]) -> list[Any]:
    """Drop repeats (two secrets from one ARN), comparing what the template would say."""
    seen: dict[str, Any] = {}
    for value in values:
        seen.setdefault(json.dumps(encode_to_dict(value), sort_keys=True), value)
    return list(seen.values())
