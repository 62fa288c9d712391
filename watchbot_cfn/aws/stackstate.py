"""What a stack's status means for the next command, in one line that names the status and the next step.

A stack CloudFormation cannot update (a failed first create, a failed delete,
one only ever reviewed) or one that is in the middle of another operation
would otherwise meet a change set error that names neither; an operation that
has stopped producing events looks the same as one that is working, so the
age of its last event is part of the answer.
"""

from __future__ import annotations

from datetime import datetime

from watchbot_cfn.aws.stackevents import Event

__all__ = ["STALLED_AFTER", "blocked_for_deploy", "blocked_for_delete", "duration", "in_progress_step"]

#: An operation with no event for this long is reported as not moving (seconds).
STALLED_AFTER = 600.0


def duration(seconds: float) -> str:
    """``45s``, ``2m30s``, ``1h05m``: how long, for people."""
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _delete(stack_name: str) -> str:
    return f"`watchbot-cfn delete --stack-name {stack_name}`"


def in_progress_step(status: str, stack_name: str) -> str:
    """What a person can do about an operation that is still running (besides waiting)."""
    if status == "UPDATE_IN_PROGRESS":
        return (f"wait, or cancel the update (CloudFormation rolls it back) with "
                f"`aws cloudformation cancel-update-stack --stack-name {stack_name}`")
    if status == "CREATE_IN_PROGRESS":
        return f"wait, or give up on the create and remove what it made with {_delete(stack_name)}"
    if status == "DELETE_IN_PROGRESS":
        return f"wait; if the delete fails, {_delete(stack_name)} names what stopped it"
    return "wait: CloudFormation cannot cancel this step"


def _last_event_text(last_event: Event | None, now: datetime | None) -> tuple[str, float | None]:
    if last_event is None:
        return "", None
    age = (now - last_event.timestamp).total_seconds() if now and last_event.timestamp else None
    when = f" {duration(age)} ago" if age is not None else ""
    return f"last event{when}: {last_event.logical_id} {last_event.status}", age


def _unsettled(stack_name: str, status: str, last_event: Event | None, now: datetime | None) -> str:
    text, age = _last_event_text(last_event, now)
    if age is not None and age >= STALLED_AFTER:
        return (f"stack {stack_name} is {status} and not moving ({text}); CloudFormation is still waiting on that "
                f"resource (an ECS service whose tasks never start waits up to 3 hours): "
                f"{in_progress_step(status, stack_name)}")
    detail = f" ({text})" if text else ""
    return (f"stack {stack_name} is {status}{detail}: another operation is running; wait until it settles, then "
            "run this again")


def blocked_for_deploy(stack: dict | None, stack_name: str, last_event: Event | None = None,
                       now: datetime | None = None) -> str | None:
    """Why a change set cannot be made for this stack now, and what to do; None when it can."""
    if stack is None:
        return None
    status = str(stack.get("StackStatus", ""))
    reason = " ".join(str(stack.get("StackStatusReason") or "").split())
    because = f" ({reason})" if reason else ""
    if status == "REVIEW_IN_PROGRESS":
        return (f"stack {stack_name} is REVIEW_IN_PROGRESS: it was made for a change set that was never applied "
                f"(an earlier first deploy stopped or failed) and holds no resources; delete it with "
                f"{_delete(stack_name)}, then deploy again")
    if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
        how = "was rolled back" if status == "ROLLBACK_COMPLETE" else "could not be rolled back"
        return (f"stack {stack_name} is {status}: its first deploy failed and {how}, and CloudFormation cannot "
                f"update such a stack; delete it with {_delete(stack_name)}, then deploy again")
    if status == "DELETE_FAILED":
        return (f"stack {stack_name} is DELETE_FAILED{because}: a delete stopped at resources it could not remove; "
                f"run {_delete(stack_name)} again (it names what failed and why), then deploy")
    if status == "UPDATE_ROLLBACK_FAILED":
        return (f"stack {stack_name} is UPDATE_ROLLBACK_FAILED{because}: fix the resources its events name, then "
                f"`aws cloudformation continue-update-rollback --stack-name {stack_name}`, then deploy again")
    if status.endswith("_IN_PROGRESS"):
        return _unsettled(stack_name, status, last_event, now)
    return None


def blocked_for_delete(stack: dict, stack_name: str, last_event: Event | None = None,
                       now: datetime | None = None) -> str | None:
    """Why the stack cannot be deleted now; None when it can (a stuck create may be deleted)."""
    status = str(stack.get("StackStatus", ""))
    if status in ("REVIEW_IN_PROGRESS", "CREATE_IN_PROGRESS"):
        return None
    if status == "DELETE_IN_PROGRESS":
        text, _ = _last_event_text(last_event, now)
        detail = f" ({text})" if text else ""
        return f"stack {stack_name} is already DELETE_IN_PROGRESS{detail}: wait until it settles"
    if status.endswith("_IN_PROGRESS"):
        return _unsettled(stack_name, status, last_event, now)
    return None
