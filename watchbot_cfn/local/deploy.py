"""Deploy a rendered template to the local endpoint, and make the pipeline whole there.

moto's CloudFormation creates queues, topics, roles, the task definition and
the service, and skips a few types it has no model for. Two of those matter
for the pipeline: the SNS subscription that feeds the queue and the queue
policy that allows it; they are created here through the SNS and SQS APIs
from the template's own properties. The rest (alarms, metric filters,
scaling) is not needed to run jobs and is listed, not emulated. ECS needs the
cluster to exist, as on AWS, so it is created first.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

from watchbot_cfn.analysis.resolve import StackResolver, Unresolvable
from watchbot_cfn.analysis.systems import physical_ids
from watchbot_cfn.aws.clients import Aws, aws_errors
from watchbot_cfn.aws.deployer import DeployRequest, deploy
from watchbot_cfn.aws.stacks import resource_summaries
from watchbot_cfn.local.endpoint import LocalError
from watchbot_cfn.statusline import StatusLine

__all__ = ["LocalStack", "deploy_locally", "placeholder_parameters"]

#: Types ``local`` creates itself when moto's CloudFormation skips them.
PIPELINE_TYPES = ("AWS::SNS::Subscription", "AWS::SQS::QueuePolicy")


@dataclass
class LocalStack:
    """The deployed stack: its template, parameters, physical ids and a resolver for its intrinsics."""

    name: str
    template: dict[str, Any]
    parameters: dict[str, str]
    resolver: StackResolver
    created_locally: list[str] = field(default_factory=list)
    not_emulated: dict[str, str] = field(default_factory=dict)  # logical id -> type


def placeholder_parameters(template: dict[str, Any], given: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Given values, plus a placeholder for each parameter without a default; returns (values, placeholder names)."""
    values = dict(given)
    filled = []
    for name, spec in (template.get("Parameters") or {}).items():
        if name in values or (isinstance(spec, dict) and "Default" in spec):
            continue
        kind = str(spec.get("Type", "String")) if isinstance(spec, dict) else "String"
        values[name] = "1" if kind == "Number" else "local"
        filled.append(name)
    return values, filled


def _clusters(template: dict[str, Any], resolver: StackResolver) -> set[str]:
    names = set()
    for logical_id, body in (template.get("Resources") or {}).items():
        if body.get("Type") != "AWS::ECS::Service":
            continue
        raw = (body.get("Properties") or {}).get("Cluster", "default")
        try:
            value = str(resolver.resolve(raw))
        except Unresolvable as error:
            raise LocalError(f"{logical_id}: cannot tell which ECS cluster to create locally: {error}") from None
        names.add(value.rsplit("/", 1)[-1])
    return names


def deploy_locally(aws: Aws, stack_name: str, template: dict[str, Any], given: dict[str, str]) -> LocalStack:
    """Create the stack on the local endpoint and the pipeline resources moto skips."""
    parameters, _ = placeholder_parameters(template, given)
    with aws_errors("local endpoint: reading the account", aws.where()):
        account = aws.client("sts").get_caller_identity()["Account"]
    resolver = StackResolver(template=template, stack_name=stack_name, region=aws.region, account=account,
                             parameters=parameters, physical={})
    with aws_errors("local endpoint: creating the ECS cluster", aws.where()):
        for cluster in sorted(_clusters(template, resolver)):
            aws.client("ecs").create_cluster(clusterName=cluster)
    captured = io.StringIO()
    outcome = deploy(aws, DeployRequest(stack_name=stack_name, template=template, parameters=parameters, yes=True,
                                        poll_interval=0.2), StatusLine(captured, live=False))
    if not outcome.ok:
        raise LocalError(f"deploying stack {stack_name} locally failed: {'; '.join(outcome.failures)}")
    with aws_errors(f"stack {stack_name}: listing resources", aws.where()):
        physical = physical_ids(resource_summaries(aws.client("cloudformation"), stack_name))
    resolver.physical = physical
    stack = LocalStack(name=stack_name, template=template, parameters=parameters, resolver=resolver)
    skipped = [key for key in template.get("Resources") or {} if key not in physical]
    for logical_id in skipped:
        kind = str(template["Resources"][logical_id].get("Type"))
        if kind not in PIPELINE_TYPES:
            stack.not_emulated[logical_id] = kind
            continue
        try:
            properties = resolver.resolve(template["Resources"][logical_id].get("Properties") or {})
        except Unresolvable as error:
            raise LocalError(f"{logical_id}: {error}") from None
        with aws_errors(f"local endpoint: creating {logical_id} ({kind})", aws.where()):
            if kind == "AWS::SNS::Subscription":
                _subscribe(aws, properties)
            else:
                _queue_policy(aws, properties)
        stack.created_locally.append(logical_id)
    return stack


def _subscribe(aws: Aws, properties: dict[str, Any]) -> None:
    attributes = {}
    for key in ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy"):
        if key in properties:
            value = properties[key]
            attributes[key] = json.dumps(value) if isinstance(value, dict) else \
                str(value).lower() if isinstance(value, bool) else str(value)
    aws.client("sns").subscribe(TopicArn=properties["TopicArn"], Protocol=properties["Protocol"],
                                Endpoint=properties["Endpoint"], Attributes=attributes)


def _queue_policy(aws: Aws, properties: dict[str, Any]) -> None:
    for url in properties.get("Queues") or ():
        aws.client("sqs").set_queue_attributes(QueueUrl=url,
                                               Attributes={"Policy": json.dumps(properties["PolicyDocument"])})
