"""SQS's own message-move task (dead-letter queue redrive), where the endpoint has it.

SQS moves the messages itself, safely and faster than any client loop, and
keeps going if this process goes away. Endpoints without it (older SQS
look-alikes, local emulators) answer StartMessageMoveTask with an error; the
caller then copies the messages itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from watchbot_cfn.aws.errors import error_code, error_message

__all__ = ["MoveResult", "MoveTaskUnavailable", "start_move_task", "follow_move_task", "cancel_move_task",
           "unavailable_reason"]

FINISHED = {"COMPLETED", "CANCELLED", "FAILED"}
POLL_SECONDS = 1.0


class MoveTaskUnavailable(Exception):
    """The endpoint would not start a move task; the text says what it answered."""


@dataclass
class MoveResult:
    status: str
    moved: int
    to_move: int | None = None
    failure: str = ""


def unavailable_reason(error: ClientError) -> str:
    """Why a StartMessageMoveTask error means "copy the messages instead".

    Every refusal does: an unknown action or a server error from an emulator,
    missing permission for this one action, or a queue SQS will not redrive.
    Copying needs only the receive, send and delete rights, and loses nothing
    either way; any error the copy then meets is reported on its own.
    """
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = error_code(error) or f"HTTP {status}"
    message = error_message(error, default="")
    if not message or message.startswith("<"):  # an HTML error page
        message = "the endpoint does not support it"
    return f"{code}: {message.splitlines()[0][:200]}"


def start_move_task(sqs: Any, source_arn: str, destination_arn: str) -> str:
    """Start moving every message of ``source_arn`` to ``destination_arn``; returns the task handle."""
    try:
        answer = sqs.start_message_move_task(SourceArn=source_arn, DestinationArn=destination_arn)
    except ClientError as error:
        raise MoveTaskUnavailable(unavailable_reason(error)) from None
    return str(answer["TaskHandle"])


def _latest(sqs: Any, source_arn: str, handle: str) -> MoveResult:
    results = sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=10).get("Results", [])
    task = next((item for item in results if item.get("TaskHandle") == handle), results[0] if results else {})
    return MoveResult(str(task.get("Status", "RUNNING")), int(task.get("ApproximateNumberOfMessagesMoved", 0)),
                      task.get("ApproximateNumberOfMessagesToMove"), str(task.get("FailureReason", "")))


def follow_move_task(sqs: Any, source_arn: str, handle: str, on_progress: Callable[[MoveResult], None],
                     sleep: Callable[[float], None] = time.sleep) -> MoveResult:
    """Poll until the task ends, reporting each reading."""
    while True:
        result = _latest(sqs, source_arn, handle)
        on_progress(result)
        if result.status in FINISHED:
            return result
        sleep(POLL_SECONDS)


def cancel_move_task(sqs: Any, handle: str) -> None:
    """Stop a running task; messages it already moved stay moved, the rest stay where they were."""
    try:
        sqs.cancel_message_move_task(TaskHandle=handle)
    except ClientError:
        pass  # it finished meanwhile
