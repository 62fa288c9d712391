"""The SNS topic that feeds a standard work queue, and its topic policy.

FIFO systems have no topic: producers send to the queue directly with a
message group id. The queue policy that lets exactly this topic send lives
with the queues (queue.py).

A topic policy replaces SNS's default one, so this one says everything: no
request without TLS, and the AWS services named in ``topic_publishers`` may
publish for this account. Principals of this account publish through their own
IAM policies (the task role, the webhook's role, your producers), which a topic
policy without an ``Allow`` for them does not take away.
"""

from __future__ import annotations

from typing import Any

import awacs.sns
from awacs.aws import Action, Allow, Principal, Statement
from troposphere import GetAtt, Ref
from troposphere.sns import Subscription, SubscriptionResource, Topic, TopicPolicy

from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options
from watchbot_cfn.resources import policies
from watchbot_cfn.resources.scanner import SNS_AWS_MANAGED_KEY, skip

__all__ = ["SERVICES_OF_THIS_ACCOUNT_PUBLISH", "TOPIC_ACTIONS", "build", "encrypt", "topic_policy"]

#: Every action a topic policy may name (SNS refuses others): the TLS-only guard covers them all.
TOPIC_ACTIONS: tuple[Action, ...] = (
    awacs.sns.AddPermission, awacs.sns.DeleteTopic, awacs.sns.GetTopicAttributes,
    awacs.sns.ListSubscriptionsByTopic, awacs.sns.Publish, awacs.sns.RemovePermission,
    awacs.sns.SetTopicAttributes, awacs.sns.Subscribe,
)
#: Sid of the work topic's statement for ``topic_publishers``.
SERVICES_OF_THIS_ACCOUNT_PUBLISH = "ServicesOfThisAccountPublish"


def build(options: Options, names: Names) -> list[Any]:
    if options.fifo:
        return []
    topic = Topic(names.topic, DisplayName=f"Watchbot {names.prefix} work topic")
    if names.topic_name is not None:  # an adopted stack's topic name: create-only, so kept as it is
        topic.TopicName = names.topic_name
    subscribed: list[Any] = []
    if options.topic_subscription == "inline":
        # Inline, as the original declared it: moving the subscription to a resource of its own would
        # unsubscribe the queue during an upgrade, and SNS drops what it publishes meanwhile.
        topic.Subscription = [Subscription(Protocol="sqs", Endpoint=GetAtt(names.queue, "Arn"))]
    else:
        # A resource of its own, as Watchbot 10 has it; created after the queue policy lets the topic deliver.
        subscribed.append(SubscriptionResource(names.subscription, Protocol="sqs", TopicArn=Ref(names.topic),
                                               Endpoint=GetAtt(names.queue, "Arn"),
                                               DependsOn=[names.queue_policy]))
    encrypt(topic, options)
    publishers = list(dict.fromkeys(options.topic_publishers))
    allowed = [Statement(
        Sid=SERVICES_OF_THIS_ACCOUNT_PUBLISH,
        Effect=Allow,
        Principal=Principal("Service", publishers),
        Action=[awacs.sns.Publish],
        Resource=[Ref(names.topic)],
        Condition=policies.this_account(),
    )] if publishers else []
    return [topic, *subscribed, topic_policy(names.topic_policy, Ref(names.topic), allowed)]


def encrypt(topic: Topic, options: Options) -> None:
    """Server-side encryption with ``message_kms_key``; without one, the scanner is told why there is none."""
    if options.message_kms_key is not None:
        topic.KmsMasterKeyId = options.message_kms_key
    else:
        # S3 event notifications, EventBridge and CloudWatch cannot publish under alias/aws/sns.
        topic.Metadata = skip(SNS_AWS_MANAGED_KEY)


def topic_policy(logical_id: str, topic: Any, allowed: list[Statement]) -> TopicPolicy:
    """A topic's whole policy: the TLS-only guard, then ``allowed``."""
    deny = policies.deny_insecure_transport(topic, list(TOPIC_ACTIONS))
    return TopicPolicy(logical_id, Topics=[topic], PolicyDocument=policies.document([deny, *allowed]))
