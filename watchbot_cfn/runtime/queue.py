"""The work queue: receive, delete and change visibility, surviving SQS faults.

botocore's standard retry mode handles a single bad call; around it this module
adds an outer, capped backoff so that minutes of throttling, 5xx answers,
refused connections or timeouts are logged and waited out, never fatal. Batch
replies are checked entry by entry: an invalid or expired receipt handle means
another consumer may own the message now, which is reported, not retried.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from watchbot_cfn.runtime.logger import Logger

__all__ = ["BatchEntry", "EntryOutcome", "QueueClient", "Backoff", "LONG_POLL", "BATCH_LIMIT", "CONTROL_READ_TIMEOUT"]

LONG_POLL = 20
SYSTEM_ATTRIBUTES = ("SentTimestamp", "ApproximateFirstReceiveTimestamp", "ApproximateReceiveCount",
                     "MessageGroupId")
BATCH_LIMIT = 10
#: Error codes that mean "this receipt handle no longer owns the message".
OWNERSHIP_LOST_CODES = frozenset({
    "ReceiptHandleIsInvalid", "AWS.SimpleQueueService.ReceiptHandleIsInvalid",
    "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight",
    "InvalidReceiptHandle",
})
_TRANSIENT_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
    "RequestThrottledException", "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "RequestLimitExceeded", "SlowDown", "KMS.ThrottlingException", "ServiceUnavailable",
    "InternalError", "InternalFailure", "AWS.SimpleQueueService.InternalError",
})


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_ownership_lost(code: str, message: str = "") -> bool:
    """Invalid or expired handles; SQS reports expiry as InvalidParameterValue."""
    if code in OWNERSHIP_LOST_CODES:
        return True
    lowered = message.lower()
    return code.endswith("InvalidParameterValue") and "receipt handle" in lowered and (
        "expired" in lowered or "invalid" in lowered)


def is_retryable(error: Exception) -> bool:
    """Anything but a request SQS refuses: faults of the service, the network or the credentials.

    botocore's credential refresh raises plain ``RuntimeError`` ("refreshed
    credentials are still expired") or ``KeyError`` (an answer without the
    credential fields), not its own errors: those are faults that pass too,
    so every exception other than a refusal keeps the call for another try.
    """
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0
        return status >= 500 or status == 429 or error_code(error) in _TRANSIENT_CODES
    return True


def describe_error(error: Exception) -> str:
    if isinstance(error, ClientError):
        detail = error.response.get("Error", {})
        return f"{detail.get('Code', 'error')}: {detail.get('Message', '')}".rstrip(": ")
    return f"{type(error).__name__}: {error}"


class Backoff:
    """Capped exponential delays with jitter: 0.5, 1, 2, ... up to ``cap`` seconds."""

    def __init__(self, base: float = 0.5, cap: float = 20.0) -> None:
        self.base = base
        self.cap = cap
        self.attempt = 0

    def next_delay(self) -> float:
        delay = min(self.cap, self.base * 2 ** min(self.attempt, 16))
        self.attempt += 1
        return delay / 2 + random.uniform(0, delay / 2)


@dataclass(frozen=True)
class BatchEntry:
    """One receipt handle to delete, or to set to ``visibility`` seconds."""

    key: str  # the caller's name for it (the message id)
    receipt_handle: str
    visibility: int | None = None


@dataclass(frozen=True)
class EntryOutcome:
    key: str
    ok: bool
    lost: bool = False  # the receipt handle no longer owns the message
    reason: str = ""


#: Seconds one delete or visibility call may take before it is given up and
#: retried (with a log line): a hung endpoint must not hold a settle silently.
CONTROL_READ_TIMEOUT = 5


def make_client(region: str | None, max_connections: int, read_timeout: float = LONG_POLL + 10,
                attempts: int = 4) -> Any:
    """An SQS client shared by threads (clients are thread-safe, sessions are not).

    Receives need a read timeout longer than a long poll; deletes and visibility
    changes answer at once, so they get a client of their own with a short one
    and one attempt per call: every failed call then reaches this module's
    retry loop, which says so in the log before it tries again.
    """
    config = Config(
        retries={"mode": "standard", "total_max_attempts": attempts},
        connect_timeout=3,
        read_timeout=read_timeout,
        max_pool_connections=max_connections,
        tcp_keepalive=True,
        parameter_validation=False,  # requests are built here, not by users: save the CPU
    )
    return boto3.session.Session().client("sqs", region_name=region, config=config)


class QueueClient:
    """The calls the watcher makes on its work queue."""

    def __init__(self, queue_url: str, client: Any, logger: Logger, stopping: threading.Event | None = None,
                 max_backoff: float = 20.0, on_fault: Callable[[], None] | None = None,
                 control: Any = None) -> None:
        self.queue_url = queue_url
        self.client = client
        self.control = control if control is not None else client  # deletes and visibility changes
        self.logger = logger
        self.stopping = stopping or threading.Event()
        self.max_backoff = max_backoff
        self.on_fault = on_fault or (lambda: None)

    # -- receive ---------------------------------------------------------------

    def receive(self, max_messages: int, visibility_timeout: int, wait_seconds: int = LONG_POLL,
                interrupt: threading.Event | None = None) -> list[dict[str, Any]]:
        """Long-poll for up to ``max_messages``; retries every fault until it succeeds or ``interrupt`` is set.

        The visibility timeout is given with every receive so that the
        heartbeat's schedule holds whatever the queue's own default is.
        """
        interrupt = interrupt or self.stopping
        backoff = Backoff(cap=self.max_backoff)
        while not interrupt.is_set():
            try:
                reply = self.client.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=max(1, min(max_messages, BATCH_LIMIT)),
                    WaitTimeSeconds=wait_seconds,
                    VisibilityTimeout=visibility_timeout,
                    MessageSystemAttributeNames=list(SYSTEM_ATTRIBUTES),
                )
                return list(reply.get("Messages") or [])
            except Exception as error:  # credentials' refresh raises RuntimeError and KeyError too
                # Even a refused request (a deleted queue, a missing permission)
                # may be fixed from outside; the watcher waits for it, loudly.
                self._fault("ReceiveMessage", error, backoff, interrupt)
        return []

    def _fault(self, operation: str, error: Exception, backoff: Backoff, interrupt: threading.Event,
               limit: float | None = None) -> None:
        delay = backoff.next_delay()
        if limit is not None:
            delay = max(min(delay, limit - time.monotonic()), 0.0)
        self.on_fault()
        self.logger.notice(f"{operation} failed ({describe_error(error)}); retrying in {delay:.1f} s",
                           level="warning")
        interrupt.wait(delay)

    # -- batches ---------------------------------------------------------------

    def delete(self, entries: Sequence[BatchEntry], give_up_after: float = 300.0) -> list[EntryOutcome]:
        """Delete up to 10 messages; faults are retried until ``give_up_after`` seconds have passed."""
        return self._batch("DeleteMessageBatch", entries, give_up_after)

    def change_visibility(self, entries: Sequence[BatchEntry], give_up_after: float = 300.0) -> list[EntryOutcome]:
        """Set each entry's visibility; same retry rules as ``delete``."""
        return self._batch("ChangeMessageVisibilityBatch", entries, give_up_after)

    def _batch(self, operation: str, entries: Sequence[BatchEntry], give_up_after: float) -> list[EntryOutcome]:
        """Send until every entry has an answer or ``give_up_after`` seconds have passed.

        Whatever a call raises, its entries are kept and sent again (only a
        refusal of the whole request, or the deadline, ends them). An answer
        that names an entry neither as done nor as failed (a 200 with an empty
        body, for one) says nothing about it: the call may or may not have
        taken effect, and since deleting or setting the visibility again with
        the same handle is harmless (SQS answers success for a message already
        deleted with it), such entries are sent again like a server fault.
        """
        if len(entries) > BATCH_LIMIT:
            raise ValueError(f"{operation} takes at most {BATCH_LIMIT} entries")
        outcomes: dict[str, EntryOutcome] = {}
        pending = {str(index): entry for index, entry in enumerate(entries)}
        deadline = time.monotonic() + give_up_after
        backoff = Backoff(cap=self.max_backoff)
        never = threading.Event()
        last_fault = ""
        while pending:
            try:
                reply = self._send(operation, pending)
            except Exception as error:
                reason = describe_error(error)
                if not is_retryable(error) or time.monotonic() >= deadline:
                    lost = isinstance(error, ClientError) and is_ownership_lost(error_code(error), reason)
                    for entry in pending.values():
                        outcomes[entry.key] = EntryOutcome(entry.key, False, lost=lost, reason=reason)
                    break
                self._fault(operation, error, backoff, never, limit=deadline)
                continue
            for item in reply.get("Successful") or []:
                succeeded = pending.pop(str(item.get("Id")), None)
                if succeeded is not None:
                    outcomes[succeeded.key] = EntryOutcome(succeeded.key, True)
            retry = False
            for item in reply.get("Failed") or []:
                rejected = pending.get(str(item.get("Id")))
                if rejected is None:
                    continue
                code, text = str(item.get("Code", "")), str(item.get("Message", ""))
                if not item.get("SenderFault", True):
                    retry, last_fault = True, f"{code}: {text}".rstrip(": ")  # SQS's own fault: try it again
                    continue
                del pending[str(item.get("Id"))]
                outcomes[rejected.key] = EntryOutcome(rejected.key, False, lost=is_ownership_lost(code, text),
                                                   reason=f"{code}: {text}".rstrip(": "))
            answered = {str(item.get("Id")) for item in reply.get("Failed") or []}
            unanswered = [key for key in pending if key not in answered]
            if unanswered:
                retry, last_fault = True, "no result for this entry"
                self.on_fault()
                self.logger.notice(f"{operation} answered without a result for {len(unanswered)} of its entries; "
                                   "sending them again", level="warning")
            if not (pending and retry):
                continue
            if time.monotonic() >= deadline:
                for entry in pending.values():
                    outcomes[entry.key] = EntryOutcome(entry.key, False, reason=last_fault)
                break
            never.wait(min(backoff.next_delay(), max(deadline - time.monotonic(), 0.0)))
        return [outcomes[entry.key] for entry in entries if entry.key in outcomes]

    def _send(self, operation: str, pending: dict[str, BatchEntry]) -> dict[str, Any]:
        if operation == "DeleteMessageBatch":
            return self.control.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": key, "ReceiptHandle": entry.receipt_handle} for key, entry in pending.items()])
        return self.control.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=[
            {"Id": key, "ReceiptHandle": entry.receipt_handle, "VisibilityTimeout": int(entry.visibility or 0)}
            for key, entry in pending.items()])


def chunks(items: Iterable[Any], size: int = BATCH_LIMIT) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
