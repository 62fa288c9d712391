"""Check what a template refers to outside itself before any change set is made.

A missing ECS cluster, KMS key, subnet, security group or alarm topic fails
only once CloudFormation reaches the resource that uses it, minutes into a
create that then rolls back (and leaves a stack that must be deleted), with
messages such as "Cluster not found." that name nothing. Each of these is one
cheap read-only call, so ``deploy`` makes it first and names the value, the
resource that uses it, the region and what to do.

Only values known before the call are checked: literals, and parameters
given, kept from the stack or defaulted. A value built by another intrinsic,
or one that refers to a resource of the same template, is left to
CloudFormation. A check the caller is not allowed to make is skipped: the
deploy role need not hold read permissions on everything it names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from watchbot_cfn.aws.clients import Aws, AwsError, aws_errors, error_code, is_loopback

__all__ = ["Reference", "check_external_references", "external_references", "parameter_values"]

#: Error codes that mean "this caller may not look", not "it is missing".
_NOT_ALLOWED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
                "UnrecognizedClientException")


@dataclass(frozen=True)
class Reference:
    """A value the template uses that must already exist: what kind, the value, and where it is used."""

    kind: str  # cluster | kms-key | subnet | security-group | sns-topic
    value: str
    used_by: str  # "WatchbotService (Cluster)"


def parameter_values(template: Mapping[str, Any], given: Mapping[str, str],
                     previous: Mapping[str, str]) -> dict[str, str]:
    """Each parameter's value as the change set will use it: given, else the stack's previous one, else default."""
    values: dict[str, str] = {}
    for name, spec in (template.get("Parameters") or {}).items():
        if name in given:
            values[name] = given[name]
        elif name in previous and previous[name] and set(previous[name]) != {"*"}:  # NoEcho values read as ****
            values[name] = previous[name]
        elif isinstance(spec, dict) and "Default" in spec:
            values[name] = str(spec["Default"])
    return values


def _resolve(value: Any, parameters: Mapping[str, str]) -> list[str] | None:
    """The strings a value stands for (of a list, the items that can be known), None when only CloudFormation
    can know them."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _resolve(item, parameters) or ()]
    if isinstance(value, dict) and list(value) == ["Ref"] and value["Ref"] in parameters:
        return [text.strip() for text in parameters[value["Ref"]].split(",") if text.strip()]
    return None


def _path(properties: Mapping[str, Any], *keys: str) -> Any:
    value: Any = properties
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


#: (resource type, property path, kind) of every reference checked.
_CHECKED: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("AWS::ECS::Service", ("Cluster",), "cluster"),
    ("AWS::ECS::Service", ("NetworkConfiguration", "AwsvpcConfiguration", "Subnets"), "subnet"),
    ("AWS::ECS::Service", ("NetworkConfiguration", "AwsvpcConfiguration", "SecurityGroups"), "security-group"),
    ("AWS::SQS::Queue", ("KmsMasterKeyId",), "kms-key"),
    ("AWS::SNS::Topic", ("KmsMasterKeyId",), "kms-key"),
    ("AWS::Logs::LogGroup", ("KmsKeyId",), "kms-key"),
    ("AWS::DynamoDB::Table", ("SSESpecification", "KMSMasterKeyId"), "kms-key"),
    ("AWS::CloudWatch::Alarm", ("AlarmActions",), "sns-topic"),
    ("AWS::CloudWatch::Alarm", ("OKActions",), "sns-topic"),
    ("AWS::CloudWatch::Alarm", ("InsufficientDataActions",), "sns-topic"),
)


def external_references(template: Mapping[str, Any], parameters: Mapping[str, str]) -> list[Reference]:
    """Every checkable reference of the template, once each (the first resource using it is named)."""
    found: dict[tuple[str, str], Reference] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, Mapping):
            continue
        properties = resource.get("Properties") or {}
        for resource_type, path, kind in _CHECKED:
            if resource.get("Type") != resource_type:
                continue
            for value in _resolve(_path(properties, *path), parameters) or ():
                if kind == "sns-topic" and ":sns:" not in value:
                    continue  # alarm actions may also be Auto Scaling or EC2 actions
                if kind == "kms-key" and value.startswith("alias/aws/"):
                    continue  # AWS managed keys are made on first use
                found.setdefault((kind, value), Reference(kind, value, f"{logical_id} ({'.'.join(path)})"))
    return list(found.values())


