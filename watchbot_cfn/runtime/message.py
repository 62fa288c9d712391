"""One received SQS message: unwrapping, timestamps and the worker's environment.

The worker contract (CONTRACT.md) is a set of environment variables; this module
builds them. Bodies up to SQS's 1 MiB do not fit one environment string (128 KiB
on Linux), so the body always goes to a file too and ``Message`` is only set
when it fits.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from watchbot_cfn import contract

__all__ = ["Message", "MessageFiles", "MessagePaths", "environment_problem", "topic_message_id",
           "fits_environment", "unwrap", "worker_environment"]

#: Path of a file holding the subject, set whenever the message has one (kept
#: here until the contract's worker-environment table names it).

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def unwrap(body: str) -> tuple[str, str | None]:
    """Return (message, subject): SNS notifications are unwrapped, anything else passes as it is."""
    if not body.startswith("{"):
        return body, None
    try:
        envelope = json.loads(body)
    except ValueError:
        return body, None
    if (isinstance(envelope, dict) and envelope.get("Type") == "Notification"
            and isinstance(envelope.get("Message"), str)):
        subject = envelope.get("Subject")
        return envelope["Message"], subject if isinstance(subject, str) and subject else None
    return body, None


def topic_message_id(body: str) -> str | None:
    """The SNS message id of a notification (what ``sns publish`` and ``watchbot-cfn send`` print), else None."""
    if not body.startswith("{"):
        return None
    try:
        envelope = json.loads(body)
    except ValueError:
        return None
    if isinstance(envelope, dict) and envelope.get("Type") == "Notification":
        found = envelope.get("MessageId")
        return found if isinstance(found, str) and found else None
    return None


def _millis(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def iso_from_millis(millis: int | None) -> str:
    """SQS gives epoch milliseconds; workers get ISO 8601 UTC like the original."""
    if millis is None:
        return ""
    return contract.utc_timestamp(datetime.fromtimestamp(millis / 1000, tz=timezone.utc))


@dataclass
class Message:
    """What the watcher needs from one ReceiveMessage entry."""

    message_id: str
    receipt_handle: str
    body: str
    subject: str | None
    receives: int
    sent_ms: int | None
    first_receive_ms: int | None
    group_id: str | None = None
    topic_message_id: str | None = None  # the SNS message id, when SNS delivered it
    received_at: float = field(default_factory=time.monotonic)

    @classmethod
    def from_sqs(cls, entry: Mapping[str, Any]) -> Message:
        attributes = entry.get("Attributes") or {}
        message, subject = unwrap(entry.get("Body") or "")
        return cls(
            message_id=entry["MessageId"],
            receipt_handle=entry["ReceiptHandle"],
            body=message,
            subject=subject,
            receives=_millis(attributes.get("ApproximateReceiveCount")) or 1,
            sent_ms=_millis(attributes.get("SentTimestamp")),
            first_receive_ms=_millis(attributes.get("ApproximateFirstReceiveTimestamp")),
            group_id=attributes.get("MessageGroupId"),
            topic_message_id=topic_message_id(entry.get("Body") or ""),
        )

    def response_duration_ms(self, now_ms: int | None = None) -> int:
        """Milliseconds from send to now (0 if SQS gave no send time)."""
        if self.sent_ms is None:
            return 0
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        return max(now_ms - self.sent_ms, 0)

    def held_for(self) -> float:
        """Seconds since this receive; SQS caps total visibility at 12 h from it."""
        return time.monotonic() - self.received_at


def environment_problem(name: str, value: str) -> str | None:
    """Why ``name=value`` cannot be one environment string, in words, or None when it can."""
    if "\0" in value:
        return "contains a NUL character"
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        return "contains a lone surrogate, which UTF-8 cannot encode"
    if len(name.encode()) + 1 + size + 1 > contract.ENV_STRING_LIMIT:
        return f"is {size:,} bytes, more than one environment string holds ({contract.ENV_STRING_LIMIT // 1024} KiB)"
    return None


def fits_environment(name: str, value: str) -> bool:
    """Whether ``name=value`` plus its NUL fits one Linux environment string."""
    return environment_problem(name, value) is None


@dataclass(frozen=True)
class MessagePaths:
    """The files a job's message was written to."""

    body: str
    subject: str | None = None  # only when the message has a subject


