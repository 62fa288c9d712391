"""CloudWatch alarms that tell a person something needs attention.

One table (``ALARMS``) says, per alarm, which metric it watches and which
options set its threshold, period and evaluation count, so the defaults live
in ``options.py`` only. Each description links to its runbook section in
docs/alarms.md. Actions go to the user's topic, or to the email topic built by
``notifications`` (a builder of its own).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from troposphere.cloudwatch import Alarm, MetricDimension

from watchbot_cfn import contract
from watchbot_cfn.naming import Names
from watchbot_cfn.options import ALARM_OPTIONS, AlarmOptions, Options
from watchbot_cfn.records import record
from watchbot_cfn.resources import dimensions as dim
from watchbot_cfn.resources import notifications

__all__ = ["ALARMS", "AlarmSpec", "build", "runbook_link"]

#: (namespace, metric name, dimensions) of the metric an alarm watches.
Source = Callable[[Options, Names], tuple[str, Any, list[MetricDimension]]]


@record
class AlarmSpec:
    """One alarm: its metric, statistic, comparison and the options that tune it."""

    metric: str  # logical id part (Names.alarm) and runbook heading
    what: str  # "<what> <comparison> <threshold>" reads as the description
    source: Source
    statistic: str
    comparison: str

    @property
    def tuned_by(self) -> AlarmOptions:
        """The options that set its threshold, period and evaluation count (declared in options.py)."""
        return ALARM_OPTIONS[self.metric]

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
    AlarmSpec("WorkerErrors", "failed jobs per period", _log_metric(contract.METRIC_WORKER_ERRORS), "Sum",
              "GreaterThanThreshold"),
    AlarmSpec("QueueSize", "visible messages in the work queue", _queue, "Average", "GreaterThanThreshold"),
    AlarmSpec("DeadLetterQueueSize", "visible messages in the dead-letter queue", _dead_letter_queue, "Maximum",
              "GreaterThanOrEqualToThreshold"),
    AlarmSpec("MemoryUtilization", "service memory utilisation (%)", _service("MemoryUtilization"), "Average",
              "GreaterThanThreshold"),
    AlarmSpec("CpuUtilization", "service CPU utilisation (%)", _service("CPUUtilization"), "Average",
              "GreaterThanThreshold"),
)

_COMPARISON_TEXT = {"GreaterThanThreshold": "above", "GreaterThanOrEqualToThreshold": "at or above"}


def runbook_link(options: Options, spec: AlarmSpec) -> str:
    return f"{options.runbook_url}#{spec.anchor}"


def build(options: Options, names: Names) -> list[Any]:
    notify = notifications.topic_ref(options, names)
    return [_alarm(options, names, spec, notify) for spec in ALARMS
            if spec.tuned_by.enabled is None or getattr(options, spec.tuned_by.enabled)]


def _alarm(options: Options, names: Names, spec: AlarmSpec, notify: Any) -> Alarm:
    namespace, metric_name, dimensions = spec.source(options, names)
    tuned = spec.tuned_by
    threshold = getattr(options, tuned.threshold)
    period = getattr(options, tuned.period)
    periods = getattr(options, tuned.evaluation_periods)
    if all(options.is_literal(name) for name in (tuned.threshold, tuned.period, tuned.evaluation_periods)):
        window = f"{threshold} for {periods} period(s) of {period} s"
    else:  # a parameter sets them: the alarm's own fields say the figures
        window = "the threshold for the periods this alarm evaluates"
    description = (f"Watchbot {names.prefix}: {spec.what} {_COMPARISON_TEXT[spec.comparison]} {window}. "
                   f"What to do: {runbook_link(options, spec)}")
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
