"""CloudWatch alarm evaluation, as the simulator models it.

Every alarm is evaluated once a minute over its last ``EvaluationPeriods``
complete periods. It goes to ALARM when at least ``DatapointsToAlarm`` of them
breach the threshold, to OK otherwise. Missing datapoints follow
``TreatMissingData``: ``breaching`` and ``notBreaching`` count them as such;
``missing`` (the default) and ``ignore`` leave them out, and when every
datapoint is missing ``missing`` goes to INSUFFICIENT_DATA while ``ignore``
keeps the current state. (CloudWatch also looks further back for data when some
is missing; the model does not.)

An alarm whose actions are scaling policies invokes them once a minute for as
long as it stays in the state the actions are attached to, not only when its
state changes: that is how CloudWatch treats Auto Scaling actions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from watchbot_cfn.simulate.mathexpr import Node, evaluate
from watchbot_cfn.simulate.metrics import MetricStore

__all__ = ["ALARM", "COMPARISONS", "INSUFFICIENT_DATA", "OK", "TREAT_MISSING", "AlarmSpec", "AlarmTracker",
           "Query", "compare"]

ALARM = "ALARM"
OK = "OK"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"

COMPARISONS = ("GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold",
               "LessThanOrEqualToThreshold")
TREAT_MISSING = ("missing", "notBreaching", "breaching", "ignore")


@dataclass(frozen=True)
class Query:
    """One metric (``signal`` with a statistic) or one expression of an alarm."""

    query_id: str
    signal: str | None = None
    statistic: str = "Average"
    expression: Node | None = None
    returned: bool = True


@dataclass(frozen=True)
class AlarmSpec:
    """What the simulator needs of an ``AWS::CloudWatch::Alarm`` (or a target-tracking policy's own alarm)."""

    name: str
    queries: tuple[Query, ...]
    period_seconds: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing: str = "missing"
    #: alarm state -> scaling policy ids invoked while the alarm is in that state.
    actions: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def period_minutes(self) -> int:
        return max(1, self.period_seconds // 60)

    @property
    def above(self) -> bool:
        """True when the alarm fires on high values: a breach of 0 then counts as above the threshold."""
        return self.comparison.startswith("Greater")

    def datapoints(self, store: MetricStore, minutes_available: int) -> list[float | None]:
        """The alarm's metric over its evaluation window, oldest first."""
        last_period = minutes_available // self.period_minutes - 1
        count = self.evaluation_periods
        series: dict[str, list[float | None]] = {}
        periods: dict[str, int] = {}
        for query in self.queries:
            if query.signal is not None:
                series[query.query_id] = store.series(query.signal, self.period_minutes, query.statistic,
                                                      last_period, count)
                periods[query.query_id] = self.period_seconds
        for query in self.queries:
            if query.expression is not None:
                series[query.query_id] = evaluate(query.expression, series or {"_": [None] * count}, periods)
        returned = next(query for query in self.queries if query.returned)
        return series[returned.query_id]


def compare(value: float, comparison: str, threshold: float) -> bool:
    if comparison == "GreaterThanThreshold":
        return value > threshold
    if comparison == "GreaterThanOrEqualToThreshold":
        return value >= threshold
    if comparison == "LessThanThreshold":
        return value < threshold
    return value <= threshold


class AlarmTracker:
    """The state of one alarm across evaluations."""

    def __init__(self, spec: AlarmSpec) -> None:
        self.spec = spec
        self.state = INSUFFICIENT_DATA
        self.datapoints: list[float | None] = []

    def evaluate(self, store: MetricStore, minutes_available: int) -> str:
        spec = self.spec
        self.datapoints = spec.datapoints(store, minutes_available)
        verdicts: list[bool] = []
        for value in self.datapoints:
            if value is None:
                if spec.treat_missing == "breaching":
                    verdicts.append(True)
                elif spec.treat_missing == "notBreaching":
                    verdicts.append(False)
                continue
            verdicts.append(compare(value, spec.comparison, spec.threshold))
        if not verdicts:
            if spec.treat_missing != "ignore":
                self.state = INSUFFICIENT_DATA
            return self.state
        self.state = ALARM if sum(verdicts) >= spec.datapoints_to_alarm else OK
        return self.state

    def invoked_policies(self) -> tuple[str, ...]:
        return self.spec.actions.get(self.state, ())
