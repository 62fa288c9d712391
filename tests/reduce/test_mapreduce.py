"""The map-reduce helper: fan-out, part outcomes and one reduce message, on moto's in-process mock."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

from watchbot_cfn.runtime.mapreduce import (
    Incoming,
    Job,
    MapReduce,
    Part,
    PartFailed,
    Plan,
    PlanError,
    QueuePublisher,
    TopicPublisher,
    decode,
    part_message,
    run,
)
from watchbot_cfn.runtime.message import unwrap
from watchbot_cfn.runtime.progress import Progress


class System:
    """A work topic feeding a work queue, and a progress table: what reduce mode gives a worker."""

    def __init__(self, arn: str) -> None:
        self.logged: list[str] = []
        self.sqs = boto3.client("sqs")
        sns = boto3.client("sns")
        self.queue_url = self.sqs.create_queue(QueueName=f"work-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url,
                                                  AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.topic_arn = sns.create_topic(Name=f"topic-{uuid.uuid4().hex[:8]}")["TopicArn"]
        sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn)
        self.table_arn = arn
        self.progress = Progress(arn)
        self.helper = MapReduce(self.progress, TopicPublisher(self.topic_arn), log=self.logged.append)

    def drain(self) -> list[Incoming]:
        """Every message on the work queue, as the watcher would hand each to the worker."""
        found = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return found
            for entry in batch:
                body, subject = unwrap(entry["Body"])
                found.append(Incoming(body, subject, entry["MessageId"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=entry["ReceiptHandle"])


@pytest.fixture
def system(arn) -> System:
    return System(arn)


class Recorder:
    """split/map/reduce functions that record what they were given."""

    def __init__(self, fail_part: int | None = None, crash_part: int | None = None) -> None:
        self.parts: list[Part] = []
        self.reduced: list[Job] = []
        self.fail_part = fail_part
        self.crash_part = crash_part

    def split(self, message: Incoming) -> Plan:
        request = json.loads(message.body)
        return Plan(request["job"], request["words"], metadata={"words": len(request["words"])})

    def map(self, part: Part) -> None:
        if part.number == self.fail_part:
            raise PartFailed(f"part {part.number} is unreadable")
        if part.number == self.crash_part:
            raise RuntimeError("the disk is full")
        self.parts.append(part)

    def reduce(self, job: Job) -> None:
        self.reduced.append(job)

    def handle(self, system: System, incoming: Incoming) -> int:
        return system.helper.handle(incoming, self.split, self.map, self.reduce)


def start(system: System, recorder: Recorder, words: list, job: str = "job-1") -> list[Incoming]:
    code = recorder.handle(system, Incoming(json.dumps({"job": job, "words": words}), None, "start-message"))
    assert code == 0
    return system.drain()


def test_a_start_message_fans_out_one_part_message_per_part(system):
    recorder = Recorder()
    messages = start(system, recorder, ["alpha", "beta", "gamma"])
    assert {m.subject for m in messages} == {"map"}
    assert sorted((decode(m.body)["part"], decode(m.body)["data"]) for m in messages) == [
        (1, "alpha"), (2, "beta"), (3, "gamma")]
    assert all(decode(m.body)["total"] == 3 and decode(m.body)["job"] == "job-1" for m in messages)
    assert system.progress.status("job-1") == {"progress": 0, "metadata": {"words": 3}}


def test_the_worker_that_completes_the_last_part_sends_the_one_reduce_message(system):
    recorder = Recorder()
    parts = start(system, recorder, ["a", "b", "c", "d"])
    # when every part message is handled, the first two twice (at-least-once delivery)
    codes = [recorder.handle(system, message) for message in parts + parts[:2]]
    assert codes == [0] * 6
    # then each part was processed once, and exactly one reduce message went out
    assert sorted(part.number for part in recorder.parts) == [1, 2, 3, 4]
    [reduce_message] = system.drain()
    assert reduce_message.subject == "reduce"
    assert decode(reduce_message.body) == {"mapreduce": "reduce", "job": "job-1", "total": 4}
    assert system.progress.status("job-1")["reduceSent"] is True
    # and the reduce step gets the job and its metadata
    assert recorder.handle(system, reduce_message) == 0
    assert recorder.reduced == [Job("job-1", 4, {"words": 4})]


def test_a_part_that_fails_for_good_fails_the_job_and_the_rest_is_skipped(system):
    recorder = Recorder(fail_part=2)
    parts = sorted(start(system, recorder, ["a", "b", "c"]), key=lambda m: decode(m.body)["part"])
    assert recorder.handle(system, parts[0]) == 0
    assert recorder.handle(system, parts[1]) == 3  # rejected: deleted, and counted as a failure
    assert recorder.handle(system, parts[2]) == 0
    assert [part.number for part in recorder.parts] == [1], "part 3 was skipped"
    assert system.progress.status("job-1")["failed"] == "part 2 is unreadable"
    assert system.drain() == [], "no reduce message for a failed job"
    assert any("skipping part 3, the job failed: part 2 is unreadable" in line for line in system.logged)


def test_any_other_error_leaves_the_part_to_be_retried(system):
    recorder = Recorder(crash_part=1)
    [part] = start(system, recorder, ["a"])
    with pytest.raises(RuntimeError, match="the disk is full"):
        recorder.handle(system, part)
    assert system.progress.status("job-1", 1) == {"progress": 0, "metadata": {"words": 1}, "partComplete": False}
    recorder.crash_part = None
    assert recorder.handle(system, part) == 0
    assert len(system.drain()) == 1


class FailingOnce:
    """A publisher whose next reduce message fails to go out, like SNS throttling after retries."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.armed = True

    def publish(self, messages) -> None:
        if self.armed and any(message.subject == "reduce" for message in messages):
            self.armed = False
            raise RuntimeError("throttled")
        self.inner.publish(messages)


