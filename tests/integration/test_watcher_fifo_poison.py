"""A FIFO message that keeps failing reaches the dead-letter queue alone: those behind it in its group run.

Every receive raises the receive count of each message it returns, and a FIFO
receive returns as many messages of one group as it can; the messages held
behind a failing head must not pay for its receives.
"""

from __future__ import annotations

import json

import pytest

from tests.support.watcherproc import WatcherProcess, summaries, unique

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

MAX_RECEIVES = 3


def fifo_queue_with_dlq(server) -> tuple[str, str]:
    sqs = server.client("sqs")
    fifo = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    dlq_url = sqs.create_queue(QueueName=unique("dead") + ".fifo", Attributes=fifo)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": MAX_RECEIVES})
    url = sqs.create_queue(QueueName=unique("work") + ".fifo",
                           Attributes={**fifo, "VisibilityTimeout": "30", "RedrivePolicy": redrive})["QueueUrl"]
    return url, dlq_url


def dead_lettered(server, dlq_url: str) -> list[str]:
    sqs = server.client("sqs")
    bodies = []
    while True:
        reply = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=60)
        if not reply.get("Messages"):
            return sorted(bodies)
        bodies += [message["Body"] for message in reply["Messages"]]


@pytest.mark.parametrize("code", [1, 4])
def test_messages_behind_a_failing_fifo_head_run_and_only_the_head_is_dead_lettered(moto_server, tmp_path, code):
    url, dlq_url = fifo_queue_with_dlq(moto_server)
    sqs = moto_server.client("sqs")
    sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": name, "MessageBody": name, "MessageGroupId": "g"} for name in ("A", "B", "C", "D")])
    record = tmp_path / "record"
    command = f'echo "$Message" >> {record}; [ "$Message" = A ] && exit {code}; exit 0'
    with WatcherProcess(moto_server, url, command, concurrency="4", Fifo="true") as watcher:
        watcher.wait_for(lambda lines: sum("outcome success" in line for line in summaries(lines)) == 3, 90)
        lines = watcher.snapshot()
    runs = record.read_text().split()
    # the head ran once per receive SQS allowed it; each message behind it ran once, in order
    assert runs == ["A"] * MAX_RECEIVES + ["B", "C", "D"], lines
    assert dead_lettered(moto_server, dlq_url) == ["A"]
    # those behind paid at most for the one receive that brought them with the head before it first failed
    receives = [int(line.split(" after ")[1].split(" receives")[0]) for line in summaries(lines)
                if "outcome success" in line]
    assert len(receives) == 3 and max(receives) <= 2, receives
