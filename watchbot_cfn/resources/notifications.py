"""The SNS topic alarms go to when the user gives an email address instead of a topic.

:func:`topic_ref` is where alarms send: the user's topic, or
``Names.notification_topic``, which :func:`build` makes. The
subscription is inline on the topic: the address receives one confirmation
email after the first deploy.

The topic's policy denies requests without TLS and lets CloudWatch alarms of
this account and region publish: a topic policy replaces SNS's default one,
which is what let alarms publish before.
"""

from __future__ import annotations

from typing import Any

import awacs.sns
from awacs.aws import Allow, ArnLike, Condition, Principal, Statement, StringEquals
from troposphere import Ref, Sub
from troposphere.sns import Subscription, Topic

from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options
from watchbot_cfn.resources import policies
from watchbot_cfn.resources.topic import encrypt, topic_policy

__all__ = ["ALARMS_OF_THIS_ACCOUNT_PUBLISH", "build", "topic_ref"]

#: Sid of the statement that lets CloudWatch alarms publish.
ALARMS_OF_THIS_ACCOUNT_PUBLISH = "AlarmsOfThisAccountPublish"


def topic_ref(options: Options, names: Names) -> Any:
    """The topic alarms go to: the user's own, or the one built for the email."""
    if options.notification_topic is not None:
        return options.notification_topic
    return Ref(names.notification_topic)


def build(options: Options, names: Names) -> list[Any]:
    if options.notification_email is None:
        return []
    topic = Topic(
        names.notification_topic,
        DisplayName=f"Watchbot {names.prefix} alarms",
        Subscription=[Subscription(Protocol="email", Endpoint=options.notification_email)],
    )
    encrypt(topic, options)
    alarms = Statement(
        Sid=ALARMS_OF_THIS_ACCOUNT_PUBLISH,
        Effect=Allow,
        Principal=Principal("Service", [policies.CLOUDWATCH]),
        Action=[awacs.sns.Publish],
        Resource=[Ref(names.notification_topic)],
        # As CloudWatch documents it against the confused deputy: alarms of this account and region only.
        Condition=Condition([
            ArnLike("aws:SourceArn", Sub("arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*")),
            StringEquals("aws:SourceAccount", Ref("AWS::AccountId")),
        ]),
    )
    return [topic, topic_policy(names.notification_topic_policy, Ref(names.notification_topic), [alarms])]
