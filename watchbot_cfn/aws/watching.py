"""The live view of a stack operation that ``deploy`` and ``delete`` share: events as they arrive, a progress
line, a heartbeat when nothing arrives, and a limit on how long to watch.

CloudFormation can sit on one resource for a long time (an ECS service whose
tasks never start holds an update for hours), which looks the same as a tool
that hangs; a line every 30 s without events says how long it has been and what
happened last. When the watch ends by ``--timeout`` the operation goes on in
CloudFormation, and the message says how to follow it or stop it.

The clock and the sleep are injected, so tests run the whole loop instantly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from watchbot_cfn.aws.stackevents import Event, EventFollower
from watchbot_cfn.aws.stackstate import duration, in_progress_step
from watchbot_cfn.statusline import StatusLine

__all__ = ["DEFAULT_TIMEOUT", "HEARTBEAT", "Watch", "WatchResult", "timeout_message", "watch"]

#: How long ``deploy`` and ``delete`` follow events by default (seconds): longer than a normal deploy, far
#: shorter than CloudFormation's own wait for a service that never stabilises (3 hours).
DEFAULT_TIMEOUT = 1800.0
#: Seconds without an event before a heartbeat line.
HEARTBEAT = 30.0
_WAITERS = {"CREATE": "stack-create-complete", "UPDATE": "stack-update-complete", "DELETE": "stack-delete-complete"}


@dataclass(kw_only=True)
class Watch:
    """How to follow a stack: poll interval, limits, and the clocks (tests inject fakes). ``deploy``'s and
    ``delete``'s requests are watches themselves, so these settings are declared once."""

    poll_interval: float = 2.0
    #: Seconds to follow events before leaving CloudFormation to carry on alone (``--timeout``).
    timeout: float = DEFAULT_TIMEOUT
    heartbeat: float = HEARTBEAT
    clock: Callable[[], float] = field(default=time.monotonic)
    sleep: Callable[[float], None] = field(default=time.sleep)
    #: The wall clock, to compare with CloudFormation's event times.
    now: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))


@dataclass(frozen=True)
class WatchResult:
    """The stack's final status ("TIMEOUT" when watching stopped first), the status it was last seen in, and
    how long the watch took."""

    status: str
    last_status: str
    elapsed: float


def watch(follower: EventFollower, total: int, out: StatusLine, settings: Watch, operation: str) -> WatchResult:
    """Print events as they arrive until the stack settles or ``settings.timeout`` passes.

    ``operation`` is CREATE, UPDATE or DELETE: the stack status assumed until its own event says otherwise.
    """
    view = _LiveView(follower.stack_name, total, out, settings, f"{operation}_IN_PROGRESS")
    status = follower.follow(view.on_event, on_tick=view.on_tick, interval=settings.poll_interval,
                             timeout=settings.timeout, sleep=settings.sleep, clock=settings.clock)
    out.clear()
    return WatchResult(status, view.stack_status, settings.clock() - view.started)


class _LiveView:
    """Event lines, the progress line, and a heartbeat after ``settings.heartbeat`` seconds without events."""

    def __init__(self, stack_name: str, total: int, out: StatusLine, settings: Watch, stack_status: str) -> None:
        self.stack_name = stack_name
        self.out = out
        self.settings = settings
        self.started = settings.clock()
        self.progress = _Progress(total, stack_name, self.started, settings.clock)
        self.stack_status = stack_status
        self.last: Event | None = None
        self.last_at = self.started
        self.quiet_since = self.started

    def on_event(self, event: Event) -> None:
        self.progress.record(event)
        if event.is_stack(self.stack_name):
            self.stack_status = event.status
        self.last = event
        self.last_at = self.quiet_since = self.settings.clock()
        self.out.print(event.line())
        self.out.update(self.progress.text())

    def on_tick(self) -> None:
        now = self.settings.clock()
        if now - self.quiet_since >= self.settings.heartbeat:
            self.out.print(self.heartbeat_line(now))
            self.quiet_since = now
        self.out.update(self.progress.text())

    def heartbeat_line(self, now: float) -> str:
        """``still UPDATE_IN_PROGRESS after 2m30s; last event 45s ago: WatchbotService UPDATE_IN_PROGRESS``."""
        text = f"still {self.stack_status} after {duration(now - self.started)}"
        if self.last is None:
            return f"{text}; no event yet"
        return f"{text}; last event {duration(now - self.last_at)} ago: {self.last.logical_id} {self.last.status}"


def timeout_message(stack_name: str, result: WatchResult, timeout: float, operation: str) -> str:
    """What a timeout means: CloudFormation goes on; how to keep watching it, or stop it."""
    waiter = _WAITERS.get(operation, "stack-update-complete")
    return (f"stopped watching after {duration(result.elapsed)} (--timeout {timeout:g}) while it is "
            f"{result.last_status}; CloudFormation carries on: keep watching with `aws cloudformation wait {waiter} "
            f"--stack-name {stack_name}` (or its events in the console), or "
            f"{in_progress_step(result.last_status, stack_name).removeprefix('wait, or ')}")


class _Progress:
    """Resources done out of those the operation touches, for the status line."""

    def __init__(self, total: int, stack_name: str, started: float, clock: Callable[[], float]) -> None:
        self.total = max(total, 1)
        self.stack_name = stack_name
        self.started = started
        self.clock = clock
        self.latest: dict[str, str] = {}

    def record(self, event: Event) -> None:
        if not event.is_stack(self.stack_name):
            self.latest[event.logical_id] = event.status

    def text(self) -> str:
        done = sum(1 for status in self.latest.values() if status.endswith(("_COMPLETE", "_SKIPPED")))
        working = [key for key, status in self.latest.items() if status.endswith("_IN_PROGRESS")]
        elapsed = int(self.clock() - self.started)
        text = f"[{min(done, self.total)}/{self.total}] {elapsed // 60}:{elapsed % 60:02d}"
        if working:
            text += f"  in progress: {', '.join(working[-3:])}"
        return text
