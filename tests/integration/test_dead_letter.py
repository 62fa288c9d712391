"""``watchbot-dead-letter`` as a process against stacks deployed to a moto server.

Each command runs as a real subprocess with ``AWS_ENDPOINT_URL`` pointing at
moto. The invariant under test everywhere: every message ends up exactly where
the command says, and none is lost, also when the command is interrupted with
Ctrl-C (SIGINT) halfway.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import pytest

from tests.integration.test_deploy import deploy, render
from tests.support.watcherproc import queue_depth

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

TOOL = [sys.executable, "-m", "watchbot_cfn.cli.dead_letter"]


# --- stacks -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_systems(moto_server):
    """This project's two-systems example: Resize and Transcode in one stack."""
    stack = deploy(moto_server, render("examples/two-systems.toml"))
    return stack


def original_template() -> dict[str, Any]:
    """The queues and log group of a stack the JavaScript Watchbot v9 built, with its logical ids and names."""
    name = {"Fn::Join": ["", [{"Ref": "AWS::StackName"}, "-", "WatchbotDeadLetterQueue"]]}
    return {"Resources": {
        "WatchbotDeadLetterQueue": {"Type": "AWS::SQS::Queue",
                                    "Properties": {"QueueName": name, "MessageRetentionPeriod": 1209600}},
        "WatchbotQueue": {"Type": "AWS::SQS::Queue", "Properties": {
            "VisibilityTimeout": 180, "MessageRetentionPeriod": 1209600,
            "QueueName": {"Fn::Join": ["", [{"Ref": "AWS::StackName"}, "-", "WatchbotQueue"]]},
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["WatchbotDeadLetterQueue", "Arn"]},
                              "maxReceiveCount": 10}}},
        "WatchbotLogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": {"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, {"Ref": "AWS::Region"}, "watchbot"]]},
            "RetentionInDays": 14}},
    }}


@pytest.fixture
def resize(two_systems, moto_server):
    """The Resize system's queues, emptied for each test."""
    urls = {"queue": two_systems.physical["ResizeQueue"], "dead": two_systems.physical["ResizeDeadLetterQueue"],
            "logs": two_systems.physical["ResizeLogGroup"], "stack": two_systems.name}
    for key in ("queue", "dead"):
        texts_in(moto_server, urls[key])
    return urls


@pytest.fixture
def original(moto_server):
    """A fresh stack with the original's one system (SQS allows one purge per queue a minute)."""
    stack = deploy(moto_server, original_template())
    return {"queue": stack.physical["WatchbotQueue"], "dead": stack.physical["WatchbotDeadLetterQueue"],
            "stack": stack.name}


def fill(server, url: str, count: int, envelope: bool = True) -> list[str]:
    """``count`` dead messages (SNS envelopes, as the work topic delivers them); returns their texts."""
    sqs = server.client("sqs")
    texts = [f"resize photo {n} {uuid.uuid4().hex[:6]}" for n in range(count)]
    for start in range(0, count, 10):
        entries = []
        for index, text in enumerate(texts[start:start + 10]):
            body = json.dumps({"Type": "Notification", "Subject": "resize", "Message": text}) if envelope else text
            entries.append({"Id": str(index), "MessageBody": body})
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    return texts


def texts_in(server, url: str) -> list[str]:
    """Every message text in a queue (received and deleted: the queue ends empty)."""
    sqs = server.client("sqs")
    found = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       VisibilityTimeout=60).get("Messages", []):
        for entry in batch:
            body = entry["Body"]
            found.append(json.loads(body)["Message"] if body.startswith("{") else body)
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": entry["ReceiptHandle"]} for i, entry in enumerate(batch)])
    return found


