"""Map-reduce for a reduce-mode worker: fan out, track the parts, send the reduce message once.

A job flows through three kinds of message, all handled by the same worker
command (``run`` dispatches on the message itself):

1. a *start* message (anything the helper did not write): ``split`` turns it
   into parts; the helper records the total in the progress table and sends
   one part message per part to the system's own work topic (or, for FIFO
   systems, its work queue);
2. a *part* message: ``map`` processes one part; the helper then completes the
   part, and the one worker that completes the last part sends the reduce
   message and records ``reduceSent``;
3. the *reduce* message: ``reduce`` combines the results.

Outcomes become the watcher's exit codes: success 0 (message deleted);
:class:`PartFailed` fails the whole job with its text as the reason and exits
3 (deleted, counted as a failure), and parts of a failed job are skipped;
any other exception exits 1, so the watcher retries the message with backoff.
Part messages are plain JSON (``{"mapreduce": "part", "job": ..., "part": n,
"total": N, "data": ...}``, subject ``map``), so a worker in another language
can read them.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

from watchbot_cfn import contract
from watchbot_cfn.runtime.batching import BATCH_BYTES, size_batches
from watchbot_cfn.runtime.progress import Progress

__all__ = [
    "Incoming",
    "Job",
    "MapReduce",
    "Part",
    "PartFailed",
    "Plan",
    "PlanError",
    "Publisher",
    "QueuePublisher",
    "TopicPublisher",
    "decode",
    "part_message",
    "publisher_from_environment",
    "reduce_message",
    "run",
]

KIND = "mapreduce"
KIND_PART = "part"
KIND_REDUCE = "reduce"
SUBJECT_PART = "map"
SUBJECT_REDUCE = "reduce"
#: SNS's limit for one message and for one PublishBatch; SQS allows more, but one limit keeps both paths alike.
MAX_MESSAGE_BYTES = BATCH_BYTES
EXIT_RETRY = 1


class PartFailed(Exception):
    """Raise from ``map`` (or ``reduce``) when retrying cannot help: the job is failed with this reason."""


class PlanError(ValueError):
    """A start message split into something that cannot be sent (no parts, a part too large)."""


@dataclass(frozen=True)
class Incoming:
    """The message this worker run was started for, as the watcher hands it over."""

    body: str
    subject: str | None = None
    message_id: str | None = None

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Incoming:
        """Read ``$MessageFile`` (always set, whatever the size), else ``$Message``."""
        env = os.environ if env is None else env
        path = env.get(contract.WORKER_MESSAGE_FILE)
        if path:
            with open(path, encoding="utf-8", errors="surrogateescape") as handle:
                body = handle.read()
        else:
            body = env.get(contract.WORKER_MESSAGE, "")
        return cls(body, env.get(contract.WORKER_SUBJECT) or None, env.get(contract.WORKER_MESSAGE_ID) or None)


@dataclass(frozen=True)
class Plan:
    """What ``split`` returns when it picks the job id or stores metadata with the job."""

    job_id: str
    parts: Sequence[Any]
    metadata: Any = None


@dataclass(frozen=True)
class Part:
    """One part handed to ``map``: its 1-based number of ``total``, and the data ``split`` gave it."""

    job_id: str
    number: int
    total: int
    data: Any


@dataclass(frozen=True)
class Job:
    """What ``reduce`` gets: the job, its number of parts and the metadata stored with it."""

    job_id: str
    total: int
    metadata: Any = None


# --- messages ---------------------------------------------------------------------

def part_message(job_id: str, number: int, total: int, data: Any) -> str:
    return json.dumps({KIND: KIND_PART, "job": job_id, "part": number, "total": total, "data": data},
                      separators=(",", ":"))


def reduce_message(job_id: str, total: int) -> str:
    return json.dumps({KIND: KIND_REDUCE, "job": job_id, "total": total}, separators=(",", ":"))


def decode(body: str) -> dict[str, Any] | None:
    """The helper's own part or reduce message, or None for anything else (a start message)."""
    if not body.startswith("{"):
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    if not isinstance(value, dict) or value.get(KIND) not in (KIND_PART, KIND_REDUCE):
        return None
    if not isinstance(value.get("job"), str) or not isinstance(value.get("total"), int):
        return None
    if value[KIND] == KIND_PART and not isinstance(value.get("part"), int):
        return None
    return value


@dataclass(frozen=True)
class Outgoing:
    body: str
    subject: str
    group: str  # FIFO message group
    deduplication: str  # FIFO deduplication id


def _digest(*words: str) -> str:
    return hashlib.sha256("\0".join(words).encode()).hexdigest()


