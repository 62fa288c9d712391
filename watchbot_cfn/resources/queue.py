"""The work queue and its dead-letter queue.

The work queue's visibility timeout is the one the watcher extends while a job
runs (it reads the same value from ``visibilityTimeout``), and its redrive
policy moves a message to the dead-letter queue after ``dead_letter_threshold``
receives. The dead-letter queue only accepts redrives from this work queue.
"""

from __future__ import annotations

from typing import Any

import awacs.sqs
from troposphere import GetAtt, Sub
from troposphere.sqs import Queue, RedrivePolicy

from watchbot_cfn.naming import Names
from watchbot_cfn.options import MAX_RETENTION, Options
from watchbot_cfn.resources.scanner import SQS_MANAGED_ENCRYPTION, skip

__all__ = ["build", "work_queue_arn_by_name"]

#: The watcher long-polls anyway; this makes every other consumer do so too.
LONG_POLL_SECONDS = 20


def build(options: Options, names: Names) -> list[Any]:
    return [_dead_letter_queue(options, names), _work_queue(options, names)]


def _work_queue(options: Options, names: Names) -> Queue:
    queue = Queue(
        names.queue,
        QueueName=names.queue_name,
        VisibilityTimeout=options.visibility_timeout,
        MessageRetentionPeriod=options.message_retention,
        ReceiveMessageWaitTimeSeconds=LONG_POLL_SECONDS,
        SqsManagedSseEnabled=True,
        RedrivePolicy=RedrivePolicy(
            deadLetterTargetArn=GetAtt(names.dead_letter_queue, "Arn"),
            maxReceiveCount=options.dead_letter_threshold,
        ),
    )
    if options.fifo:
        queue.FifoQueue = True
        queue.ContentBasedDeduplication = True
    queue.Metadata = skip(SQS_MANAGED_ENCRYPTION)
    return queue


def _dead_letter_queue(options: Options, names: Names) -> Queue:
    queue = Queue(
        names.dead_letter_queue,
        QueueName=names.dead_letter_queue_name,
        # Dead letters are evidence: kept 14 days, the longest SQS allows, whatever the work queue keeps.
        MessageRetentionPeriod=MAX_RETENTION,
        SqsManagedSseEnabled=True,
        # Only our own work queue may redrive here. Its ARN is spelled out from
        # its name: GetAtt would make the two queues depend on each other.
        RedriveAllowPolicy={
            "redrivePermission": "byQueue",
            "sourceQueueArns": [work_queue_arn_by_name(names)],
        },
    )
    if options.fifo:
        queue.FifoQueue = True
    queue.Metadata = skip(SQS_MANAGED_ENCRYPTION)
    return queue


def work_queue_arn_by_name(names: Names) -> Sub:
    """The work queue's ARN built from its name, for places that must not depend on the queue."""
    arn = awacs.sqs.ARN(resource="${QueueName}", region="${AWS::Region}", account="${AWS::AccountId}")
    return Sub(arn.JSONrepr(), QueueName=names.queue_name)
