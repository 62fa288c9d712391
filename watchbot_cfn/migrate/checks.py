"""Offline proof that an adopted render updates the old stack in place.

Both templates are compared with their pseudo parameters resolved: no stateful
resource may be replaced or removed, and no physical name may sit under two
logical ids (CloudFormation would try to create the new one while the old one
still holds the name).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from watchbot_cfn.migrate.oldstack import NAME_PROPERTY
from watchbot_cfn.templatediff import Change, compare

__all__ = ["NAMED_PROPERTIES", "name_clashes", "physical_names", "stateful_losses"]

#: Properties that hold a physical name which must be unique (per account, region or cluster).
NAMED_PROPERTIES = {**NAME_PROPERTY, "AWS::CloudWatch::Alarm": "AlarmName", "AWS::CloudWatch::Dashboard":
                    "DashboardName", "AWS::ECS::Service": "ServiceName", "AWS::IAM::Role": "RoleName",
                    "AWS::Lambda::Function": "FunctionName", "AWS::Events::Rule": "Name",
                    "AWS::ApiGateway::RestApi": "Name"}


def stateful_losses(old: dict[str, Any], new: dict[str, Any], region: str) -> list[Change]:
    """Stateful resources the update would replace or delete (both templates resolved)."""
    return [change for change in compare(old, new, region) if change.loses_state]


def physical_names(template: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(type, literal name, logical id) of every resource with a literal physical name."""
    for key, item in (template.get("Resources") or {}).items():
        prop = NAMED_PROPERTIES.get(item.get("Type", ""))
        name = (item.get("Properties") or {}).get(prop) if prop else None
        if isinstance(name, str):
            yield item["Type"], name, key


def name_clashes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Names the new template holds under two ids, or under another id than the old one gives it."""
    clashes: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    for resource_type, name, key in physical_names(new):
        if (resource_type, name) in seen:
            clashes.append(f"{resource_type} {name} is named by both {seen[resource_type, name]} and {key}")
        seen[resource_type, name] = key
    for resource_type, name, key in physical_names(old):
        now = seen.get((resource_type, name))
        if now is not None and now != key:
            clashes.append(f"{resource_type} {name} moves from {key} to {now}: CloudFormation would create "
                           f"{now} while {key} still holds the name")
    return clashes
