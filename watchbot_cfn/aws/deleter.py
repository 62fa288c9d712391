"""Delete a stack after saying what goes with it, and follow the delete as ``deploy`` follows an update.

Deleting a Watchbot stack deletes its queues with their messages, its log
group with its logs and its progress table with its items, unless the
template gives that resource a DeletionPolicy that keeps it (Retain,
RetainExceptOnCreate) or keeps a snapshot (Snapshot). The warning is read
from the stack itself (its template and its resource list), so it holds for
stacks this project did not render. A delete that fails names each resource
that stopped it, CloudFormation's reason, and the two ways on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from watchbot_cfn.aws.clients import Aws, AwsError, aws_errors
from watchbot_cfn.aws.deployer import check_stack_name, existing_stack, latest_event
from watchbot_cfn.aws.stackevents import EventFollower, failure_lines
from watchbot_cfn.aws.stacks import resource_summaries, stack_template
from watchbot_cfn.aws.stackstate import blocked_for_delete
from watchbot_cfn.aws.watching import Watch, timeout_message, watch
from watchbot_cfn.statusline import StatusLine
from watchbot_cfn.templatediff import STATEFUL_TYPES

__all__ = ["DeleteOutcome", "DeleteRequest", "Fate", "delete", "fates", "warning_lines"]

#: DeletionPolicy values that keep the resource, and the one that keeps a snapshot of it.
_KEEPS = ("Retain", "RetainExceptOnCreate")
_SNAPSHOT = "Snapshot"
#: What a resource of each type holds, for the warning.
_HOLDS = {
    "AWS::SQS::Queue": "the queue and its messages",
    "AWS::Logs::LogGroup": "the log group and its logs",
    "AWS::DynamoDB::Table": "the table and its items",
    "AWS::DynamoDB::GlobalTable": "the table and its items",
    "AWS::SNS::Topic": "the topic and its subscriptions",
    "AWS::SNS::Subscription": "the subscription",
    "AWS::S3::Bucket": "the bucket and its objects (a bucket that is not empty stops the delete)",
}


@dataclass
class DeleteRequest(Watch):
    stack_name: str
    yes: bool = False


@dataclass
class DeleteOutcome:
    """How a delete ended: DELETE_COMPLETE, DELETE_FAILED, TIMEOUT or DECLINED, and what to print."""

    status: str
    failures: list[str] = field(default_factory=list)
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("DELETE_COMPLETE", "DECLINED")


@dataclass(frozen=True)
class Fate:
    """What deleting the stack does to one resource that holds data."""

    logical_id: str
    resource_type: str
    physical_id: str
    policy: str  # Delete | Retain | RetainExceptOnCreate | Snapshot | "" (template not readable)
    note: str = ""  # e.g. "3 messages waiting"

    @property
    def kept(self) -> bool:
        return self.policy in _KEEPS

    def line(self, id_width: int) -> str:
        holds = _HOLDS.get(self.resource_type, "the resource and its data")
        note = f" ({self.note})" if self.note else ""
        if self.kept:
            what = f"kept: {holds} stay (DeletionPolicy {self.policy}), outside any stack"
        elif self.policy == _SNAPSHOT:
            what = f"lost, a snapshot kept: {holds}{note} (DeletionPolicy Snapshot)"
        elif self.policy:
            what = f"LOST: {holds}{note}"
        else:
            what = f"LOST unless its DeletionPolicy keeps it (the template could not be read): {holds}{note}"
        return f"  {self.logical_id:<{id_width}}  {what}  [{self.physical_id}]"


def fates(template: dict[str, Any] | None, summaries: list[dict[str, Any]]) -> list[Fate]:
    """The stack's existing resources that hold data, each with what its DeletionPolicy does."""
    resources = (template or {}).get("Resources") or {}
    found = []
    for summary in summaries:
        kind = summary.get("ResourceType", "")
        physical = summary.get("PhysicalResourceId") or ""
        if kind not in STATEFUL_TYPES or not physical or summary.get("ResourceStatus") == "DELETE_COMPLETE":
            continue
        logical_id = summary.get("LogicalResourceId", "")
        declared = resources.get(logical_id)
        policy = str(declared.get("DeletionPolicy") or "Delete") if isinstance(declared, dict) else ""
        found.append(Fate(logical_id, kind, physical, policy))
    return found


