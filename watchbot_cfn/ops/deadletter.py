"""The four dead-letter commands: print, return, purge and triage.

Results go to stdout (print's JSON lines, the messages triage shows, final
counts); questions, progress and warnings go to stderr. Each command keeps a
list of the messages it holds (received, not yet settled) and makes every one
of them visible again when it ends, however it ends.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from botocore.exceptions import ClientError

from watchbot_cfn.analysis.systems import System
from watchbot_cfn.aws.errors import error_code
from watchbot_cfn.ops.interrupt import Interrupts
from watchbot_cfn.ops.logs import DEFAULT_LINES, recent_lines
from watchbot_cfn.ops.messages import DeadMessage, QueueOps
from watchbot_cfn.ops.movetask import (
    MoveResult,
    MoveTaskUnavailable,
    cancel_move_task,
    follow_move_task,
    start_move_task,
)
from watchbot_cfn.ops.prompt import Prompter

__all__ = ["DeadLetterTool", "Outcome", "ToolError", "PRINT_HOLD", "COPY_HOLD", "TRIAGE_HOLD"]

#: Seconds messages stay hidden while print reads the whole queue (each is released at the end).
PRINT_HOLD = 900
#: Seconds a batch stays hidden between its receive and its send and delete.
COPY_HOLD = 120
#: Seconds the message on screen (and each kept one) stays hidden during triage.
TRIAGE_HOLD = 900
#: Longest message text triage shows; print shows whole messages.
SHOW_CHARS = 4000

TRIAGE_CHOICES = [
    ("return", ("r", "return"), "[r]eturn to the work queue"),
    ("keep", ("k", "keep"), "[k]eep in the dead-letter queue"),
    ("delete", ("d", "delete"), "[d]elete"),
    ("stop", ("s", "stop", "q", "quit"), "[s]top"),
]


class ToolError(Exception):
    """A command cannot go on; the message says why and what to do."""


def _count(number: int) -> str:
    return f"{number} message" if number == 1 else f"{number} messages"


@dataclass
class Outcome:
    """What a command did; ``failed`` counts messages it could not settle as asked (exit 1)."""

    done: int = 0
    failed: int = 0
    notes: list[str] = field(default_factory=list)


class DeadLetterTool:
    """One system's dead-letter queue, seen by an operator."""

    def __init__(self, sqs: Any, system: System, interrupts: Interrupts, prompter: Prompter | None = None,
                 logs: Any = None, out: TextIO | None = None, err: TextIO | None = None,
                 mover: Any = None) -> None:
        self.ops = QueueOps(sqs)
        self.sqs = sqs
        self.mover = mover if mover is not None else sqs  # the client that may try StartMessageMoveTask
        self.system = system
        self.interrupts = interrupts
        self.prompter = prompter or Prompter()
        self.logs = logs
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._status_width = 0

    # -- output helpers
    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def warn(self, text: str) -> None:
        self._end_status()
        self.err.write(text + "\n")
        self.err.flush()

    def status(self, text: str) -> None:
        """A progress line, redrawn in place on a terminal and left out otherwise."""
        if not _is_tty(self.err):
            return
        self.err.write("\r" + text.ljust(self._status_width))
        self.err.flush()
        self._status_width = len(text)

    def _end_status(self) -> None:
        if self._status_width:
            self.err.write("\n")
            self._status_width = 0

    @property
    def dead_letter_url(self) -> str:
        return self.system.dead_letter_url

    def _release(self, held: dict[str, DeadMessage]) -> None:
        """Make every held message visible again; the ones SQS refuses return when their hold ends."""
        if not held:
            return
        with self.interrupts.shielded():
            refused = self.ops.release(self.dead_letter_url, held.values())
        if refused:
            self.warn(f"{len(refused)} messages could not be made visible at once; they reappear in the "
                      "dead-letter queue when their hold ends (at most 15 minutes)")
        held.clear()

    # -- print
    def print_all(self) -> Outcome:
        """Every dead message as one JSON line; all of them visible again at the end."""
        held: dict[str, DeadMessage] = {}
        outcome = Outcome()
        visible, _ = self.ops.counts(self.dead_letter_url)
        try:
            while True:
                with self.interrupts.step(), self.interrupts.shielded():
                    batch = self.ops.receive(self.dead_letter_url, 10, PRINT_HOLD)
                    fresh = [message for message in batch if message.message_id not in held]
                    for message in batch:
                        held[message.message_id] = message  # the newest handle is the one that releases it
                if not fresh:
                    break  # empty, or only messages already printed came back
                for message in fresh:
                    self.out.write(json.dumps(message.record(), ensure_ascii=False) + "\n")
                    outcome.done += 1
                self.out.flush()
                self.status(f"printed {outcome.done} messages")
        finally:
            count = len(held)
            self._release(held)
            self._end_status()
        outcome.notes.append(f"printed {_count(outcome.done)}; all {count} are visible in the dead-letter queue again")
        if outcome.done < visible:
            why = ("SQS hands out no message of a FIFO message group while an earlier one is hidden"
                   if self.system.fifo else "others were in flight, or expired meanwhile")
            outcome.notes.append(f"the queue reported about {visible} messages when printing began ({why})")
        return outcome

    # -- return
    def return_all(self) -> Outcome:
        """Move every dead message back to the work queue: SQS's move task, or send-then-delete batches."""
        visible, _ = self.ops.counts(self.dead_letter_url)
        if visible == 0:
            return Outcome(notes=["the dead-letter queue has no visible messages: nothing to return"])
        try:
            return self._return_by_move_task(visible)
        except MoveTaskUnavailable as reason:
            self.warn(f"SQS message-move task unavailable ({reason}); copying messages instead")
        return self._return_by_copying(visible)

    def _return_by_move_task(self, visible: int) -> Outcome:
        source = self.ops.arn(self.dead_letter_url)
        destination = self.ops.arn(self.system.queue_url)
        handle: str | None = None

        def progress(result: MoveResult) -> None:
            total = result.to_move if result.to_move is not None else visible
            self.status(f"returned {result.moved} of about {total} messages")

        try:
            with self.interrupts.step():
                handle = start_move_task(self.mover, source, destination)
            self.warn(f"SQS is moving about {visible} messages to the work queue (message-move task)")
            result = follow_move_task(self.sqs, source, handle, progress)
        except KeyboardInterrupt:
            # Nothing is held here: cancelling stops the task, and what it moved stays moved.
            if handle is not None:
                cancel_move_task(self.sqs, handle)
            raise
        finally:
            self._end_status()
        outcome = Outcome(done=result.moved)
        if result.status == "FAILED":
            outcome.failed = max((result.to_move or visible) - result.moved, 1)
            outcome.notes.append(f"the move task failed after {_count(result.moved)}: {result.failure}")
        else:
            outcome.notes.append(f"returned {_count(result.moved)} to the work queue")
        return outcome

    def _return_by_copying(self, visible: int) -> Outcome:
        held: dict[str, DeadMessage] = {}  # received, not yet copied
        copied: dict[str, DeadMessage] = {}  # sent to the work queue, not yet deleted here
        refused: dict[str, DeadMessage] = {}  # the work queue would not take them: released at the end
        outcome = Outcome()
        fifo = self.system.fifo
        try:
            while True:
                with self.interrupts.step():
                    with self.interrupts.shielded():
                        batch = self.ops.receive(self.dead_letter_url, 10, COPY_HOLD)
                        held.update((message.message_id, message) for message in batch)
                    if not batch:
                        break
                    unsent = {message.message_id for message in self.ops.send(self.system.queue_url, batch, fifo)}
                    for message in batch:
                        target = refused if message.message_id in unsent else copied
                        target[message.message_id] = held.pop(message.message_id)
                    if unsent:
                        self.warn(f"the work queue refused {_count(len(unsent))}: {self.ops.last_refusal}")
                    undeleted = self.ops.delete(self.dead_letter_url, copied.values())
                    outcome.done += len(copied) - len(undeleted)
                    if undeleted:
                        self.warn(f"{len(undeleted)} messages were copied but could not be deleted from the "
                                  "dead-letter queue (another reader took them): they are in both queues")
                    copied.clear()
                self.status(f"returned {outcome.done} of about {visible} messages")
                if len(unsent) == len(batch):
                    break  # nothing of this batch went through: the next one would fare no better
        finally:
            self._end_status()
            if copied:  # a second Ctrl-C between send and delete: finish the move
                with self.interrupts.shielded():
                    self.ops.delete(self.dead_letter_url, copied.values())
            held.update(refused)
            self._release(held)
        outcome.failed = len(refused)
        outcome.notes.append(f"returned {_count(outcome.done)} to the work queue")
        if refused:
            outcome.notes.append(f"{_count(len(refused))} could not be sent to the work queue and are still in "
                                 "the dead-letter queue")
        return outcome

    # -- purge
    def purge(self, confirmed: bool) -> Outcome:
        visible, in_flight = self.ops.counts(self.dead_letter_url)
        total = visible + in_flight
        if total == 0:
            return Outcome(notes=["the dead-letter queue is empty: nothing to purge"])
        name = self.dead_letter_url.rsplit("/", 1)[-1]
        if not confirmed and not self.prompter.confirm(
                f"Delete all {_count(total)} in {name} permanently?"):
            return Outcome(notes=["nothing deleted"])
        with self.interrupts.step():
            try:
                self.sqs.purge_queue(QueueUrl=self.dead_letter_url)
            except ClientError as error:
                if "PurgeQueueInProgress" in error_code(error):
                    raise ToolError("SQS allows one purge of a queue every 60 seconds and one started less than "
                                    "a minute ago: try again shortly") from None
                raise
        return Outcome(done=total, notes=[f"purged {name}: {_count(total)} deleted"])

    # -- triage
    def triage(self, log_lines: int = DEFAULT_LINES) -> Outcome:
        """One message at a time: show it and its log lines, then act on the operator's answer."""
        kept: dict[str, DeadMessage] = {}
        current: DeadMessage | None = None
        counts = {"return": 0, "keep": 0, "delete": 0}
        failed = 0
        visible, _ = self.ops.counts(self.dead_letter_url)
        self.say(f"{_count(visible)} in {self.dead_letter_url.rsplit('/', 1)[-1]}")
        try:
            while True:
                with self.interrupts.step(), self.interrupts.shielded():
                    batch = self.ops.receive(self.dead_letter_url, 1, TRIAGE_HOLD)
                    current = batch[0] if batch else None
                if current is None:
                    self.say("no more dead messages")
                    break
                if current.message_id in kept:  # only kept ones are left, and their hold ran out
                    kept[current.message_id], current = current, None
                    self.say("no more dead messages (only kept ones are left)")
                    break
                self._show(current, log_lines)
                answer = self.prompter.choose("Action?", TRIAGE_CHOICES, inline=True) or "stop"
                if answer == "stop":
                    break
                with self.interrupts.step():
                    done = self._settle(current, answer, kept)
                    current = None
                if done:
                    counts[done] += 1
                else:
                    failed += 1
        finally:
            if current is not None:
                kept[current.message_id] = current
            self._release(kept)
        return Outcome(done=counts["return"] + counts["delete"], failed=failed,
                       notes=[f"returned {counts['return']}, kept {counts['keep']}, deleted {counts['delete']}"])

    def _settle(self, message: DeadMessage, answer: str, kept: dict[str, DeadMessage]) -> str | None:
        """Carry out one triage answer; returns what was done, None when it could not be."""
        if answer == "keep":
            kept[message.message_id] = message
            return "keep"
        if answer == "delete":
            if self.ops.delete(self.dead_letter_url, [message]):
                self.warn("could not delete it: its hold ended and another reader has it now")
                return None
            return "delete"
        if self.ops.send(self.system.queue_url, [message], self.system.fifo):
            self.warn("the work queue would not take it; it stays in the dead-letter queue")
            kept[message.message_id] = message
            return None
        if self.ops.delete(self.dead_letter_url, [message]):
            self.warn("copied to the work queue, but could not delete it here: it is in both queues now")
        return "return"

    def _show(self, message: DeadMessage, log_lines: int) -> None:
        record = message.record()
        text = record["message"]
        if len(text) > SHOW_CHARS:
            text = text[:SHOW_CHARS] + f"\n[... {len(record['message'])} characters in all; print shows it whole]"
        self.say("")
        self.say(f"id:       {record['id']}")
        self.say(f"subject:  {record['subject'] if record['subject'] is not None else '(none)'}")
        self.say(f"receives: {record['receives']}")
        self.say(f"sent:     {record['sent'] or '(unknown)'}")
        self.say("message:")
        self.say(text)
        if not self.system.log_group or self.logs is None:
            self.say("(no log group for this system)")
            return
        found = recent_lines(self.logs, self.system.log_group, message.message_id, message.sent_ms, log_lines)
        self.say(f"log lines for this message in {self.system.log_group} (the last {log_lines} at most):")
        for line in found.lines:
            self.say(f"  {line}")
        if not found.lines:
            self.say("  (none found)")
        if found.note:
            self.say(f"  ({found.note})")


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False

