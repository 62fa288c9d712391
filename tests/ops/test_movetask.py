"""Returning with SQS's own message-move task, and the decision to copy instead.

moto has no move task (it answers StartMessageMoveTask with an HTTP 500), so
the integration tests exercise the copy path; this module drives the native
path with a fake SQS client that answers as SQS documents it.
"""

from __future__ import annotations

import io

import pytest
from botocore.exceptions import ClientError

from watchbot_cfn.analysis.systems import System
from watchbot_cfn.ops.deadletter import DeadLetterTool
from watchbot_cfn.ops.interrupt import Interrupts
from watchbot_cfn.ops.movetask import MoveTaskUnavailable, start_move_task, unavailable_reason

SYSTEM = System("Watchbot", "https://sqs.us-east-1.amazonaws.com/1/s-WatchbotQueue",
                "https://sqs.us-east-1.amazonaws.com/1/s-WatchbotDeadLetterQueue", "s-us-east-1-Watchbot")


def client_error(code: str, message: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "StartMessageMoveTask")


class FakeSqs:
    """Answers the move-task calls from a script of task readings; fails copying if ever tried."""

    def __init__(self, readings: list[dict], start_error: ClientError | None = None, visible: int = 42) -> None:
        self.readings = list(readings)
        self.start_error = start_error
        self.visible = visible
        self.calls: list[str] = []

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict:
        name = QueueUrl.rsplit("/", 1)[-1]
        return {"Attributes": {"QueueArn": f"arn:aws:sqs:us-east-1:1:{name}",
                               "ApproximateNumberOfMessages": str(self.visible),
                               "ApproximateNumberOfMessagesNotVisible": "0"}}

    def start_message_move_task(self, SourceArn: str, DestinationArn: str) -> dict:
        self.calls.append(f"start {SourceArn.rsplit(':', 1)[-1]} -> {DestinationArn.rsplit(':', 1)[-1]}")
        if self.start_error:
            raise self.start_error
        return {"TaskHandle": "handle-1"}

    def list_message_move_tasks(self, SourceArn: str, MaxResults: int) -> dict:
        self.calls.append("list")
        reading = self.readings.pop(0)
        if reading.get("interrupt"):
            raise KeyboardInterrupt
        return {"Results": [dict(reading, TaskHandle="handle-1")]}

    def cancel_message_move_task(self, TaskHandle: str) -> dict:
        self.calls.append(f"cancel {TaskHandle}")
        return {"ApproximateNumberOfMessagesMoved": 10}

    def receive_message(self, **kwargs) -> dict:
        self.calls.append("receive")
        return {"Messages": []}


def tool(sqs: FakeSqs) -> DeadLetterTool:
    tool = DeadLetterTool(sqs, SYSTEM, Interrupts(), out=io.StringIO(), err=io.StringIO())
    return tool


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    monkeypatch.setattr("watchbot_cfn.ops.movetask.POLL_SECONDS", 0)


def test_sqs_moves_the_messages_and_the_final_count_is_its_own():
    sqs = FakeSqs([
        {"Status": "RUNNING", "ApproximateNumberOfMessagesMoved": 10, "ApproximateNumberOfMessagesToMove": 42},
        {"Status": "COMPLETED", "ApproximateNumberOfMessagesMoved": 42, "ApproximateNumberOfMessagesToMove": 42},
    ])
    outcome = tool(sqs).return_all()
    assert sqs.calls == ["start s-WatchbotDeadLetterQueue -> s-WatchbotQueue", "list", "list"]
    assert (outcome.done, outcome.failed, outcome.notes) == (42, 0, ["returned 42 messages to the work queue"])


def test_a_failed_task_is_reported_with_its_reason():
    sqs = FakeSqs([{"Status": "FAILED", "ApproximateNumberOfMessagesMoved": 5,
                    "ApproximateNumberOfMessagesToMove": 42, "FailureReason": "AccessDenied on the work queue"}])
    outcome = tool(sqs).return_all()
    assert outcome.failed == 37
    assert outcome.notes == ["the move task failed after 5 messages: AccessDenied on the work queue"]


def test_ctrl_c_cancels_the_task_and_what_moved_stays_moved():
    sqs = FakeSqs([{"Status": "RUNNING", "ApproximateNumberOfMessagesMoved": 10}, {"interrupt": True}])
    with pytest.raises(KeyboardInterrupt):
        tool(sqs).return_all()
    assert sqs.calls[-1] == "cancel handle-1"


def test_when_the_endpoint_refuses_the_task_the_messages_are_copied_instead():
    sqs = FakeSqs([], start_error=client_error("AccessDenied", "not allowed: sqs:StartMessageMoveTask", 403))
    dead_letters = tool(sqs)
    outcome = dead_letters.return_all()
    assert sqs.calls[1] == "receive", "the copy loop took over"
    assert outcome.notes == ["returned 0 messages to the work queue"]
    assert ("SQS message-move task unavailable (AccessDenied: not allowed: sqs:StartMessageMoveTask); "
            "copying messages instead") in dead_letters.err.getvalue()


def test_an_empty_queue_starts_nothing():
    sqs = FakeSqs([], visible=0)
    outcome = tool(sqs).return_all()
    assert [call for call in sqs.calls if call.startswith("start")] == []
    assert outcome.notes == ["the dead-letter queue has no visible messages: nothing to return"]


@pytest.mark.parametrize(("error", "reason"), [
    (client_error("500", "<!doctype html>\n<title>500 Internal Server Error</title>", 500),
     "500: the endpoint does not support it"),
    (client_error("InvalidAction", "The action StartMessageMoveTask is not valid for this endpoint."),
     "InvalidAction: The action StartMessageMoveTask is not valid for this endpoint."),
    (client_error("", "", 501), "HTTP 501: the endpoint does not support it"),
])
def test_every_refusal_means_copy_and_says_why(error, reason):
    assert unavailable_reason(error) == reason

    class Refusing:
        def start_message_move_task(self, **kwargs):
            raise error

    with pytest.raises(MoveTaskUnavailable, match="^" + reason.replace(".", r"\.") + "$"):
        start_move_task(Refusing(), "arn:source", "arn:destination")
