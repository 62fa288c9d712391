"""The log group the awslogs driver ships the watcher's and the worker's lines to.

Its name comes from ``Names.log_group_name`` so the operator tools and the
metric filters find it without reading the template.
"""

from __future__ import annotations

from typing import Any

from troposphere.logs import LogGroup

from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options
from watchbot_cfn.resources.scanner import LOGS_DEFAULT_ENCRYPTION, skip

__all__ = ["build"]


def build(options: Options, names: Names) -> list[Any]:
    return [
        LogGroup(
            names.log_group,
            LogGroupName=names.log_group_name,
            RetentionInDays=options.log_retention_days,
            Metadata=skip(LOGS_DEFAULT_ENCRYPTION),
        )
    ]
