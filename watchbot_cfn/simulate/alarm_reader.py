"""The alarms that drive a service's scaling policies, as :class:`AlarmSpec` values.

Alarms are read from ``AWS::CloudWatch::Alarm`` resources whose actions name a
scaling policy of the service (single metric or metric math), plus the two
alarms Application Auto Scaling creates for each target-tracking policy
(approximated, see policies.py). Each metric is mapped to a quantity the model
produces (metrics.py); a metric on a dead-letter queue reads 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watchbot_cfn.simulate.alarms import COMPARISONS, TREAT_MISSING, AlarmSpec, Query
from watchbot_cfn.simulate.lookup import CloudFormation, SimulationError, references
from watchbot_cfn.simulate.mathexpr import ExpressionError, parse, referenced_ids
from watchbot_cfn.simulate.metrics import STATISTICS, signal_for, unsupported_metric
from watchbot_cfn.simulate.policies import TargetTrackingPolicy

__all__ = ["PREDEFINED_METRICS", "AlarmReader"]

#: Application Auto Scaling's own alarms for target tracking: (datapoints, of periods) of one minute.
TARGET_TRACKING_OUT = (3, 3)
TARGET_TRACKING_IN = (15, 15)
#: The scale-in alarm's threshold, as a share of the target.
TARGET_TRACKING_IN_FACTOR = 0.9
PREDEFINED_METRICS = {
    "ECSServiceAverageCPUUtilization": ("AWS/ECS", "CPUUtilization"),
    "ECSServiceAverageMemoryUtilization": ("AWS/ECS", "MemoryUtilization"),
}


class AlarmReader:
    def __init__(self, cfn: CloudFormation) -> None:
        self.cfn = cfn
        #: Queues the scaling alarms watch (dead-letter queues excluded).
        self.watched_queues: set[str] = set()

    def alarms_for(self, policies: Mapping[str, Any]) -> list[AlarmSpec]:
        """The alarms whose actions name one of ``policies``, and target tracking's own alarms."""
        alarms: list[AlarmSpec] = []
        for key in self.cfn.of_type("AWS::CloudWatch::Alarm"):
            props = self.cfn.props(key)
            actions: dict[str, tuple[str, ...]] = {}
            if str(props.get("ActionsEnabled", True)).lower() == "false":
                continue
            for state, prop in (("ALARM", "AlarmActions"), ("OK", "OKActions"),
                                ("INSUFFICIENT_DATA", "InsufficientDataActions")):
                named = tuple(ref for action in props.get(prop) or [] for ref in references(action)
                              if ref in policies)
                if named:
                    actions[state] = named
            if actions:
                alarms.append(self.alarm(key, props, actions))
        for key, policy in policies.items():
            if isinstance(policy, TargetTrackingPolicy):
                alarms.extend(self.target_tracking_alarms(key, policy))
        return alarms

    def alarm(self, key: str, props: Mapping[str, Any], actions: dict[str, tuple[str, ...]]) -> AlarmSpec:
        where = f"{key}.Properties"
        comparison = self.cfn.resolve(props.get("ComparisonOperator"), f"{where}.ComparisonOperator")
        if comparison not in COMPARISONS:
            raise SimulationError(f"{where}.ComparisonOperator: {comparison!r} is not simulated; expected one of "
                                  + ", ".join(COMPARISONS))
        treat = self.cfn.resolve(props.get("TreatMissingData", "missing"), f"{where}.TreatMissingData")
        if treat not in TREAT_MISSING:
            raise SimulationError(f"{where}.TreatMissingData: {treat!r}; expected one of " + ", ".join(TREAT_MISSING))
        evaluation = self.cfn.integer(props.get("EvaluationPeriods"), f"{where}.EvaluationPeriods", 1)
        datapoints = self.cfn.integer(props.get("DatapointsToAlarm", evaluation), f"{where}.DatapointsToAlarm", 1)
        if "Metrics" in props:
            queries, period = self.metric_queries(props["Metrics"], f"{where}.Metrics", with_period=True)
        else:
            period = self.cfn.integer(props.get("Period"), f"{where}.Period", 60)
            queries = (self.metric_query("m", props, where, props.get("Statistic"), props.get("ExtendedStatistic")),)
        return AlarmSpec(
            name=key,
            queries=queries,
            period_seconds=period,
            evaluation_periods=evaluation,
            datapoints_to_alarm=min(datapoints, evaluation),
            threshold=self.cfn.number(props.get("Threshold"), f"{where}.Threshold"),
            comparison=comparison,
            treat_missing=treat,
            actions=actions,
        )

    def target_tracking_alarms(self, key: str, policy: TargetTrackingPolicy) -> list[AlarmSpec]:
        where = f"{key}.Properties.TargetTrackingScalingPolicyConfiguration"
        config = self.cfn.props(key)["TargetTrackingScalingPolicyConfiguration"]
        if "PredefinedMetricSpecification" in config:
            spec = config["PredefinedMetricSpecification"] or {}
            kind = self.cfn.resolve(spec.get("PredefinedMetricType"), f"{where}.PredefinedMetricSpecification")
            if kind not in PREDEFINED_METRICS:
                raise SimulationError(f"{where}.PredefinedMetricSpecification: {kind!r} is not simulated; "
                                      "expected one of " + ", ".join(PREDEFINED_METRICS))
            namespace, name = PREDEFINED_METRICS[kind]
            queries: tuple[Query, ...] = (Query("m", signal_for(namespace, name), "Average"),)
        elif "CustomizedMetricSpecification" in config:
            custom = config["CustomizedMetricSpecification"] or {}
            if "Metrics" in custom:
                queries, _ = self.metric_queries(custom["Metrics"], f"{where}.CustomizedMetricSpecification.Metrics",
                                                 with_period=False)
            else:
                queries = (self.metric_query("m", custom, f"{where}.CustomizedMetricSpecification",
                                             custom.get("Statistic"), None),)
        else:
            raise SimulationError(f"{where}: needs PredefinedMetricSpecification or CustomizedMetricSpecification")
        out_points, out_of = TARGET_TRACKING_OUT
        in_points, in_of = TARGET_TRACKING_IN
        alarms = [AlarmSpec(f"{key} (target tracking, high)", queries, 60, out_of, out_points, policy.target,
                            "GreaterThanThreshold", "missing", {"ALARM": (key,)})]
        if not policy.disable_scale_in:
            alarms.append(AlarmSpec(f"{key} (target tracking, low)", queries, 60, in_of, in_points,
                                    policy.target * TARGET_TRACKING_IN_FACTOR, "LessThanThreshold", "missing",
                                    {"ALARM": (key,)}))
        return alarms

    def metric_queries(self, raw: Any, where: str, with_period: bool) -> tuple[tuple[Query, ...], int]:
        if not isinstance(raw, list) or not raw:
            raise SimulationError(f"{where}: expected a non-empty list of metric queries")
        queries: list[Query] = []
        periods: set[int] = set()
        for index, item in enumerate(raw):
            at = f"{where}[{index}]"
            if not isinstance(item, Mapping) or not isinstance(item.get("Id"), str):
                raise SimulationError(f"{at}: expected an object with an Id")
            query_id = item["Id"]
            returned = str(item.get("ReturnData", True)).lower() != "false"
            if "Expression" in item:
                try:
                    node = parse(str(self.cfn.resolve(item["Expression"], f"{at}.Expression")))
                except ExpressionError as error:
                    raise SimulationError(f"{at}.Expression: {error}") from None
                queries.append(Query(query_id, expression=node, returned=returned))
            elif "MetricStat" in item:
                stat = item["MetricStat"] or {}
                if with_period:
                    periods.add(self.cfn.integer(stat.get("Period"), f"{at}.MetricStat.Period", 60))
                queries.append(self.metric_query(query_id, stat.get("Metric") or {}, f"{at}.MetricStat.Metric",
                                                 stat.get("Stat"), None, returned))
            else:
                raise SimulationError(f"{at}: expected Expression or MetricStat")
        returned_queries = [query for query in queries if query.returned]
        if len(returned_queries) != 1:
            raise SimulationError(f"{where}: exactly one query must have ReturnData true, "
                                  f"found {len(returned_queries)}")
        known = {query.query_id for query in queries}
        for query in queries:
            if query.expression is not None:
                unknown = referenced_ids(query.expression) - known
                if unknown:
                    raise SimulationError(f"{where}: expression {query.query_id!r} refers to unknown id "
                                          f"{sorted(unknown)[0]!r}")
        if len(periods) > 1:
            raise SimulationError(f"{where}: metrics with different periods ({sorted(periods)}) are not simulated")
        ordered = _expressions_last(queries)
        return ordered, (periods.pop() if periods else 60)

    def metric_query(self, query_id: str, metric: Mapping[str, Any], where: str, statistic: Any,
                     extended: Any, returned: bool = True) -> Query:
        if extended is not None:
            raise SimulationError(f"{where}: extended statistic {extended!r} is not simulated; use one of "
                                  + ", ".join(STATISTICS))
        statistic = self.cfn.resolve(statistic, f"{where} statistic")
        if statistic not in STATISTICS:
            raise SimulationError(f"{where}: statistic {statistic!r} is not simulated; use one of "
                                  + ", ".join(STATISTICS))
        namespace = self.cfn.resolve(metric.get("Namespace"), f"{where}.Namespace")
        name = self.cfn.resolve(metric.get("MetricName"), f"{where}.MetricName")
        queues = [self.queue_for_name(dimension.get("Value")) for dimension in metric.get("Dimensions") or []
                  if isinstance(dimension, Mapping) and dimension.get("Name") == "QueueName"]
        dead_letter = any(queue in self.dead_letter_queues() for queue in queues if queue is not None)
        if not dead_letter:
            self.watched_queues.update(queue for queue in queues if queue is not None)
        signal = signal_for(str(namespace), str(name), dead_letter)
        if signal is None:
            raise SimulationError(f"{where}: {unsupported_metric(str(namespace), str(name))}")
        return Query(query_id, signal, statistic, returned=returned)

    def dead_letter_queues(self) -> set[str]:
        found = set()
        for key in self.cfn.of_type("AWS::SQS::Queue"):
            redrive = self.cfn.props(key).get("RedrivePolicy")
            if isinstance(redrive, Mapping):
                for ref in references(redrive.get("deadLetterTargetArn")):
                    found.add(ref)
        return found

    def queue_for_name(self, value: Any) -> str | None:
        """The logical id of the queue a QueueName dimension names, when it can be told."""
        queues = self.cfn.of_type("AWS::SQS::Queue")
        refs = [ref for ref in references(value) if ref in queues]
        if refs:
            return refs[0]
        for key in queues:
            if "QueueName" in self.cfn.props(key) and self.cfn.props(key)["QueueName"] == value:
                return key
        return None

    def work_queue(self) -> str | None:
        """The queue the scaling alarms watch, else the template's only queue that is no dead-letter queue."""
        if len(self.watched_queues) == 1:
            return next(iter(self.watched_queues))
        queues = [key for key in self.cfn.of_type("AWS::SQS::Queue") if key not in self.dead_letter_queues()]
        return queues[0] if len(queues) == 1 else None


def _expressions_last(queries: list[Query]) -> tuple[Query, ...]:
    """Order expressions so each comes after the ids it reads (metrics first)."""
    metrics = [query for query in queries if query.expression is None]
    pending = [query for query in queries if query.expression is not None]
    ordered = list(metrics)
    ready = {query.query_id for query in metrics}
    while pending:
        progress = [q for q in pending if q.expression is not None and referenced_ids(q.expression) <= ready]
        if not progress:
            raise SimulationError(f"metric-math expressions refer to each other in a cycle: "
                                  f"{', '.join(q.query_id for q in pending)}")
        for query in progress:
            ordered.append(query)
            ready.add(query.query_id)
            pending.remove(query)
    return tuple(ordered)
