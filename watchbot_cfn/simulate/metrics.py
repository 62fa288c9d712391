"""The CloudWatch metrics the simulated queue and service publish, one value per minute.

Reporting model (a choice, documented in docs/scaling.md):

* SQS publishes one value a minute for each queue metric. The gauges
  (``ApproximateNumberOfMessagesVisible``, ``...NotVisible``,
  ``ApproximateAgeOfOldestMessage``) are the queue as it stands at the end of
  the minute; the counters (``NumberOfMessagesSent``, ``...Received``,
  ``...Deleted``) count what happened during it. A dead-letter queue stays empty.
* Container Insights (``ECS/ContainerInsights``) publishes the service's
  running, pending and desired task counts at the end of each minute.
* ``AWS/ECS`` ``CPUUtilization`` and ``MemoryUtilization``: every running task
  reports one sample a minute, the share of its job slots that were busy
  (a job is assumed to keep its slot's share of the task busy; an idle watcher
  uses nothing). So ``Average`` is the service's utilisation, ``SampleCount``
  the number of running tasks, and with no running task there is no datapoint,
  as with a real service.
* A minute's datapoint becomes visible to alarms ``METRIC_DELAY_MINUTES`` after
  the minute ends (CloudWatch ingestion), and a period of several minutes is
  aggregated over the minutes that fall in it, periods aligned to minute 0.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["METRIC_DELAY_MINUTES", "SIGNALS", "STATISTICS", "MetricStore", "signal_for", "unsupported_metric"]

#: Minutes between the end of a minute and the moment alarms see its datapoint.
METRIC_DELAY_MINUTES = 1

#: (namespace, metric name) -> the simulated quantity behind it.
_CATALOG: dict[tuple[str, str], str] = {
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible"): "visible",
    ("AWS/SQS", "ApproximateNumberOfMessagesNotVisible"): "in_flight",
    ("AWS/SQS", "ApproximateNumberOfMessagesDelayed"): "zero",
    ("AWS/SQS", "ApproximateAgeOfOldestMessage"): "oldest_age",
    ("AWS/SQS", "NumberOfMessagesSent"): "sent",
    ("AWS/SQS", "NumberOfMessagesReceived"): "received",
    ("AWS/SQS", "NumberOfMessagesDeleted"): "deleted",
    ("ECS/ContainerInsights", "RunningTaskCount"): "running_tasks",
    ("ECS/ContainerInsights", "PendingTaskCount"): "pending_tasks",
    ("ECS/ContainerInsights", "DesiredTaskCount"): "desired_tasks",
    ("AWS/ECS", "CPUUtilization"): "utilization",
    ("AWS/ECS", "MemoryUtilization"): "utilization",
}

#: Every per-minute quantity the model records.
SIGNALS = ("visible", "in_flight", "zero", "oldest_age", "sent", "received", "deleted", "running_tasks",
           "pending_tasks", "desired_tasks", "utilization")

_STATISTICS: dict[str, Callable[[list[float]], float]] = {
    "Maximum": max,
    "Minimum": min,
    "Average": lambda values: sum(values) / len(values),
    "Sum": sum,
    "SampleCount": lambda values: float(len(values)),
}
STATISTICS = tuple(_STATISTICS)


def signal_for(namespace: str, metric_name: str, dead_letter_queue: bool = False) -> str | None:
    """The simulated quantity behind a metric, or None when the model does not produce it."""
    signal = _CATALOG.get((namespace, metric_name))
    if signal is not None and dead_letter_queue and namespace == "AWS/SQS":
        return "zero"
    return signal


def unsupported_metric(namespace: str, metric_name: str) -> str:
    known = ", ".join(f"{ns} {name}" for ns, name in _CATALOG)
    return f"metric {namespace} {metric_name} is not simulated (simulated metrics: {known})"


class MetricStore:
    """The samples of each minute and signal (none: no datapoint), appended as minutes end."""

    def __init__(self) -> None:
        self.values: dict[str, list[list[float]]] = {name: [] for name in SIGNALS}
        self.minutes = 0

    def record(self, samples: dict[str, list[float]]) -> None:
        for name in SIGNALS:
            self.values[name].append(samples.get(name, []))
        self.minutes += 1

    def series(self, signal: str, period_minutes: int, statistic: str, last_period: int,
               count: int) -> list[float | None]:
        """Datapoints of periods ``last_period - count + 1 .. last_period`` (None where no data)."""
        aggregate = _STATISTICS[statistic]
        values = self.values[signal]
        points: list[float | None] = []
        for period in range(last_period - count + 1, last_period + 1):
            start = period * period_minutes
            if start < 0:
                points.append(None)
                continue
            present = [sample for minute in values[start:start + period_minutes] for sample in minute]
            points.append(aggregate(present) if present else None)
        return points
