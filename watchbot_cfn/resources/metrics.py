"""Log metric filters: failures, job duration, receives and response time.

The patterns come from ``watchbot_cfn.contract``, next to the functions that
write the watcher's log lines, so the filters always match what the watcher
logs; which pattern applies depends on ``structured_logging``. Metric names
carry the stack and prefix (``Names.metric_name``) so two systems never
publish into one metric.
"""

from __future__ import annotations

from typing import Any

from troposphere import Ref
from troposphere.logs import MetricFilter, MetricTransformation

from watchbot_cfn import contract
from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options

__all__ = ["build", "pattern_and_value"]


def pattern_and_value(spec: contract.MetricFilterSpec, structured: bool) -> tuple[str, str]:
    """The filter pattern and metric value for the watcher's log mode."""
    if structured:
        return spec.structured_pattern, spec.structured_value
    return spec.plain_pattern, spec.plain_value


def build(options: Options, names: Names) -> list[Any]:
    filters = []
    for spec in contract.METRIC_FILTERS:
        pattern, value = pattern_and_value(spec, options.structured_logging)
        filters.append(
            MetricFilter(
                names.metric_filter(spec.metric),
                LogGroupName=Ref(names.log_group),
                FilterPattern=pattern,
                MetricTransformations=[
                    MetricTransformation(
                        MetricName=names.metric_name(spec.metric),
                        MetricNamespace=options.metric_namespace,
                        MetricValue=value,
                        Unit=spec.unit,
                    )
                ],
            )
        )
    return filters
