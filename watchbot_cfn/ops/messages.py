"""Dead messages and the SQS calls that hold, release, copy and delete them.

Every move is "send, then delete": a message exists in at least one queue at
every moment, so an interruption can at worst leave a copy in both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from watchbot_cfn.aws.errors import error_code, error_message
from watchbot_cfn.runtime.batching import BATCH_ENTRIES, size_batches
from watchbot_cfn.runtime.message import iso_from_millis, unwrap

__all__ = ["DeadMessage", "QueueOps"]


@dataclass
class DeadMessage:
    """One received message and what is needed to settle or copy it."""

    message_id: str
    receipt_handle: str
    body: str
    attributes: dict[str, str] = field(default_factory=dict)
    message_attributes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_sqs(cls, entry: dict[str, Any]) -> DeadMessage:
        return cls(entry["MessageId"], entry["ReceiptHandle"], entry.get("Body") or "",
                   dict(entry.get("Attributes") or {}), dict(entry.get("MessageAttributes") or {}))

    @property
    def receives(self) -> int:
        try:
            return int(self.attributes.get("ApproximateReceiveCount", "0"))
        except ValueError:
            return 0

    @property
    def sent_ms(self) -> int | None:
        try:
            return int(self.attributes["SentTimestamp"])
        except (KeyError, ValueError):
            return None

    @property
    def sent(self) -> str:
        return iso_from_millis(self.sent_ms)

    def record(self) -> dict[str, Any]:
        """``print``'s line: SNS envelopes unwrapped into subject and message, as the worker saw them."""
        message, subject = unwrap(self.body)
        return {"id": self.message_id, "subject": subject, "message": message, "receives": self.receives,
                "sent": self.sent}

    def send_entry(self, key: str, fifo: bool) -> dict[str, Any]:
        """A SendMessageBatch entry that recreates this message on another queue."""
        entry: dict[str, Any] = {"Id": key, "MessageBody": self.body}
        attributes = {name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
                      for name, value in self.message_attributes.items()}
        if attributes:
            entry["MessageAttributes"] = attributes
        if fifo:
            entry["MessageGroupId"] = self.attributes.get("MessageGroupId") or self.message_id
            # A fresh id per dead message: the original's id may still be inside the 5-minute
            # window and would silently drop the copy; a rerun after an interruption reuses it.
            entry["MessageDeduplicationId"] = self.message_id
        return entry

    def size(self) -> int:
        """Bytes SQS counts toward a batch: the body and every attribute's name, type and value."""
        total = len(self.body.encode("utf-8"))
        for name, value in self.message_attributes.items():
            total += len(name.encode()) + len(str(value.get("DataType", "")).encode())
            data = value.get("StringValue", value.get("BinaryValue", b""))
            total += len(data.encode("utf-8") if isinstance(data, str) else bytes(data))
        return total


class QueueOps:
    """The calls the dead-letter commands make, each on at most ten messages."""

    def __init__(self, sqs: Any) -> None:
        self.sqs = sqs
        #: Why the latest message was not sent, for the operator.
        self.last_refusal = ""

    def receive(self, queue_url: str, count: int, hold: int, wait: int = 1) -> list[DeadMessage]:
        answer = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=count, VisibilityTimeout=hold,
                                          WaitTimeSeconds=wait, AttributeNames=["All"],
                                          MessageAttributeNames=["All"])
        return [DeadMessage.from_sqs(entry) for entry in answer.get("Messages", [])]

    def release(self, queue_url: str, messages: Iterable[DeadMessage]) -> list[DeadMessage]:
        """Make messages visible again at once; returns those SQS would not release."""
        return self._batch(queue_url, list(messages), lambda key, message: {
            "Id": key, "ReceiptHandle": message.receipt_handle, "VisibilityTimeout": 0},
            self.sqs.change_message_visibility_batch)

    def delete(self, queue_url: str, messages: Iterable[DeadMessage]) -> list[DeadMessage]:
        """Delete messages; returns those SQS would not delete (their handle expired or was replaced)."""
        return self._batch(queue_url, list(messages), lambda key, message: {
            "Id": key, "ReceiptHandle": message.receipt_handle}, self.sqs.delete_message_batch)

    def send(self, queue_url: str, messages: Sequence[DeadMessage], fifo: bool) -> list[DeadMessage]:
        """Copy messages to ``queue_url``; returns those that were NOT sent (they stay where they are)."""
        failed: list[DeadMessage] = []
        for batch in size_batches(messages, DeadMessage.size):
            entries = {str(index): message for index, message in enumerate(batch)}
            try:
                answer = self.sqs.send_message_batch(
                    QueueUrl=queue_url, Entries=[message.send_entry(key, fifo) for key, message in entries.items()])
            except ClientError as error:
                self.last_refusal = f"{error_code(error) or 'error'}: {error_message(error)}"
                failed.extend(batch)
                continue
            for entry in answer.get("Failed", []):
                failed.append(entries[entry["Id"]])
                self.last_refusal = f"{entry.get('Code', 'error')}: {entry.get('Message', '')}"
        return failed

    def counts(self, queue_url: str) -> tuple[int, int]:
        """(visible, in flight), approximately, as SQS reports them."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessages", 0)), int(
            attributes.get("ApproximateNumberOfMessagesNotVisible", 0))

    def arn(self, queue_url: str) -> str:
        return self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    @staticmethod
    def _batch(queue_url: str, messages: list[DeadMessage], entry: Any, call: Any) -> list[DeadMessage]:
        failed: list[DeadMessage] = []
        for start in range(0, len(messages), BATCH_ENTRIES):
            chunk = {str(index): message for index, message in enumerate(messages[start:start + BATCH_ENTRIES])}
            try:
                answer = call(QueueUrl=queue_url, Entries=[entry(key, message) for key, message in chunk.items()])
            except ClientError:
                failed.extend(chunk.values())
                continue
            failed.extend(chunk[item["Id"]] for item in answer.get("Failed", []))
        return failed