def _part_outgoing(job_id: str, number: int, total: int, data: Any) -> Outgoing:
    # Each part its own FIFO group, so a FIFO system still runs parts side by side.
    return Outgoing(part_message(job_id, number, total, data), SUBJECT_PART,
                    f"{_digest(job_id)[:32]}-{number}", _digest(job_id, str(number)))


def _reduce_outgoing(job_id: str, total: int) -> Outgoing:
    return Outgoing(reduce_message(job_id, total), SUBJECT_REDUCE, _digest(job_id)[:32], _digest(job_id, "reduce"))


# --- publishing -------------------------------------------------------------------

def _payload_size(message: Outgoing) -> int:
    return len(message.body.encode("utf-8")) + len(message.subject)


class Publisher(Protocol):
    def publish(self, messages: Sequence[Outgoing]) -> None: ...


def _send_all(messages: Sequence[Outgoing], send: Callable[[list[tuple[str, Outgoing]]], list[dict[str, Any]]],
              attempts: int = 4) -> None:
    """Send in batches; entries a batch reports as failed are sent again, a few times, then raised."""
    for batch in size_batches(messages, _payload_size, MAX_MESSAGE_BYTES):
        pending = [(str(index), message) for index, message in enumerate(batch)]
        for attempt in range(attempts):
            failed = {entry["Id"]: entry for entry in send(pending)}
            pending = [(key, message) for key, message in pending if key in failed]
            if not pending:
                break
            if attempt + 1 == attempts:
                first = failed[pending[0][0]]
                raise RuntimeError(f"{len(pending)} messages were not sent: "
                                   f"{first.get('Code')}: {first.get('Message')}")
            time.sleep(0.2 * 2 ** attempt)


class TopicPublisher:
    """Publishes to the system's work topic (``$WorkTopic``), which feeds its work queue."""

    def __init__(self, topic_arn: str, client: Any = None) -> None:
        self.topic_arn = topic_arn
        if client is None:
            import boto3

            parts = topic_arn.split(":")
            client = boto3.session.Session().client("sns", region_name=parts[3] if len(parts) > 5 else None)
        self.client = client

    def publish(self, messages: Sequence[Outgoing]) -> None:
        def send(entries: list[tuple[str, Outgoing]]) -> list[dict[str, Any]]:
            answer = self.client.publish_batch(TopicArn=self.topic_arn, PublishBatchRequestEntries=[
                {"Id": key, "Message": message.body, "Subject": message.subject} for key, message in entries])
            return list(answer.get("Failed", []))

        _send_all(messages, send)


class QueuePublisher:
    """Sends to the work queue directly: FIFO systems have no work topic."""

    def __init__(self, queue_url: str, fifo: bool, client: Any = None) -> None:
        self.queue_url = queue_url
        self.fifo = fifo
        if client is None:
            import boto3

            client = boto3.session.Session().client("sqs")
        self.client = client

    def publish(self, messages: Sequence[Outgoing]) -> None:
        def send(entries: list[tuple[str, Outgoing]]) -> list[dict[str, Any]]:
            requests = []
            for key, message in entries:
                request: dict[str, Any] = {"Id": key, "MessageBody": message.body}
                if self.fifo:
                    request.update(MessageGroupId=message.group, MessageDeduplicationId=message.deduplication)
                requests.append(request)
            answer = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=requests)
            return list(answer.get("Failed", []))

        _send_all(messages, send)


def publisher_from_environment(env: Mapping[str, str] | None = None) -> Publisher:
    """``$WorkTopic`` when the system has one, else ``$QueueUrl`` (FIFO systems)."""
    env = os.environ if env is None else env
    topic = env.get(contract.ENV_WORK_TOPIC, "").strip()
    if topic:
        return TopicPublisher(topic)
    queue = env.get(contract.ENV_QUEUE_URL, "").strip()
    if not queue:
        raise PlanError(f"neither {contract.ENV_WORK_TOPIC} nor {contract.ENV_QUEUE_URL} is set: run the worker "
                        "under `watchbot listen` in a reduce-mode system")
    fifo = env.get(contract.ENV_FIFO, "").strip().lower() in ("true", "1", "yes") or queue.endswith(".fifo")
    return QueuePublisher(queue, fifo)


# --- the helper -------------------------------------------------------------------

Split = Callable[[Incoming], "Plan | Sequence[Any]"]
Map = Callable[[Part], None]
Reduce = Callable[[Job], None]