def tool(server, *args: str, stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(TOOL + list(args), env=server.env(), input=stdin, capture_output=True, text=True,
                          timeout=timeout)


class Running:
    """The tool as a running process whose output is read as it comes."""

    def __init__(self, server, *args: str) -> None:
        self.process = subprocess.Popen(TOOL + list(args), env=server.env(), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        self.out: list[str] = []
        self.err: list[str] = []
        for stream, sink in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=self._read, args=(stream, sink), daemon=True).start()

    @staticmethod
    def _read(stream, sink: list[str]) -> None:
        while chunk := stream.read(1):
            sink.append(chunk)

    @property
    def stdout(self) -> str:
        return "".join(self.out)

    @property
    def stderr(self) -> str:
        return "".join(self.err)

    def wait_for(self, predicate, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.process.poll() is not None:
                time.sleep(0.2)
                if predicate():
                    return
                raise AssertionError(f"exited {self.process.returncode}\n{self.stdout}\n{self.stderr}")
            assert time.monotonic() < deadline, f"timed out\n{self.stdout}\n{self.stderr}"
            time.sleep(0.02)

    def answer(self, text: str) -> None:
        assert self.process.stdin
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(30)

    def finish(self) -> int:
        assert self.process.stdin
        self.process.stdin.close()
        return self.process.wait(30)

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


# --- finding the system -------------------------------------------------------------

def test_several_systems_without_a_prefix_and_no_terminal_is_a_usage_error(moto_server, two_systems):
    result = tool(moto_server, "print", "--stack-name", two_systems.name)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("watchbot-dead-letter: the stack holds 2 Watchbot systems (Resize, Transcode): "
                             "pass --prefix to pick one\n")


def test_an_unknown_stack_or_prefix_is_one_line_and_exit_1(moto_server, two_systems):
    missing = tool(moto_server, "print", "--stack-name", "no-such-stack")
    assert missing.returncode == 1
    assert missing.stderr == ("watchbot-dead-letter: stack 'no-such-stack' not found in us-east-1: check "
                              "--stack-name and --region\n")
    wrong = tool(moto_server, "print", "--stack-name", two_systems.name, "--prefix", "Thumbs")
    assert wrong.returncode == 1
    assert "names no Watchbot system in this stack; it holds: Resize, Transcode" in wrong.stderr


def test_a_stack_built_by_the_original_watchbot_is_found_by_its_logical_ids(moto_server, original):
    texts = fill(moto_server, original["dead"], 3)
    result = tool(moto_server, "return", "--stack-name", original["stack"])
    assert result.returncode == 0, result.stderr
    assert result.stdout == "returned 3 messages to the work queue\n"
    assert sorted(texts_in(moto_server, original["queue"])) == sorted(texts)


# --- print --------------------------------------------------------------------------

def test_print_writes_one_json_line_per_message_and_leaves_them_all_visible(moto_server, resize):
    texts = fill(moto_server, resize["dead"], 12)
    fill(moto_server, resize["dead"], 1, envelope=False)
    result = tool(moto_server, "print", "--stack-name", resize["stack"], "--prefix", "Resize")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 13
    assert {tuple(record) for record in records} == {("id", "subject", "message", "receives", "sent")}
    assert sorted(r["message"] for r in records if r["subject"] == "resize") == sorted(texts)
    [plain] = [r for r in records if r["subject"] is None]
    assert plain["message"].startswith("resize photo 0 ")
    assert all(r["receives"] == 1 and r["sent"].endswith("Z") for r in records)
    assert len({r["id"] for r in records}) == 13
    assert "printed 13 messages; all 13 are visible in the dead-letter queue again" in result.stderr
    assert queue_depth(moto_server, resize["dead"]) == (13, 0)


def test_print_interrupted_leaves_every_message_visible(moto_server, resize):
    fill(moto_server, resize["dead"], 30)
    with Running(moto_server, "print", "--stack-name", resize["stack"], "--prefix", "Resize") as running:
        running.wait_for(lambda: running.stdout.count("\n") >= 1)
        assert running.interrupt() == 130
    assert "interrupted; every message this command held is visible in its queue again" in running.stderr
    assert queue_depth(moto_server, resize["dead"]) == (30, 0)


# --- return -------------------------------------------------------------------------

def test_return_moves_every_message_to_the_work_queue(moto_server, resize):
    texts = fill(moto_server, resize["dead"], 25)
    result = tool(moto_server, "return", "--stack-name", resize["stack"], "--prefix", "Resize")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "returned 25 messages to the work queue\n"
    assert "SQS message-move task unavailable" in result.stderr  # moto has none: the copy loop ran
    assert queue_depth(moto_server, resize["dead"]) == (0, 0)
    assert sorted(texts_in(moto_server, resize["queue"])) == sorted(texts)


@pytest.mark.parametrize("presses", [1, 2])
def test_return_interrupted_halfway_loses_nothing_and_holds_nothing(moto_server, resize, presses):
    texts = fill(moto_server, resize["dead"], 100)
    with Running(moto_server, "return", "--stack-name", resize["stack"], "--prefix", "Resize") as running:
        running.wait_for(lambda: queue_depth(moto_server, resize["queue"])[0] > 0)
        for _ in range(presses - 1):  # a second Ctrl-C cuts the batch in flight short
            running.process.send_signal(signal.SIGINT)
            time.sleep(0.01)
        assert running.interrupt() == 130
    visible_dead, hidden_dead = queue_depth(moto_server, resize["dead"])
    assert hidden_dead == 0, "every message the tool held is visible again"
    assert 0 < visible_dead < 100, "interrupted halfway"
    returned = texts_in(moto_server, resize["queue"])
    left = texts_in(moto_server, resize["dead"])
    assert set(returned + left) == set(texts), "no message lost"
    if presses == 1:
        assert sorted(returned + left) == sorted(texts), "one Ctrl-C lets the batch finish: no copies either"


def test_return_keeps_fifo_groups_and_never_merges_equal_bodies(moto_server):
    stack = deploy(moto_server, render("examples/fifo.toml"))
    sqs = moto_server.client("sqs")
    dead, queue = stack.physical["WatchbotDeadLetterQueue"], stack.physical["WatchbotQueue"]
    # three dead messages with the same body (the work queue deduplicates by content) in two groups
    for number, group in enumerate(("tiles-1", "tiles-1", "tiles-2")):
        sqs.send_message(QueueUrl=dead, MessageBody="render tile", MessageGroupId=group,
                         MessageDeduplicationId=f"dead-{number}")
    result = tool(moto_server, "return", "--stack-name", stack.name)
    assert (result.returncode, result.stdout) == (0, "returned 3 messages to the work queue\n"), result.stderr
    groups = []
    while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       AttributeNames=["MessageGroupId"]).get("Messages", []):
        for entry in batch:
            groups.append(entry["Attributes"]["MessageGroupId"])
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=entry["ReceiptHandle"])
    assert sorted(groups) == ["tiles-1", "tiles-1", "tiles-2"]


