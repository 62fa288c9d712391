"""Change sets: create one, wait until CloudFormation has computed it, describe and format its changes.

A change set shows what a deploy will do before anything happens, including
which resources CloudFormation will *replace* (a new physical resource, so a
queue's messages or a table's items would be gone), which is why ``deploy``
never updates a stack directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from watchbot_cfn.aws.clients import AwsError, aws_errors

__all__ = ["Change", "ChangeSetResult", "NO_CHANGES", "create_change_set", "delete_change_set",
           "format_change", "wait_for_change_set"]

#: What CloudFormation says when a template and its parameters change nothing.
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
_SYMBOL = {"Add": "+", "Modify": "~", "Remove": "-", "Import": ">", "Dynamic": "?"}


@dataclass(frozen=True)
class Change:
    """One resource change of a change set."""

    action: str  # Add | Modify | Remove | Import | Dynamic
    logical_id: str
    resource_type: str
    replacement: str  # "True" | "False" | "Conditional" | "" (not reported)
    properties: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, entry: dict[str, Any]) -> Change:
        change = entry.get("ResourceChange") or {}
        targets = (detail.get("Target") or {} for detail in change.get("Details") or ())
        names = tuple(dict.fromkeys(t["Name"] for t in targets if t.get("Attribute") == "Properties" and t.get("Name")))
        return cls(action=change.get("Action", "?"), logical_id=change.get("LogicalResourceId", "?"),
                   resource_type=change.get("ResourceType", "?"), replacement=str(change.get("Replacement") or ""),
                   properties=names)


@dataclass(frozen=True)
class ChangeSetResult:
    """A computed change set: its id, and either its changes or why there are none."""

    change_set_id: str
    stack_id: str
    status: str
    reason: str
    changes: tuple[Change, ...]

    @property
    def no_changes(self) -> bool:
        return self.status == "FAILED" and any(marker in self.reason for marker in NO_CHANGES)


def create_change_set(cfn: Any, stack_name: str, change_type: str, template: dict[str, str],
                      parameters: list[dict[str, Any]], where: str) -> tuple[str, str]:
    """CreateChangeSet with ``{"TemplateBody": ...}`` or ``{"TemplateURL": ...}``; returns (id, stack id)."""
    name = f"watchbot-cfn-{time.strftime('%Y%m%d-%H%M%S')}"
    with aws_errors(f"stack {stack_name}: creating a change set", where):
        answer = cfn.create_change_set(StackName=stack_name, ChangeSetName=name, ChangeSetType=change_type,
                                       Parameters=parameters, Capabilities=CAPABILITIES,
                                       Description="watchbot-cfn deploy", **template)
    return answer["Id"], answer["StackId"]


def wait_for_change_set(cfn: Any, change_set_id: str, stack_name: str, where: str, timeout: float = 600.0,
                        interval: float = 1.0, sleep: Callable[[float], None] = time.sleep) -> ChangeSetResult:
    """Poll until CloudFormation has computed the change set (or given up on it)."""
    deadline = time.monotonic() + timeout
    while True:
        with aws_errors(f"stack {stack_name}: reading the change set", where):
            first = cfn.describe_change_set(ChangeSetName=change_set_id, StackName=stack_name)
        status = first.get("Status", "")
        if status in ("CREATE_COMPLETE", "FAILED"):
            break
        if time.monotonic() > deadline:
            raise AwsError(f"stack {stack_name}: the change set is still {status} after {timeout:.0f} s")
        sleep(interval)
    entries = list(first.get("Changes") or ())
    token = first.get("NextToken")
    while token:
        with aws_errors(f"stack {stack_name}: reading the change set", where):
            page = cfn.describe_change_set(ChangeSetName=change_set_id, StackName=stack_name, NextToken=token)
        entries.extend(page.get("Changes") or ())
        token = page.get("NextToken")
    changes = tuple(Change.from_api(entry) for entry in entries if entry.get("Type", "Resource") == "Resource")
    return ChangeSetResult(change_set_id=change_set_id, stack_id=first.get("StackId", ""), status=status,
                           reason=" ".join(str(first.get("StatusReason") or "").split()), changes=changes)


def delete_change_set(cfn: Any, change_set_id: str, stack_name: str) -> None:
    """Best effort: a change set left behind is harmless but clutters the console."""
    import botocore.exceptions

    try:
        cfn.delete_change_set(ChangeSetName=change_set_id, StackName=stack_name)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
        pass


def format_change(change: Change, id_width: int, type_width: int) -> str:
    """``~ Modify  WatchbotQueue  AWS::SQS::Queue  REPLACED (QueueName)``."""
    symbol = _SYMBOL.get(change.action, "?")
    line = f"  {symbol} {change.action:<7} {change.logical_id:<{id_width}}  {change.resource_type:<{type_width}}"
    if change.action == "Modify":
        if change.replacement == "True":
            line += "  REPLACED: a new resource takes its place"
        elif change.replacement == "Conditional":
            line += "  may be REPLACED (depends on values known only during the update)"
    if change.properties:
        line += f"  [{', '.join(change.properties)}]"
    return line.rstrip()
