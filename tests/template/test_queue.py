"""Work queue and dead-letter queue."""

from __future__ import annotations

from tests.support.templates import properties, rendered, walk
from watchbot_cfn.resources import queue


def test_work_queue_redrives_to_the_dead_letter_queue_after_the_threshold():
    # given / when
    work = properties(queue.build, "WatchbotQueue", dead_letter_threshold=4)
    # then
    assert work["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["WatchbotDeadLetterQueue", "Arn"]},
                                     "maxReceiveCount": 4}


def test_retention_applies_to_the_work_queue_and_dead_letters_keep_fourteen_days():
    built = rendered(queue.build, message_retention=3600, visibility_timeout=600)
    work, dead = built["WatchbotQueue"]["Properties"], built["WatchbotDeadLetterQueue"]["Properties"]
    assert work["MessageRetentionPeriod"] == 3600
    assert dead["MessageRetentionPeriod"] == 14 * 24 * 3600  # the longest SQS allows: a dead letter is evidence
    assert work["VisibilityTimeout"] == 600
    assert "VisibilityTimeout" not in dead


def test_retention_may_be_an_intrinsic():
    built = rendered(queue.build, message_retention={"Ref": "Retention"})
    assert built["WatchbotQueue"]["Properties"]["MessageRetentionPeriod"] == {"Ref": "Retention"}
    assert built["WatchbotDeadLetterQueue"]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_queue_names_come_from_names_and_carry_stack_and_prefix():
    built = rendered(queue.build, prefix="Thumbs")
    assert built["ThumbsQueue"]["Properties"]["QueueName"] == {"Fn::Sub": "${AWS::StackName}-ThumbsQueue"}
    assert built["ThumbsDeadLetterQueue"]["Properties"]["QueueName"] == {
        "Fn::Sub": "${AWS::StackName}-ThumbsDeadLetterQueue"}


def test_standard_queues_are_not_fifo():
    built = rendered(queue.build)
    for definition in built.values():
        assert "FifoQueue" not in definition["Properties"]
        assert "ContentBasedDeduplication" not in definition["Properties"]


def test_fifo_makes_both_queues_fifo_and_deduplicates_the_work_queue_by_content():
    built = rendered(queue.build, fifo=True)
    work, dead = built["WatchbotQueue"]["Properties"], built["WatchbotDeadLetterQueue"]["Properties"]
    assert work["FifoQueue"] is True and dead["FifoQueue"] is True
    assert work["ContentBasedDeduplication"] is True
    assert "ContentBasedDeduplication" not in dead
    assert work["QueueName"]["Fn::Sub"].endswith(".fifo")
    assert dead["QueueName"]["Fn::Sub"].endswith(".fifo")


def test_dead_letter_queue_accepts_redrives_only_from_its_own_work_queue():
    # given a FIFO system, whose queue name ends in .fifo
    dead = properties(queue.build, "WatchbotDeadLetterQueue", fifo=True)
    # then the allowed source is exactly the work queue, spelled from its name
    policy = dead["RedriveAllowPolicy"]
    assert policy["redrivePermission"] == "byQueue"
    [source] = policy["sourceQueueArns"]
    text, variables = source["Fn::Sub"]
    assert text == "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${QueueName}"
    assert variables == {"QueueName": {"Fn::Sub": "${AWS::StackName}-WatchbotQueue.fifo"}}


def test_dead_letter_queue_does_not_reference_the_work_queue_resource():
    # a GetAtt/Ref to the work queue would form a cycle with the redrive policy
    dead = rendered(queue.build)["WatchbotDeadLetterQueue"]
    references = [node for node in walk(dead) if isinstance(node, dict) and ({"Ref", "Fn::GetAtt"} & set(node))]
    assert references == []


def test_both_queues_are_encrypted_at_rest():
    assert all(q["Properties"]["SqsManagedSseEnabled"] is True for q in rendered(queue.build).values())