class MapReduce:
    """Fans jobs out and handles part and reduce messages for one system."""

    def __init__(self, progress: Progress, publisher: Publisher, log: Callable[[str], None] | None = None) -> None:
        self.progress = progress
        self.publisher = publisher
        self.log = log or (lambda text: print(text, file=sys.stderr, flush=True))

    @classmethod
    def from_environment(cls) -> MapReduce:
        return cls(Progress(), publisher_from_environment())

    # -- fan out
    def start(self, job_id: str, parts: Sequence[Any], metadata: Any = None) -> int:
        """Record the total and send one part message per part; returns how many were sent.

        Checked before anything is written (a job with no parts, a part that
        does not fit one message). Starting the same job again with the same
        parts sends the parts again and completes nothing twice: a repeated
        start message is safe.
        """
        if not isinstance(job_id, str) or not job_id:
            raise PlanError(f"a job needs a non-empty text as its id, got {job_id!r}")
        parts = list(parts)
        if not parts:
            raise PlanError(f"job {job_id!r} has no parts: split must return at least one")
        total = len(parts)
        try:
            messages = [_part_outgoing(job_id, number, total, data) for number, data in enumerate(parts, 1)]
        except (TypeError, ValueError) as error:
            raise PlanError(f"job {job_id!r}: a part cannot be written as JSON: {error}") from None
        for number, message in enumerate(messages, 1):
            size = len(message.body.encode("utf-8"))
            if size > MAX_MESSAGE_BYTES:
                raise PlanError(f"job {job_id!r}: part {number} is {size} bytes as a message; the limit is "
                                f"{MAX_MESSAGE_BYTES} (store large data elsewhere and send its location)")
        self.progress.set_total(job_id, total)
        if metadata is not None:
            self.progress.set_metadata(job_id, metadata)
        self.publisher.publish(messages)
        self.log(f"job {job_id}: sent {total} parts")
        return total

    # -- dispatch
    def handle(self, incoming: Incoming, split: Split, map: Map, reduce: Reduce) -> int:
        """Run the right step for ``incoming``; returns the exit code for the watcher."""
        message = decode(incoming.body)
        if message is None:
            return self._start(incoming, split)
        if message[KIND] == KIND_PART:
            part = Part(message["job"], message["part"], message["total"], message.get("data"))
            return self.run_part(part, map, token=incoming.message_id)
        return self.run_reduce(message["job"], message["total"], reduce)

    def _start(self, incoming: Incoming, split: Split) -> int:
        try:
            plan = split(incoming)
        except PartFailed as error:
            self.log(f"start message rejected: {error}")
            return contract.EXIT_REJECTED
        if not isinstance(plan, Plan):
            if not incoming.message_id:
                raise PlanError("split returned parts without a job id and $MessageId is not set: return a Plan")
            plan = Plan(incoming.message_id, plan)
        try:
            self.start(plan.job_id, plan.parts, plan.metadata)
        except PlanError as error:
            self.log(f"start message rejected: {error}")
            return contract.EXIT_REJECTED
        return contract.EXIT_SUCCESS

    def run_part(self, part: Part, map: Map, token: str | None = None) -> int:
        """Process one part unless its job failed; the caller that completes the last part sends the reduce."""
        status = self.progress.status(part.job_id, part.number)
        if "failed" in status:
            self.log(f"job {part.job_id}: skipping part {part.number}, the job failed: {status['failed']}")
            return contract.EXIT_SUCCESS
        if not status.get("partComplete"):
            try:
                map(part)
            except PartFailed as error:
                reason = str(error) or type(error).__name__
                self.progress.fail_job(part.job_id, reason)
                self.log(f"job {part.job_id}: part {part.number} failed the job: {reason}")
                return contract.EXIT_REJECTED
        # A part done before (a duplicate, or a retry after a crash) is completed again without
        # redoing it: with the same token, a retry learns "done" if its first attempt finished the job.
        if self.progress.complete_part(part.job_id, part.number, token=token):
            self.publisher.publish([_reduce_outgoing(part.job_id, part.total)])
            self.progress.reduce_sent(part.job_id)
            self.log(f"job {part.job_id}: part {part.number} was the last of {part.total}; reduce message sent")
        return contract.EXIT_SUCCESS

    def run_reduce(self, job_id: str, total: int, reduce: Reduce) -> int:
        status = self.progress.status(job_id)
        if "failed" in status:
            self.log(f"job {job_id}: not reducing, the job failed: {status['failed']}")
            return contract.EXIT_SUCCESS
        try:
            reduce(Job(job_id, total, status.get("metadata")))
        except PartFailed as error:
            reason = str(error) or type(error).__name__
            self.progress.fail_job(job_id, reason)
            self.log(f"job {job_id}: reduce failed the job: {reason}")
            return contract.EXIT_REJECTED
        return contract.EXIT_SUCCESS


def run(split: Split, map: Map, reduce: Reduce) -> NoReturn:
    """The worker's entry point: handle the message in the environment and exit with the outcome."""
    try:
        code = MapReduce.from_environment().handle(Incoming.from_environment(), split, map, reduce)
    except Exception:
        traceback.print_exc()
        code = EXIT_RETRY
    sys.stdout.flush()
    sys.exit(code)
