"""Work queue, dead-letter queue and their queue policies (the TLS guard itself: test_tls.py)."""

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
    built = queues(rendered(queue.build))
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


def queues(built: dict) -> dict:
    return {key: value for key, value in built.items() if value["Type"] == "AWS::SQS::Queue"}


def test_both_queues_are_encrypted_at_rest_with_sse_sqs_by_default():
    built = queues(rendered(queue.build))
    assert set(built) == {"WatchbotQueue", "WatchbotDeadLetterQueue"}
    assert all(q["Properties"]["SqsManagedSseEnabled"] is True for q in built.values())
    assert all("KmsMasterKeyId" not in q["Properties"] for q in built.values())


def test_queue_policy_lets_only_the_topic_send_to_only_the_work_queue():
    policy = rendered(queue.build)["WatchbotQueuePolicy"]["Properties"]
    assert policy["Queues"] == [{"Ref": "WatchbotQueue"}]
    [statement] = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert statement["Sid"] == "OnlyTheWorkTopicSends"
    assert statement["Principal"] == {"Service": ["sns.amazonaws.com"]}
    assert statement["Action"] == ["sqs:SendMessage"]
    assert statement["Resource"] == [{"Fn::GetAtt": ["WatchbotQueue", "Arn"]}]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "WatchbotTopic"}}}


def test_fifo_queue_policy_allows_nothing_through_sns():
    # FIFO systems have no topic: producers send with their own IAM permissions
    policy = rendered(queue.build, fifo=True)["WatchbotQueuePolicy"]["Properties"]["PolicyDocument"]
    assert [s["Effect"] for s in policy["Statement"]] == ["Deny"]


def test_each_queue_has_its_own_policy():
    built = rendered(queue.build, prefix="Thumbs")
    targets = sorted(ref["Ref"] for value in built.values() if value["Type"] == "AWS::SQS::QueuePolicy"
                     for ref in value["Properties"]["Queues"])
    assert targets == ["ThumbsDeadLetterQueue", "ThumbsQueue"]