def worker_environment(message: Message, base: Mapping[str, str],
                       paths: MessagePaths) -> tuple[dict[str, str], list[str]]:
    """The container environment plus the contract's per-message variables, and why any was left out.

    ``Message`` and ``Subject`` are left unset when the environment cannot hold
    them (a NUL, a lone surrogate, more than 128 KiB); the worker then reads
    ``MessageFile`` / ``SubjectFile``, which are set whatever the content.
    """
    env = dict(base)
    left_out = []
    problem = environment_problem(contract.WORKER_MESSAGE, message.body)
    if problem is None:
        env[contract.WORKER_MESSAGE] = message.body
    else:
        env.pop(contract.WORKER_MESSAGE, None)
        left_out.append(f"{contract.WORKER_MESSAGE} {problem}; the worker reads ${contract.WORKER_MESSAGE_FILE}")
    env.pop(contract.WORKER_SUBJECT, None)
    env.pop(contract.WORKER_SUBJECT_FILE, None)
    if message.subject:
        problem = environment_problem(contract.WORKER_SUBJECT, message.subject)
        if problem is None:
            env[contract.WORKER_SUBJECT] = message.subject
        else:
            left_out.append(f"{contract.WORKER_SUBJECT} {problem}; the worker reads "
                            f"${contract.WORKER_SUBJECT_FILE}")
        if paths.subject is not None:
            env[contract.WORKER_SUBJECT_FILE] = paths.subject
    env[contract.WORKER_MESSAGE_ID] = message.message_id
    env[contract.WORKER_SENT_TIMESTAMP] = iso_from_millis(message.sent_ms)
    env[contract.WORKER_FIRST_RECEIVE_TIMESTAMP] = iso_from_millis(message.first_receive_ms)
    env[contract.WORKER_RECEIVE_COUNT] = str(message.receives)
    env[contract.WORKER_MESSAGE_FILE] = paths.body
    return env, left_out


#: Text that UTF-8 cannot encode (a lone surrogate, only possible after unwrapping
#: an SNS envelope's ``\\ud800``) is written in its three-byte form: nothing is lost.
_FILE_ERRORS = "surrogatepass"


class MessageFiles:
    """Writes each body (and subject) to its own file in a directory the watcher owns.

    The directory may sit inside a cleaned volume (``/tmp`` is the usual one),
    so the volume cleaner is told to keep it; a job may still remove it (or put
    a file in its place), so a write that finds it gone makes it again.
    """

    def __init__(self, directory: str) -> None:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self.directory = os.path.realpath(directory)
        self._sequence = itertools.count(1)

    def write(self, message: Message) -> MessagePaths:
        # A redelivered message can run in another watcher meanwhile: never share a file name.
        name = f"{_UNSAFE_NAME.sub('_', message.message_id)}-{next(self._sequence)}"
        body = os.path.join(self.directory, name)
        try:
            self._write(body, message.body)
        except (FileNotFoundError, NotADirectoryError):
            self._make_directory()
            self._write(body, message.body)
        if not message.subject:
            return MessagePaths(body)
        subject = body + ".subject"
        try:
            self._write(subject, message.subject)
        except BaseException:
            self.remove(MessagePaths(body))
            raise
        return MessagePaths(body, subject)

    def _make_directory(self) -> None:
        """Make the directory again where a job removed it, or replaced it with a file or a link."""
        try:
            if not stat.S_ISDIR(os.lstat(self.directory).st_mode):
                os.unlink(self.directory)  # never what a link points to
        except FileNotFoundError:
            pass
        os.makedirs(self.directory, mode=0o700, exist_ok=True)

    @staticmethod
    def _write(path: str, text: str) -> None:
        with open(path, "wb") as handle:
            handle.write(text.encode("utf-8", _FILE_ERRORS))

    @staticmethod
    def remove(paths: MessagePaths) -> None:
        for path in (paths.body, paths.subject):
            if path is None:
                continue
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
