"""The SNS topic alarms go to when the user gives an email address instead of a topic.

:func:`topic_ref` is where alarms send: the user's topic, or
``Names.notification_topic``, which :func:`build` makes. The
subscription is inline on the topic: the address receives one confirmation
email after the first deploy.
"""

from __future__ import annotations

from typing import Any

from troposphere import Ref
from troposphere.sns import Subscription, Topic

from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options
from watchbot_cfn.resources.scanner import SNS_AWS_MANAGED_KEY, skip

__all__ = ["build", "topic_ref"]


def topic_ref(options: Options, names: Names) -> Any:
    """The topic alarms go to: the user's own, or the one built for the email."""
    if options.notification_topic is not None:
        return options.notification_topic
    return Ref(names.notification_topic)


def build(options: Options, names: Names) -> list[Any]:
    if options.notification_email is None:
        return []
    return [
        Topic(
            names.notification_topic,
            DisplayName=f"Watchbot {names.prefix} alarms",
            Subscription=[Subscription(Protocol="email", Endpoint=options.notification_email)],
            Metadata=skip(SNS_AWS_MANAGED_KEY),  # CloudWatch alarms cannot publish under alias/aws/sns
        )
    ]
