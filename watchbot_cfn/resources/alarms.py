"""CloudWatch alarms that tell a person something needs attention.

One table (``ALARMS``) says, per alarm, which metric it watches and which
options set its threshold, period and evaluation count, so the defaults live
in ``options.py`` only. Each description links to its runbook section in
docs/alarms.md. Actions go to the user's topic, or to the email topic built by
``notifications``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from troposphere.cloudwatch import Alarm, MetricDimension

from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options
from watchbot_cfn.resources import dimensions as dim
from watchbot_cfn.resources import notifications

__all__ = ["ALARMS", "AlarmSpec", "build", "runbook_link"]

#: (namespace, metric name, dimensions) of the metric an alarm watches.
Source = Callable[[Options, Names], tuple[str, Any, list[MetricDimension]]]


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm: its metric, statistic, comparison and the options that tune it."""

    metric: str  # logical id part (Names.alarm) and runbook heading
    what: str  # "<what> <comparison> <threshold>" reads as the description
    source: Source
    statistic: str
    comparison: str
    threshold_option: str
    period_option: str
    evaluation_periods_option: str
    enabled_option: str | None = None

    @property
    def anchor(self) -> str:
        """GitHub's anchor for the ``## <metric>`` heading of docs/alarms.md."""
        return self.metric.lower()


def _log_metric(name: str) -> Source:
    return lambda options, names: (options.metric_namespace, names.metric_name(name), [])


def _queue(options: Options, names: Names) -> tuple[str, Any, list[MetricDimension]]:
    return dim.SQS, dim.VISIBLE, dim.queue_dimensions(names)


def _dead_letter_queue(options: Options, names: Names) -> tuple[str, Any, list[MetricDimension]]:
    return dim.SQS, dim.VISIBLE, dim.dead_letter_queue_dimensions(names)


def _service(metric_name: str) -> Source:
    return lambda options, names: (dim.ECS, metric_name, dim.service_dimensions(options, names))


ALARMS: tuple[AlarmSpec, ...] = (
    AlarmSpec("WorkerErrors", "failed jobs per period", _log_metric("WorkerErrors"), "Sum",
              "GreaterThanThreshold", "error_threshold", "error_period", "error_evaluation_periods"),
    AlarmSpec("QueueSize", "visible messages in the work queue", _queue, "Average",
              "GreaterThanThreshold", "alarm_threshold", "alarm_period", "alarm_periods"),
    AlarmSpec("DeadLetterQueueSize", "visible messages in the dead-letter queue", _dead_letter_queue, "Maximum",
              "GreaterThanOrEqualToThreshold", "dead_letter_alarm_threshold", "dead_letter_alarm_period",
              "dead_letter_alarm_evaluation_periods", enabled_option="dead_letter_alarm"),
    AlarmSpec("MemoryUtilization", "service memory utilisation (%)", _service("MemoryUtilization"), "Average",
              "GreaterThanThreshold", "memory_threshold", "memory_period", "memory_evaluation_periods"),
    AlarmSpec("CpuUtilization", "service CPU utilisation (%)", _service("CPUUtilization"), "Average",
              "GreaterThanThreshold", "cpu_threshold", "cpu_period", "cpu_evaluation_periods"),
)

_COMPARISON_TEXT = {"GreaterThanThreshold": "above", "GreaterThanOrEqualToThreshold": "at or above"}


def runbook_link(options: Options, spec: AlarmSpec) -> str:
    return f"{options.runbook_url}#{spec.anchor}"


def build(options: Options, names: Names) -> list[Any]:
    resources: list[Any] = list(notifications.build(options, names))
    notify = _notification_topic(options, names)
    for spec in ALARMS:
        if spec.enabled_option is None or getattr(options, spec.enabled_option):
            resources.append(_alarm(options, names, spec, notify))
    return resources


def _notification_topic(options: Options, names: Names) -> Any:
    from watchbot_cfn.assemble import notification_topic_ref  # assemble imports this module

    return notification_topic_ref(options, names)


def _alarm(options: Options, names: Names, spec: AlarmSpec, notify: Any) -> Alarm:
    namespace, metric_name, dimensions = spec.source(options, names)
    threshold = getattr(options, spec.threshold_option)
    period = getattr(options, spec.period_option)
    periods = getattr(options, spec.evaluation_periods_option)
    description = (f"Watchbot {names.prefix}: {spec.what} {_COMPARISON_TEXT[spec.comparison]} {threshold} "
                   f"for {periods} period(s) of {period} s. What to do: {runbook_link(options, spec)}")
    alarm = Alarm(
        names.alarm(spec.metric),
        AlarmDescription=description,
        Namespace=namespace,
        MetricName=metric_name,
        Statistic=spec.statistic,
        Period=period,
        EvaluationPeriods=periods,
        Threshold=threshold,
        ComparisonOperator=spec.comparison,
        TreatMissingData="notBreaching",
        AlarmActions=[notify],
    )
    if dimensions:
        alarm.Dimensions = dimensions
    return alarm