def test_when_the_work_queue_refuses_everything_stays_in_the_dead_letter_queue(moto_server, original):
    sqs = moto_server.client("sqs")
    sqs.set_queue_attributes(QueueUrl=original["queue"], Attributes={"MaximumMessageSize": "1024"})
    for start in (0, 10):
        sqs.send_message_batch(QueueUrl=original["dead"], Entries=[
            {"Id": str(n), "MessageBody": f"{start + n} " + "x" * 2000} for n in range(10 if start == 0 else 5)])
    result = tool(moto_server, "return", "--stack-name", original["stack"])
    assert result.returncode == 1
    assert "the work queue refused 10 messages: " in result.stderr
    assert result.stdout == ("returned 0 messages to the work queue\n"
                             "10 messages could not be sent to the work queue and are still in the dead-letter queue\n")
    assert queue_depth(moto_server, original["dead"]) == (15, 0)


# --- purge --------------------------------------------------------------------------

def test_purge_asks_first_and_deletes_only_when_told(moto_server, original):
    fill(moto_server, original["dead"], 4)
    declined = tool(moto_server, "purge", "--stack-name", original["stack"], stdin="n\n")
    assert declined.returncode == 0
    assert "Delete all 4 messages in" in declined.stderr and declined.stdout == "nothing deleted\n"
    assert queue_depth(moto_server, original["dead"]) == (4, 0)
    confirmed = tool(moto_server, "purge", "--stack-name", original["stack"], stdin="y\n")
    assert confirmed.returncode == 0
    assert confirmed.stdout == f"purged {original['dead'].rsplit('/', 1)[1]}: 4 messages deleted\n"
    assert queue_depth(moto_server, original["dead"]) == (0, 0)
    # SQS allows one purge a minute: a second one is refused with a clear line
    fill(moto_server, original["dead"], 1)
    again = tool(moto_server, "purge", "--stack-name", original["stack"], "--yes")
    assert (again.returncode, again.stdout) == (1, "")
    assert again.stderr == ("watchbot-dead-letter: SQS allows one purge of a queue every 60 seconds and one "
                            "started less than a minute ago: try again shortly\n")


def test_purge_with_yes_asks_nothing_and_ctrl_c_at_the_question_deletes_nothing(moto_server, original):
    fill(moto_server, original["dead"], 2)
    with Running(moto_server, "purge", "--stack-name", original["stack"]) as running:
        running.wait_for(lambda: "permanently? [y/N]" in running.stderr)
        assert running.interrupt() == 130
    assert queue_depth(moto_server, original["dead"]) == (2, 0)
    result = tool(moto_server, "purge", "--stack-name", original["stack"], "--yes")
    assert result.returncode == 0 and "[y/N]" not in result.stderr
    assert queue_depth(moto_server, original["dead"]) == (0, 0)


# --- triage -------------------------------------------------------------------------

