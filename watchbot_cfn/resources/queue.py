"""The work queue, its dead-letter queue and their queue policies.

The work queue's visibility timeout is the one the watcher extends while a job
runs (it reads the same value from ``visibilityTimeout``), and its redrive
policy moves a message to the dead-letter queue after ``dead_letter_threshold``
receives. The dead-letter queue only accepts redrives from this work queue.

Both queues are encrypted at rest: with SSE-SQS, or with the customer managed
key ``message_kms_key``. Both queue policies deny every request that does not
use TLS; the work queue's also lets the work topic (and nothing else through
SNS) send.
"""

from __future__ import annotations

from typing import Any

import awacs.sqs
from awacs.aws import Allow, ArnEquals, Condition, Principal, Statement
from troposphere import GetAtt, Ref, Sub
from troposphere.sqs import Queue, QueuePolicy, RedrivePolicy

from watchbot_cfn.naming import Names
from watchbot_cfn.options import MAX_RETENTION, Options
from watchbot_cfn.resources import policies, retention
from watchbot_cfn.resources.scanner import SQS_MANAGED_ENCRYPTION, skip

__all__ = ["ONLY_THE_WORK_TOPIC_SENDS", "build", "work_queue_arn_by_name"]

#: The watcher long-polls anyway; this makes every other consumer do so too.
LONG_POLL_SECONDS = 20
#: Sid of the queue policy statement that lets the work topic deliver.
ONLY_THE_WORK_TOPIC_SENDS = "OnlyTheWorkTopicSends"


def build(options: Options, names: Names) -> list[Any]:
    return [
        _dead_letter_queue(options, names),
        _work_queue(options, names),
        _work_queue_policy(options, names),
        _dead_letter_queue_policy(names),
    ]


def _encrypt(queue: Queue, options: Options) -> None:
    """The customer managed key when one is given, else SSE-SQS (and the scanner told why)."""
    if options.message_kms_key is not None:
        queue.KmsMasterKeyId = options.message_kms_key
    else:
        queue.SqsManagedSseEnabled = True
        queue.Metadata = skip(SQS_MANAGED_ENCRYPTION)


def _work_queue(options: Options, names: Names) -> Queue:
    queue = Queue(
        names.queue,
        **_name(names.queue_name),
        VisibilityTimeout=options.visibility_timeout,
        MessageRetentionPeriod=options.message_retention,
        ReceiveMessageWaitTimeSeconds=LONG_POLL_SECONDS,
        RedrivePolicy=RedrivePolicy(
            deadLetterTargetArn=GetAtt(names.dead_letter_queue, "Arn"),
            maxReceiveCount=options.dead_letter_threshold,
        ),
    )
    if options.fifo:
        queue.FifoQueue = True
        queue.ContentBasedDeduplication = True
    _encrypt(queue, options)
    return retention.apply(queue, "queue", options)


def _dead_letter_queue(options: Options, names: Names) -> Queue:
    queue = Queue(
        names.dead_letter_queue,
        **_name(names.dead_letter_queue_name),
        # Dead letters are evidence: kept 14 days, the longest SQS allows, whatever the work queue keeps.
        MessageRetentionPeriod=MAX_RETENTION,
    )
    if names.queue_name is not None:
        # Only our own work queue may redrive here. Its ARN is spelled out from its name: GetAtt would make
        # the two queues depend on each other, so a work queue whose name CloudFormation generated gets none.
        queue.RedriveAllowPolicy = {
            "redrivePermission": "byQueue",
            "sourceQueueArns": [work_queue_arn_by_name(names)],
        }
    if options.fifo:
        queue.FifoQueue = True
    _encrypt(queue, options)
    return retention.apply(queue, "dead_letter_queue", options)


def _name(name: Any) -> dict[str, Any]:
    """``QueueName`` unless CloudFormation generates the name (an adopted stack's queue)."""
    return {} if name is None else {"QueueName": name}


def _work_queue_policy(options: Options, names: Names) -> QueuePolicy:
    queue_arn = GetAtt(names.queue, "Arn")
    statements = [policies.deny_insecure_transport(queue_arn, [awacs.sqs.Action("*")])]
    if not options.fifo:
        # The SNS service principal with the topic as source, never ``AWS: *``.
        statements.append(Statement(
            Sid=ONLY_THE_WORK_TOPIC_SENDS,
            Effect=Allow,
            Principal=Principal("Service", [policies.SNS]),
            Action=[awacs.sqs.SendMessage],
            Resource=[queue_arn],
            Condition=Condition(ArnEquals("aws:SourceArn", Ref(names.topic))),
        ))
    return QueuePolicy(names.queue_policy, Queues=[Ref(names.queue)], PolicyDocument=policies.document(statements))


def _dead_letter_queue_policy(names: Names) -> QueuePolicy:
    return QueuePolicy(
        names.dead_letter_queue_policy,
        Queues=[Ref(names.dead_letter_queue)],
        PolicyDocument=policies.document([
            policies.deny_insecure_transport(GetAtt(names.dead_letter_queue, "Arn"), [awacs.sqs.Action("*")])]),
    )


def work_queue_arn_by_name(names: Names) -> Sub:
    """The work queue's ARN built from its name, for places that must not depend on the queue."""
    arn = awacs.sqs.ARN(resource="${QueueName}", region="${AWS::Region}", account="${AWS::AccountId}")
    return Sub(arn.JSONrepr(), QueueName=names.queue_name)
