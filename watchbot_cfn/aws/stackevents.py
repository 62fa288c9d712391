"""Follow a stack's events while CloudFormation works, and tell success from failure.

Events are read newest first, so each poll walks pages until it meets an event
it has already seen; events older than the deploy are marked seen before it
starts, which avoids comparing this machine's clock with AWS's. The stack is
done when its own (stack-level) event reaches a status that is not in
progress; the failures worth showing are the resources whose status ends in
``_FAILED`` for a reason other than being cancelled because another failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from watchbot_cfn.aws.clients import aws_errors

__all__ = ["Event", "EventFollower", "SUCCESS_STATUSES", "failure_lines", "is_terminal"]

STACK_TYPE = "AWS::CloudFormation::Stack"
SUCCESS_STATUSES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
_CANCELLED = ("cancelled", "canceled")


@dataclass(frozen=True)
class Event:
    event_id: str
    logical_id: str
    resource_type: str
    status: str
    reason: str
    timestamp: datetime | None

    @classmethod
    def from_api(cls, raw: dict[str, Any]) -> Event:
        return cls(event_id=raw.get("EventId", ""), logical_id=raw.get("LogicalResourceId", ""),
                   resource_type=raw.get("ResourceType", ""), status=raw.get("ResourceStatus", ""),
                   reason=" ".join(str(raw.get("ResourceStatusReason") or "").split()),
                   timestamp=raw.get("Timestamp"))

    def is_stack(self, stack_name: str) -> bool:
        return self.resource_type == STACK_TYPE and self.logical_id == stack_name

    def line(self) -> str:
        clock = self.timestamp.astimezone().strftime("%H:%M:%S") if self.timestamp else "--:--:--"
        text = f"{clock}  {self.status:<28} {self.logical_id}  ({self.resource_type})"
        return f"{text}: {self.reason}" if self.reason else text


def is_terminal(status: str) -> bool:
    """A stack status CloudFormation stays in until the next operation."""
    return bool(status) and not status.endswith("_IN_PROGRESS")


class EventFollower:
    """New events of one stack, oldest first."""

    def __init__(self, cfn: Any, stack_name: str, where: str, stack_id: str | None = None) -> None:
        self.cfn = cfn
        self.stack_name = stack_name
        #: Events are read by id when known: after a delete, the name no longer finds the stack.
        self.stack_id = stack_id
        self.where = where
        self.seen: set[str] = set()
        self.events: list[Event] = []

    def mark_existing(self) -> None:
        """Everything already in the stack's history belongs to earlier operations."""
        self.seen.update(event.event_id for event in self._newest_first(limit_pages=1))

    def poll(self) -> list[Event]:
        fresh = []
        for event in self._newest_first():
            if event.event_id in self.seen:
                break
            fresh.append(event)
        fresh.reverse()
        self.seen.update(event.event_id for event in fresh)
        self.events.extend(fresh)
        return fresh

    def final_status(self) -> str | None:
        """The stack's terminal status once a new stack-level event reports one."""
        for event in reversed(self.events):
            if event.is_stack(self.stack_name):
                return event.status if is_terminal(event.status) else None
        return None

    def _newest_first(self, limit_pages: int | None = None) -> list[Event]:
        import botocore.exceptions

        events: list[Event] = []
        token = None
        pages = 0
        with aws_errors(f"stack {self.stack_name}: reading events", self.where):
            while True:
                arguments: dict[str, Any] = {"StackName": self.stack_id or self.stack_name}
                if token:
                    arguments["NextToken"] = token
                try:
                    page = self.cfn.describe_stack_events(**arguments)
                except botocore.exceptions.ClientError as error:
                    if "does not exist" in str(error):
                        return events  # a new stack that was never created has no events yet
                    raise
                batch = [Event.from_api(raw) for raw in page.get("StackEvents", ())]
                events.extend(batch)
                pages += 1
                token = page.get("NextToken")
                if not token or (limit_pages and pages >= limit_pages) or any(e.event_id in self.seen for e in batch):
                    return events

    def follow(self, on_event: Callable[[Event], None], on_tick: Callable[[], None] = lambda: None,
               interval: float = 2.0, timeout: float = 3 * 3600.0,
               sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> str:
        """Report new events until the stack settles; returns its final status ("TIMEOUT" if it never does)."""
        deadline = clock() + timeout
        while True:
            for event in self.poll():
                on_event(event)
            status = self.final_status()
            if status:
                return status
            if clock() >= deadline:
                return "TIMEOUT"
            on_tick()
            sleep(interval)


def failure_lines(events: list[Event], stack_name: str) -> list[str]:
    """``LogicalId (Type): reason`` for each failed resource, root causes before cancellations."""
    failed = [e for e in events if e.status.endswith("_FAILED") and not e.is_stack(stack_name)]
    causes = [e for e in failed if not any(word in e.reason.lower() for word in _CANCELLED)]
    chosen = causes or failed
    lines = list(dict.fromkeys(f"{e.logical_id} ({e.resource_type}): {e.reason or e.status}" for e in chosen))
    if not lines:
        lines = [f"{stack_name}: {e.reason}" for e in events if e.is_stack(stack_name) and e.reason
                 and e.status.endswith(("_FAILED", "ROLLBACK_IN_PROGRESS"))]
    return lines
