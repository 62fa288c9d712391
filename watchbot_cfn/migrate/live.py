"""What a deployed stack holds now: status, template, physical ids, exports and the service's network.

Read before a migration (pre-checks, and the Fargate network a source may
leave out) and after it (post-checks compare the physical ids). Every call
goes through the client the caller passes; nothing here creates one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from watchbot_cfn.aws.errors import aws_errors, error_message
from watchbot_cfn.aws.stacks import resource_summaries, stack_template
from watchbot_cfn.errors import WatchbotError

__all__ = ["LiveStack", "MigrateRefused", "read_stack", "service_network"]


class MigrateRefused(WatchbotError):
    """A check failed: nothing was changed (before the change set runs) or the stack needs a look (after)."""


@dataclass
class LiveStack:
    name: str
    status: str
    template: dict[str, Any]
    physical: dict[str, str] = field(default_factory=dict)  # logical id -> physical id
    exports: dict[str, str] = field(default_factory=dict)  # export name -> output key
    account: str | None = None  # from the stack's ARN


def read_stack(aws: Any, name: str) -> LiveStack:
    """The stack's status, template, physical ids and exports; MigrateRefused when it does not exist."""
    from botocore.exceptions import ClientError

    cfn = aws.client("cloudformation")
    with aws_errors(f"stack {name}", aws.where()):
        try:
            stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        except ClientError as error:
            if "does not exist" in error_message(error):
                raise MigrateRefused(f"stack {name} not found ({aws.where()}): check --from-stack and --region") \
                    from None
            raise
        template = stack_template(cfn, name)
        summaries = resource_summaries(cfn, name)
    if template is None:
        raise MigrateRefused(f"stack {name}: cannot read its template (cloudformation:GetTemplate is denied)")
    physical = {item["LogicalResourceId"]: item.get("PhysicalResourceId", "") for item in summaries
                if item.get("LogicalResourceId")}
    exports = {output["ExportName"]: output.get("OutputKey", "") for output in stack.get("Outputs") or ()
               if output.get("ExportName")}
    arn = str(stack.get("StackId", "")).split(":")
    account = arn[4] if len(arn) > 5 and arn[4].isdigit() else None
    return LiveStack(name, stack.get("StackStatus", ""), template, physical, exports, account)


def service_network(aws: Any, live: LiveStack) -> tuple[list[str], list[str]] | None:
    """Subnets and security groups of the stack's running Fargate service (None without one).

    Security groups that are resources of the stack itself are left out: the migration drops them with the
    construct, and a service still using one would hold up their deletion.
    """
    resources = live.template.get("Resources") or {}
    services = [key for key, item in resources.items() if item.get("Type") == "AWS::ECS::Service"
                and key in live.physical]
    if len(services) != 1:
        return None
    cluster = (resources[services[0]].get("Properties") or {}).get("Cluster")
    if not isinstance(cluster, str):
        cluster_id = cluster.get("Ref") if isinstance(cluster, dict) else None
        cluster = live.physical.get(str(cluster_id)) if cluster_id else None
    if not cluster:
        return None
    ecs = aws.client("ecs")
    with aws_errors(f"stack {live.name}: reading service {live.physical[services[0]]}", aws.where()):
        found = ecs.describe_services(cluster=cluster, services=[live.physical[services[0]]]).get("services") or []
    if not found:
        return None
    network = (found[0].get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    owned = {live.physical.get(key) for key, item in resources.items() if item.get("Type") == "AWS::EC2::SecurityGroup"}
    groups = [group for group in network.get("securityGroups") or [] if group not in owned]
    return list(network.get("subnets") or []), groups