def check_external_references(aws: Aws, template: Mapping[str, Any], parameters: Mapping[str, str]) -> list[str]:
    """Raise one AwsError line naming every missing reference; returns the kinds that were checked.

    A loopback endpoint (moto, as ``watchbot-cfn local`` starts it) refuses only a missing cluster and accepts
    placeholder keys, subnets and topics, so there only the cluster is checked.
    """
    kinds = {"cluster"} if is_loopback(aws.endpoint_url) else set(_CHECKS)
    problems: list[str] = []
    checked: list[str] = []
    for reference in external_references(template, parameters):
        if reference.kind not in kinds:
            continue
        check = _CHECKS[reference.kind]
        problem = check(aws, reference)
        checked.append(reference.kind)
        if problem:
            problems.append(f"{reference.used_by}: {problem}")
    if problems:
        raise AwsError(f"{'; '.join(problems)} ({aws.where()}); nothing was changed")
    return checked


def _missing(aws: Aws, reference: Reference, action: Callable[[], Any]) -> bool:
    """Run ``action``: True when AWS says the thing is not there; False when it is, or when not allowed to look."""
    import botocore.exceptions

    with aws_errors(f"checking {reference.kind} {reference.value}", aws.where()):
        try:
            action()
        except botocore.exceptions.ClientError as error:
            code = error_code(error)
            if code in _NOT_ALLOWED:
                return False
            if "NotFound" in code or "Malformed" in code:
                return True
            raise
    return False


def _cluster(aws: Aws, reference: Reference) -> str | None:
    name = reference.value.rsplit("/", 1)[-1]
    answer: dict[str, Any] = {}

    def describe() -> None:
        answer.update(aws.client("ecs").describe_clusters(clusters=[reference.value]))

    missing = _missing(aws, reference, describe)
    clusters = answer.get("clusters") or []
    status = clusters[0].get("status", "") if clusters else ""
    if missing or (answer and not clusters) or status == "INACTIVE":
        state = "was deleted (INACTIVE)" if status == "INACTIVE" else "does not exist"
        return (f"the ECS cluster {name!r} {state} in region {aws.region}: create it "
                f"(aws ecs create-cluster --cluster-name {name}), or set `cluster` in the source to one that "
                "exists")
    return None


def _kms_key(aws: Aws, reference: Reference) -> str | None:
    answer: dict[str, Any] = {}

    def describe() -> None:
        answer.update(aws.client("kms").describe_key(KeyId=reference.value))

    if _missing(aws, reference, describe):
        return (f"the KMS key {reference.value!r} does not exist in region {aws.region}: create it, or give the "
                "ARN of one that exists")
    state = (answer.get("KeyMetadata") or {}).get("KeyState", "Enabled")
    if answer and state != "Enabled":
        return (f"the KMS key {reference.value!r} is {state}: services cannot use it; enable it (or cancel its "
                "deletion), or give another key")
    return None


def _subnet(aws: Aws, reference: Reference) -> str | None:
    def describe() -> None:
        aws.client("ec2").describe_subnets(SubnetIds=[reference.value])

    if _missing(aws, reference, describe):
        return (f"the subnet {reference.value!r} does not exist in region {aws.region}: give subnet ids of a VPC "
                "in this region (aws ec2 describe-subnets)")
    return None


def _security_group(aws: Aws, reference: Reference) -> str | None:
    def describe() -> None:
        aws.client("ec2").describe_security_groups(GroupIds=[reference.value])

    if _missing(aws, reference, describe):
        return (f"the security group {reference.value!r} does not exist in region {aws.region}: give group ids of "
                "the subnets' VPC (aws ec2 describe-security-groups)")
    return None


def _sns_topic(aws: Aws, reference: Reference) -> str | None:
    def describe() -> None:
        aws.client("sns").get_topic_attributes(TopicArn=reference.value)

    if _missing(aws, reference, describe):
        return (f"the SNS topic {reference.value!r} for alarms does not exist: create it, or set "
                "`notification_topic` in the source to one that exists")
    return None


_CHECKS: dict[str, Callable[[Aws, Reference], str | None]] = {
    "cluster": _cluster, "kms-key": _kms_key, "subnet": _subnet, "security-group": _security_group,
    "sns-topic": _sns_topic,
}
