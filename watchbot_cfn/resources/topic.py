"""The SNS topic that feeds a standard work queue, and the queue policy it needs.

FIFO systems have no topic: producers send to the queue directly with a
message group id. The queue policy lets exactly this topic send, through the
SNS service principal and an ``aws:SourceArn`` condition, never ``AWS: *``.
"""

from __future__ import annotations

from typing import Any

import awacs.sqs
from awacs.aws import Allow, ArnEquals, Condition, Principal, Statement
from troposphere import GetAtt, Ref
from troposphere.sns import Subscription, Topic
from troposphere.sqs import QueuePolicy

from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options
from watchbot_cfn.resources import policies
from watchbot_cfn.resources.scanner import SNS_AWS_MANAGED_KEY, skip

__all__ = ["build"]



def build(options: Options, names: Names) -> list[Any]:
    if options.fifo:
        return []
    return [
        Topic(
            names.topic,
            DisplayName=f"Watchbot {names.prefix} work topic",
            # Inline, as the original declared it: moving the subscription to a resource of its own would
            # unsubscribe the queue during an upgrade, and SNS drops what it publishes meanwhile.
            Subscription=[Subscription(Protocol="sqs", Endpoint=GetAtt(names.queue, "Arn"))],
            Metadata=skip(SNS_AWS_MANAGED_KEY),
        ),
        _queue_policy(names),
    ]


def _queue_policy(names: Names) -> QueuePolicy:
    return QueuePolicy(
        names.queue_policy,
        Queues=[Ref(names.queue)],
        PolicyDocument=policies.document([
            Statement(
                Sid="OnlyTheWorkTopicSends",
                Effect=Allow,
                Principal=Principal("Service", [policies.SNS]),
                Action=[awacs.sqs.SendMessage],
                Resource=[GetAtt(names.queue, "Arn")],
                Condition=Condition(ArnEquals("aws:SourceArn", Ref(names.topic))),
            )
        ]),
    )
