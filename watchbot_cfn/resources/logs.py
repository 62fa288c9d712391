"""The log group the awslogs driver ships the watcher's and the worker's lines to.

Its name comes from ``Names.log_group_name`` so the operator tools and the
metric filters find it without reading the template. CloudWatch Logs encrypts
it at rest, with ``log_kms_key`` when one is given.
"""

from __future__ import annotations

from typing import Any

from troposphere.logs import LogGroup

from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options
from watchbot_cfn.resources import retention
from watchbot_cfn.resources.scanner import LOGS_DEFAULT_ENCRYPTION, skip

__all__ = ["build"]


def build(options: Options, names: Names) -> list[Any]:
    # No name when an adopted stack's log group has a generated one: leaving it out keeps it.
    named = {} if names.log_group_name is None else {"LogGroupName": names.log_group_name}
    group = LogGroup(names.log_group, **named, RetentionInDays=options.log_retention_days)
    if options.log_kms_key is not None:
        group.KmsKeyId = options.log_kms_key
    else:
        group.Metadata = skip(LOGS_DEFAULT_ENCRYPTION)
    return [retention.apply(group, "log_group", options)]
