"""What an old template holds: its resources by type, their physical names and their place in a CDK app.

A template synthesized by CDK carries ``Metadata.aws:cdk:path`` on every
resource (``Stack/Construct/.../Resource``); the path, not the logical id's
hash, says which construct a resource belongs to. Templates without it
(Watchbot 9, hand-written ones) are read by logical id alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from watchbot_cfn.migrate.pseudo import StackPlace, resolved_template

__all__ = ["NAME_PROPERTY", "OldStack", "references"]

#: The property that holds a stateful type's physical name.
NAME_PROPERTY = {"AWS::SQS::Queue": "QueueName", "AWS::SNS::Topic": "TopicName",
                 "AWS::Logs::LogGroup": "LogGroupName", "AWS::DynamoDB::Table": "TableName"}
CDK_PATH = "aws:cdk:path"
_SUB_NAME = re.compile(r"\$\{([^}!.][^}.]*)(?:\.[^}]*)?\}")


def references(value: Any) -> set[str]:
    """Logical ids (and parameters) ``value`` refers to through Ref, Fn::GetAtt, Fn::Sub or DependsOn."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt":
                target = item.split(".", 1)[0] if isinstance(item, str) else item[0] if item else None
                if isinstance(target, str):
                    found.add(target)
            elif key == "Fn::Sub":
                text = item if isinstance(item, str) else item[0] if isinstance(item, list) and item else ""
                local = item[1] if isinstance(item, list) and len(item) > 1 and isinstance(item[1], dict) else {}
                found |= {name for name in _SUB_NAME.findall(text) if name not in local}
                found |= references(local)
            elif key == "DependsOn":
                found |= {item} if isinstance(item, str) else set(item) if isinstance(item, list) else set()
            else:
                found |= references(item)
    return {name for name in found if not name.startswith("AWS::")}


@dataclass
class OldStack:
    """An old template, raw and with its pseudo parameters resolved for one stack."""

    raw: dict[str, Any]
    place: StackPlace
    resolved: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.resolved = resolved_template(self.raw, self.place)

    @property
    def resources(self) -> dict[str, Any]:
        return self.resolved.get("Resources") or {}

    def of_type(self, resource_type: str) -> Iterator[str]:
        return (key for key, item in self.resources.items() if item.get("Type") == resource_type)

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.resources[logical_id].get("Properties") or {}

    def name(self, logical_id: str) -> Any:
        """The resolved physical name (a string), an unresolved intrinsic, or None when CloudFormation names it."""
        prop = NAME_PROPERTY.get(self.resources[logical_id].get("Type", ""))
        return self.properties(logical_id).get(prop) if prop else None

    def cdk_path(self, logical_id: str) -> str | None:
        metadata = self.raw.get("Resources", {}).get(logical_id, {}).get("Metadata") or {}
        path = metadata.get(CDK_PATH) if isinstance(metadata, dict) else None
        return path if isinstance(path, str) else None

    @property
    def is_cdk(self) -> bool:
        return any(self.cdk_path(key) for key in self.resources)