def _with_message_counts(aws: Aws, found: list[Fate]) -> list[Fate]:
    """Queues that will be lost, with how many messages they hold (best effort: a count is a courtesy)."""
    import botocore.exceptions

    counted = []
    for fate in found:
        if fate.resource_type == "AWS::SQS::Queue" and not fate.kept and fate.physical_id.startswith("http"):
            try:
                attributes = aws.client("sqs").get_queue_attributes(
                    QueueUrl=fate.physical_id, AttributeNames=["ApproximateNumberOfMessages",
                                                               "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
                waiting = int(attributes.get("ApproximateNumberOfMessages", 0))
                running = int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))
                note = f"{waiting} message{'s' if waiting != 1 else ''} waiting"
                if running:
                    note += f", {running} being worked on"
                fate = Fate(fate.logical_id, fate.resource_type, fate.physical_id, fate.policy, note)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError, ValueError):
                pass
        counted.append(fate)
    return counted


def warning_lines(stack_name: str, found: list[Fate], total: int, where: str) -> list[str]:
    """The warning shown before anything is deleted: each resource that holds data, kept or lost."""
    lines = [f"stack {stack_name}: deleting it removes its {total} resource{'s' if total != 1 else ''} ({where})"]
    width = max((len(fate.logical_id) for fate in found), default=0)
    lines.extend(fate.line(width) for fate in found)
    others = total - len(found)
    if others > 0:
        lines.append(f"  and {others} other resource{'s that hold' if others != 1 else ' that holds'} no data "
                     "(roles, task definition, service, alarms...)")
    return lines


def delete(aws: Aws, request: DeleteRequest, out: StatusLine,
           confirm: Callable[[str], bool] | None = None) -> DeleteOutcome:
    """Warn, confirm, delete and follow; raises AwsError (nothing deleted) when the stack cannot be deleted now."""
    name = request.stack_name
    check_stack_name(name)
    cfn = aws.client("cloudformation")
    stack = existing_stack(aws, name)
    if stack is None:
        raise AwsError(f"stack {name!r} not found ({aws.where()}): check --stack-name and --region; nothing was "
                       "deleted")
    busy = str(stack.get("StackStatus", "")).endswith("_IN_PROGRESS")
    blocked = blocked_for_delete(stack, name, latest_event(aws, name) if busy else None, request.now())
    if blocked:
        raise AwsError(blocked)
    with aws_errors(f"stack {name}: reading its template and resources", aws.where()):
        summaries = resource_summaries(cfn, name)
        template = stack_template(cfn, name)
    live = [s for s in summaries if s.get("ResourceStatus") != "DELETE_COMPLETE"]
    found = _with_message_counts(aws, fates(template, live))
    for line in warning_lines(name, found, len(live), aws.where()):
        out.print(line)
    if not request.yes:
        if confirm is None:
            raise AwsError(f"confirmation needed but standard input is not a terminal; pass --yes to delete stack "
                           f"{name}; nothing was deleted")
        if not confirm(f"Delete stack {name}{' and lose what is listed above' if found else ''}? [y/N] "):
            out.print(f"stack {name}: not deleted")
            return DeleteOutcome("DECLINED")

    follower = EventFollower(cfn, name, aws.where(), stack_id=stack.get("StackId") or None)
    follower.mark_existing()
    with aws_errors(f"stack {name}: deleting", aws.where()):
        cfn.delete_stack(StackName=stack.get("StackId") or name)
    watched = watch(follower, len(live), out, request, "DELETE")
    if watched.status == "DELETE_COMPLETE":
        out.print(f"stack {name}: DELETE_COMPLETE in {watched.elapsed:.0f} s")
        for fate in found:
            if fate.kept:
                out.print(f"  kept outside any stack: {fate.logical_id} {fate.physical_id}")
        return DeleteOutcome("DELETE_COMPLETE")
    if watched.status == "TIMEOUT":
        return DeleteOutcome("TIMEOUT", failure_lines(follower.events, name),
                             timeout_message(name, watched, request.timeout, "DELETE"))
    failures = failure_lines(follower.events, name)
    failed_ids = [event.logical_id for event in follower.events
                  if event.status == "DELETE_FAILED" and not event.is_stack(name)]
    retain = " ".join(dict.fromkeys(failed_ids)) or "LOGICAL_ID"
    return DeleteOutcome(watched.status, failures or [f"{name}: {watched.status}"], (
        f"the delete failed ({watched.status}); fix what is named above and run `watchbot-cfn delete --stack-name "
        f"{name}` again, or leave those resources out of it: `aws cloudformation delete-stack --stack-name {name} "
        f"--retain-resources {retain}`"))