def write_logs(server, group: str, lines: list[str]) -> None:
    logs = server.client("logs")
    stream = uuid.uuid4().hex
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": now + n, "message": line} for n, line in enumerate(lines)])


def dead_ids(server, url: str) -> dict[str, str]:
    """text -> message id of every message in a queue, leaving them visible."""
    sqs = server.client("sqs")
    found: dict[str, str] = {}
    handles = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30).get("Messages"):
        for entry in batch:
            found[json.loads(entry["Body"])["Message"]] = entry["MessageId"]
            handles.append(entry["ReceiptHandle"])
    for handle in handles:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    return found


def test_a_triage_session_shows_each_message_with_its_logs_and_acts_on_the_answers(moto_server, resize):
    texts = fill(moto_server, resize["dead"], 3)
    ids = dead_ids(moto_server, resize["dead"])
    write_logs(moto_server, resize["logs"], [
        f"[2024-01-01T00:00:00.000Z] [worker] [{ids[texts[0]]}] cannot open photo 0",
        f"[2024-01-01T00:00:00.001Z] [watcher] [{ids[texts[0]]}] [failure] exit code 1",
        "[2024-01-01T00:00:00.002Z] [watcher] [some-other-message] completed in 3 ms",
    ])
    plan = {texts[0]: "r", texts[1]: "k", texts[2]: "d"}
    with Running(moto_server, "triage", "--stack-name", resize["stack"], "--prefix", "Resize") as running:
        for asked in range(1, 4):
            # stdout and stderr are read by separate threads: wait for the question and for the whole section
            running.wait_for(lambda: running.stderr.count("Action?") == asked and any(  # noqa: B023
                end in running.stdout.rsplit("\nid:", 1)[-1] for end in ("(none found)", "[failure] exit code 1")))
            shown = running.stdout.rsplit("\nid:", 1)[1]
            [text] = [text for text in texts if text in shown]
            if text == texts[0]:
                assert "cannot open photo 0" in shown and "[failure] exit code 1" in shown
            else:
                assert "  (none found)" in shown
            assert "some-other-message" not in shown
            running.answer(plan[text])
        assert running.finish() == 0
    assert running.stdout.startswith("3 messages in ")
    assert running.stdout.count("subject:  resize") == 3
    assert running.stdout.endswith("\nreturned 1, kept 1, deleted 1\n")
    assert "no more dead messages" in running.stdout
    assert texts_in(moto_server, resize["queue"]) == [texts[0]]
    assert queue_depth(moto_server, resize["dead"]) == (1, 0), "the kept one is visible again"
    assert texts_in(moto_server, resize["dead"]) == [texts[1]]


def test_triage_stopped_or_interrupted_at_the_question_keeps_the_message(moto_server, resize):
    fill(moto_server, resize["dead"], 2)
    stopped = tool(moto_server, "triage", "--stack-name", resize["stack"], "--prefix", "Resize", stdin="s\n")
    assert stopped.returncode == 0
    assert stopped.stdout.endswith("returned 0, kept 0, deleted 0\n")
    assert queue_depth(moto_server, resize["dead"]) == (2, 0)
    with Running(moto_server, "triage", "--stack-name", resize["stack"], "--prefix", "Resize") as running:
        running.wait_for(lambda: "Action?" in running.stderr)
        running.answer("k")
        running.wait_for(lambda: running.stderr.count("Action?") == 2)
        assert running.interrupt() == 130
    assert queue_depth(moto_server, resize["dead"]) == (2, 0)


def test_on_a_terminal_the_tool_asks_which_system_and_which_command(moto_server, two_systems, resize):
    texts = fill(moto_server, resize["dead"], 2)
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(TOOL + ["--stack-name", two_systems.name], env=moto_server.env(), stdin=terminal,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        os.write(controller, b"Resize\nprint\n")  # the terminal keeps the lines until they are read
        out, err = process.communicate(timeout=60)
    finally:
        os.close(controller)
        os.close(terminal)
    assert process.returncode == 0, err
    assert "This stack holds several Watchbot systems. Which one?" in err
    assert "  1) Resize (" in err and "  2) Transcode (" in err
    assert "What would you like to do?" in err
    assert sorted(json.loads(line)["message"] for line in out.splitlines()) == sorted(texts)


def test_no_command_and_no_terminal_is_a_usage_error(moto_server, resize):
    result = tool(moto_server, "--stack-name", resize["stack"], "--prefix", "Resize")
    assert result.returncode == 2
    assert result.stderr == ("watchbot-dead-letter: no command given and stdin is not a terminal: give one of "
                             "triage, print, return, purge\n")
