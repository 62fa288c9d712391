"""The SNS topic alarms go to when the user gives an email address instead of a topic.

``assemble.notification_topic_ref`` already points alarms at
``Names.notification_topic`` in that case; this module builds it. The
subscription is inline on the topic: the address receives one confirmation
email after the first deploy.
"""

from __future__ import annotations

from typing import Any

from troposphere.sns import Subscription, Topic

from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options
from watchbot_cfn.resources.scanner import SNS_AWS_MANAGED_KEY, skip

__all__ = ["build"]


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
