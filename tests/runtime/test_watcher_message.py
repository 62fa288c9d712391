from __future__ import annotations

import json
import os

import pytest

from watchbot_cfn import contract
from watchbot_cfn.runtime.message import (
    Message,
    MessageFiles,
    MessagePaths,
    fits_environment,
    unwrap,
    worker_environment,
)


def sqs_entry(body: str, receives: int = 3) -> dict:
    return {"MessageId": "m-1", "ReceiptHandle": "rh", "Body": body, "Attributes": {
        "ApproximateReceiveCount": str(receives), "SentTimestamp": "1700000000123",
        "ApproximateFirstReceiveTimestamp": "1700000001000"}}


def test_sns_notifications_are_unwrapped():
    body = json.dumps({"Type": "Notification", "Message": "hello", "Subject": "greeting", "TopicArn": "arn"})
    assert unwrap(body) == ("hello", "greeting")


def test_anything_else_passes_as_it_is():
    for body in ['{"Type": "Other", "Message": "x"}', '{"Message": "x"}', "{not json", "plain",
                 '{"Type": "Notification", "Message": {"nested": 1}}', "[1, 2]"]:
        assert unwrap(body) == (body, None)


def test_worker_environment_follows_the_contract(tmp_path):
    message = Message.from_sqs(sqs_entry(json.dumps({"Type": "Notification", "Message": "body", "Subject": "s"})))
    env, left_out = worker_environment(message, {"PATH": "/bin", contract.WORKER_SUBJECT: "stale"},
                                       MessagePaths("/x/file", "/x/file.subject"))
    assert left_out == []
    assert env[contract.WORKER_SUBJECT_FILE] == "/x/file.subject"
    assert env[contract.WORKER_MESSAGE] == "body"
    assert env[contract.WORKER_SUBJECT] == "s"
    assert env[contract.WORKER_MESSAGE_ID] == "m-1"
    assert env[contract.WORKER_SENT_TIMESTAMP] == "2023-11-14T22:13:20.123Z"
    assert env[contract.WORKER_FIRST_RECEIVE_TIMESTAMP] == "2023-11-14T22:13:21.000Z"
    assert env[contract.WORKER_RECEIVE_COUNT] == "3"
    assert env[contract.WORKER_MESSAGE_FILE] == "/x/file"
    assert env["PATH"] == "/bin"


def test_no_subject_clears_an_inherited_one():
    env, _ = worker_environment(Message.from_sqs(sqs_entry("raw")),
                                {contract.WORKER_SUBJECT: "old", contract.WORKER_SUBJECT_FILE: "/old"},
                                MessagePaths("/f"))
    assert contract.WORKER_SUBJECT not in env and contract.WORKER_SUBJECT_FILE not in env


def test_message_is_set_exactly_when_it_fits_one_environment_string():
    limit_body = "x" * (contract.ENV_STRING_LIMIT - len("Message=") - 1)
    assert fits_environment("Message", limit_body)
    assert not fits_environment("Message", limit_body + "x")
    assert not fits_environment("Message", "é" * (contract.ENV_STRING_LIMIT // 2))  # bytes count, not characters
    big = Message.from_sqs(sqs_entry("y" * (1024 * 1024)))
    env, [reason] = worker_environment(big, {contract.WORKER_MESSAGE: "inherited"}, MessagePaths("/f"))
    assert contract.WORKER_MESSAGE not in env
    assert reason == ("Message is 1,048,576 bytes, more than one environment string holds (128 KiB); "
                      "the worker reads $MessageFile")


@pytest.mark.parametrize("body, subject, why", [
    ("nul\u0000inside", None, "contains a NUL character"),
    ("lone \ud800 surrogate", None, "contains a lone surrogate"),
    ("fine", "sub\u0000ject", "Subject contains a NUL character"),
    ("fine", "s" * 200_000, "Subject is 200,000 bytes"),
])
def test_what_the_environment_cannot_hold_is_left_to_the_files(tmp_path, body, subject, why):
    import subprocess

    envelope = {"Type": "Notification", "Message": body, **({"Subject": subject} if subject else {})}
    message = Message.from_sqs(sqs_entry(json.dumps(envelope)))
    files = MessageFiles(str(tmp_path))
    paths = files.write(message)
    env, [reason] = worker_environment(message, dict(os.environ), paths)
    assert why in reason
    script = 'echo "${Message-unset} ${Subject-unset}"; cat "$MessageFile"; echo; cat "${SubjectFile:-/dev/null}"'
    result = subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, check=True)
    first, rest = result.stdout.split(b"\n", 1)
    assert first == (b"unset unset" if subject is None else b"fine unset")
    assert rest == body.encode("utf-8", "surrogatepass") + b"\n" + (subject or "").encode()
    files.remove(paths)
    assert os.listdir(tmp_path) == []


def test_a_one_mebibyte_body_reaches_a_worker_through_its_file(tmp_path):
    import subprocess

    body = "z" * (1024 * 1024)
    message = Message.from_sqs(sqs_entry(body))
    files = MessageFiles(str(tmp_path / "messages"))
    path = files.write(message)
    env, _ = worker_environment(message, dict(os.environ), path)
    result = subprocess.run(["/bin/sh", "-c", 'wc -c < "$MessageFile"; echo "${Message-unset}"'], env=env,
                            capture_output=True, text=True, check=True)
    assert result.stdout.split() == [str(len(body)), "unset"]
    files.remove(path)
    assert not os.path.exists(path.body)


def test_message_files_never_collide_for_one_message_id(tmp_path):
    files = MessageFiles(str(tmp_path))
    message = Message.from_sqs(sqs_entry("a"))
    assert files.write(message) != files.write(message)


def test_response_duration_counts_from_sending():
    message = Message.from_sqs(sqs_entry("a"))
    assert message.response_duration_ms(1700000001123) == 1000
    assert message.receives == 3