def test_when_the_reduce_message_cannot_be_sent_the_retried_part_sends_it(system):
    recorder = Recorder()
    parts = start(system, recorder, ["a", "b"])
    system.helper.publisher = FailingOnce(system.helper.publisher)
    assert recorder.handle(system, parts[0]) == 0
    with pytest.raises(RuntimeError, match="throttled"):
        recorder.handle(system, parts[1])  # finished the job, then could not send the reduce
    # the watcher returns the message; its redelivery keeps its message id
    assert recorder.handle(system, parts[1]) == 0
    assert recorder.handle(system, parts[1]) == 0  # and a third delivery sends nothing more
    assert [decode(m.body)["mapreduce"] for m in system.drain()] == ["reduce"]
    assert sorted(part.number for part in recorder.parts) == [1, 2]


def test_a_repeated_start_message_sends_the_parts_again_but_reduces_once(system):
    recorder = Recorder()
    first = start(system, recorder, ["a", "b"])
    again = start(system, recorder, ["a", "b"])
    for message in first + again:
        assert recorder.handle(system, message) == 0
    assert [decode(m.body)["mapreduce"] for m in system.drain()] == ["reduce"]


def test_a_part_too_large_for_a_message_is_refused_before_anything_is_written(system):
    recorder = Recorder()
    code = recorder.handle(system, Incoming(json.dumps({"job": "big", "words": ["x", "y" * 300_000]}), None, "m"))
    assert code == 3
    assert any("part 2 is 300" in line and "the limit is 262144" in line for line in system.logged)
    assert system.progress.status("big") == {"progress": 0}
    assert system.drain() == []


def test_a_job_without_parts_or_without_an_id_is_refused(system):
    with pytest.raises(PlanError, match="has no parts"):
        system.helper.start("empty", [])
    with pytest.raises(PlanError, match="a job needs a non-empty text as its id"):
        system.helper.start("", ["a"])


def test_split_may_return_a_plain_list_and_the_message_id_names_the_job(system):
    incoming = Incoming("a b c", None, "sqs-message-id")
    code = system.helper.handle(incoming, lambda message: message.body.split(), Recorder().map, Recorder().reduce)
    assert code == 0
    assert {decode(m.body)["job"] for m in system.drain()} == {"sqs-message-id"}


def test_fifo_systems_get_the_parts_on_their_queue_in_separate_groups(arn):
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"work-{uuid.uuid4().hex[:8]}.fifo",
                           Attributes={"FifoQueue": "true"})["QueueUrl"]
    helper = MapReduce(Progress(arn), QueuePublisher(url, fifo=True), log=lambda text: None)
    helper.start("fifo-job", ["a", "b", "c"])
    helper.start("fifo-job", ["a", "b", "c"])  # a repeat inside the deduplication window adds nothing
    entries = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       AttributeNames=["MessageGroupId"]).get("Messages", []):
        entries += batch
        for entry in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=entry["ReceiptHandle"])
    assert sorted(decode(entry["Body"])["part"] for entry in entries) == [1, 2, 3]
    assert len({entry["Attributes"]["MessageGroupId"] for entry in entries}) == 3


def test_decode_knows_only_the_helpers_own_messages():
    assert decode(part_message("j", 1, 2, {"x": 1}))["data"] == {"x": 1}
    for body in ("plain text", "{not json", '{"mapreduce": "part", "job": "j"}', '{"job": "j", "total": 1}',
                 '["mapreduce"]'):
        assert decode(body) is None


def test_the_message_file_is_read_before_the_message_variable(tmp_path):
    path = tmp_path / "body"
    path.write_text("from the file")
    incoming = Incoming.from_environment({"MessageFile": str(path), "Message": "from the variable",
                                          "Subject": "map", "MessageId": "m-1"})
    assert incoming == Incoming("from the file", "map", "m-1")
    assert Incoming.from_environment({"Message": "only this"}) == Incoming("only this", None, None)


def test_run_exits_with_the_outcome_and_1_on_an_unexpected_error(system, monkeypatch, capsys):
    recorder = Recorder(crash_part=1)
    [part] = start(system, recorder, ["a"])
    monkeypatch.setenv("ProgressTable", system.table_arn)
    monkeypatch.setenv("WorkTopic", system.topic_arn)
    monkeypatch.setenv("Message", part.body)
    monkeypatch.setenv("MessageId", part.message_id or "")
    with pytest.raises(SystemExit) as exited:
        run(recorder.split, recorder.map, recorder.reduce)
    assert exited.value.code == 1
    assert "RuntimeError: the disk is full" in capsys.readouterr().err
    recorder.crash_part = None
    with pytest.raises(SystemExit) as exited:
        run(recorder.split, recorder.map, recorder.reduce)
    assert exited.value.code == 0
