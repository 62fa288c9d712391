"""Read what the simulation needs from a rendered CloudFormation template (a plain dict).

The simulator works from the template, never from watchbot-cfn's options, so
it runs on any template that scales an ECS service with Application Auto
Scaling: this project's, one edited by hand, or another tool's. It reads:

* the ``AWS::ApplicationAutoScaling::ScalableTarget`` of an ECS service
  (``ecs:service:DesiredCount``) and its MinCapacity/MaxCapacity;
* every ``ScalingPolicy`` on that target, and every ``AWS::CloudWatch::Alarm``
  whose actions name one of them;
* the service's task definition: the essential container's ``concurrency``
  variable (jobs per task), whether its command is the Watchbot watcher (which
  drains for ``drainTimeout`` seconds and returns unfinished messages at once)
  and whether it protects its task from scale-in (``taskProtection`` variable,
  else a task role that may call ``ecs:UpdateTaskProtection``);
* the work queue's ``VisibilityTimeout`` (how long a message stopped with its
  task stays invisible when no watcher returns it).

Parameters resolve to ``--parameter`` values or their Default. Anything the
model cannot evaluate raises :class:`SimulationError` naming the resource and
property.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from watchbot_cfn.errors import WatchbotError
from watchbot_cfn.simulate.alarms import COMPARISONS, TREAT_MISSING, AlarmSpec, Query
from watchbot_cfn.simulate.mathexpr import ExpressionError, parse, referenced_ids
from watchbot_cfn.simulate.metrics import STATISTICS, signal_for, unsupported_metric
from watchbot_cfn.simulate.policies import (
    ADJUSTMENT_TYPES,
    AGGREGATIONS,
    DEFAULT_COOLDOWN,
    StepAdjustment,
    StepPolicy,
    TargetTrackingPolicy,
)

__all__ = ["PROTECTION_ACTION", "PROTECTION_VARIABLE", "SimulationError", "Setup", "read_setup"]

ECS_DIMENSION = "ecs:service:DesiredCount"
#: Container variable that says whether the watcher protects its task while jobs run.
PROTECTION_VARIABLE = "taskProtection"
#: IAM action the ECS agent's task-protection endpoint needs on the task role.
PROTECTION_ACTION = "ecs:UpdateTaskProtection"
CONCURRENCY_VARIABLE = "concurrency"
DRAIN_VARIABLE = "drainTimeout"
#: The watcher's own default drainTimeout (docs/runtime.md).
WATCHER_DRAIN_SECONDS = 25.0
#: SQS's default VisibilityTimeout.
SQS_VISIBILITY_TIMEOUT = 30.0
#: Application Auto Scaling's own alarms for target tracking (approximation, see policies.py).
TARGET_TRACKING_OUT = (3, 3)
TARGET_TRACKING_IN = (15, 15)
TARGET_TRACKING_IN_FACTOR = 0.9
PREDEFINED_METRICS = {
    "ECSServiceAverageCPUUtilization": ("AWS/ECS", "CPUUtilization"),
    "ECSServiceAverageMemoryUtilization": ("AWS/ECS", "MemoryUtilization"),
}
TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")


class SimulationError(WatchbotError, ValueError):
    """The template cannot be simulated as it is (the message names the resource and property)."""


@dataclass
class Setup:
    """Everything the model takes from the template, plus where each value came from."""

    target: str
    min_capacity: int
    max_capacity: int
    alarms: list[AlarmSpec]
    policies: dict[str, StepPolicy | TargetTrackingPolicy]
    concurrency: int = 1
    concurrency_source: str = "default"
    protection: bool = False
    protection_source: str = "default"
    watcher: bool = False
    drain_seconds: float = 0.0
    visibility_timeout: float = SQS_VISIBILITY_TIMEOUT
    notes: list[str] = field(default_factory=list)


def read_setup(template: Mapping[str, Any], target: str | None = None,
               parameters: Mapping[str, str] | None = None, concurrency: int | None = None,
               protection: bool | None = None) -> Setup:
    """The scaling set-up of one ECS service in ``template``; overrides win over the template."""
    return _Reader(template, parameters or {}).setup(target, concurrency, protection)


class _Reader:
    def __init__(self, template: Mapping[str, Any], parameters: Mapping[str, str]) -> None:
        resources = template.get("Resources") if isinstance(template, Mapping) else None
        if not isinstance(resources, Mapping) or not resources:
            raise SimulationError("not a CloudFormation template: it has no Resources section")
        self.resources: Mapping[str, Any] = resources
        declared = template.get("Parameters")
        self.declared: Mapping[str, Any] = declared if isinstance(declared, Mapping) else {}
        self.parameters = parameters
        for name in parameters:
            if name not in self.declared:
                raise SimulationError(f"--parameter {name}: the template declares no such parameter"
                                      + _choices(self.declared))
        self.notes: list[str] = []
        self.task_definition: str | None = None
        #: Queues the scaling alarms watch (dead-letter queues excluded).
        self.watched_queues: set[str] = set()

    # --- lookups ---------------------------------------------------------------

    def of_type(self, kind: str) -> dict[str, Mapping[str, Any]]:
        return {key: value for key, value in self.resources.items()
                if isinstance(value, Mapping) and value.get("Type") == kind}

    def props(self, logical_id: str) -> Mapping[str, Any]:
        properties = self.resources[logical_id].get("Properties") or {}
        return properties if isinstance(properties, Mapping) else {}

    def resolve(self, value: Any, where: str) -> Any:
        """A literal, or a parameter reference resolved to --parameter or the Default."""
        if isinstance(value, Mapping) and set(value) == {"Ref"} and value["Ref"] in self.declared:
            name = value["Ref"]
            if name in self.parameters:
                return self.parameters[name]
            declared = self.declared[name]
            if isinstance(declared, Mapping) and "Default" in declared:
                return declared["Default"]
            raise SimulationError(f"{where} is parameter {name}, which has no Default; "
                                  f"give it a value with --parameter {name}=VALUE")
        if isinstance(value, Mapping | list):
            raise SimulationError(f"{where} is an intrinsic ({_short(value)}) the simulator cannot resolve; "
                                  "use a literal value or a parameter")
        return value

    def number(self, value: Any, where: str, minimum: float | None = None) -> float:
        resolved = self.resolve(value, where)
        try:
            number = float(resolved)
        except (TypeError, ValueError):
            raise SimulationError(f"{where}: {resolved!r} is not a number") from None
        if math.isnan(number) or (minimum is not None and number < minimum):
            raise SimulationError(f"{where}: {resolved!r} must be a number of at least {minimum:g}")
        return number

    def integer(self, value: Any, where: str, minimum: int = 0) -> int:
        number = self.number(value, where, minimum)
        if number != int(number):
            raise SimulationError(f"{where}: {number:g} must be a whole number")
        return int(number)

    # --- the set-up ------------------------------------------------------------

    def setup(self, target: str | None, concurrency: int | None, protection: bool | None) -> Setup:
        target_id = self.pick_target(target)
        props = self.props(target_id)
        where = f"{target_id}.Properties"
        low = self.integer(props.get("MinCapacity"), f"{where}.MinCapacity")
        high = self.integer(props.get("MaxCapacity"), f"{where}.MaxCapacity")
        if high < low:
            raise SimulationError(f"{where}: MaxCapacity {high} is below MinCapacity {low}")
        policies = self.policies_of(target_id, props)
        alarms = self.alarms_for(policies)
        container = self.container(props)
        setup = Setup(target_id, low, high, alarms, {p.name: p for p in policies.values()}, notes=self.notes)
        self.container_settings(setup, container, concurrency, protection)
        return setup

    def pick_target(self, wanted: str | None) -> str:
        targets = [key for key, value in self.of_type("AWS::ApplicationAutoScaling::ScalableTarget").items()
                   if (value.get("Properties") or {}).get("ScalableDimension") == ECS_DIMENSION]
        if wanted is not None:
            if wanted not in targets:
                raise SimulationError(f"--target {wanted}: no ECS scalable target of that logical id"
                                      + _choices(targets))
            return wanted
        if not targets:
            raise SimulationError("the template has no AWS::ApplicationAutoScaling::ScalableTarget with "
                                  f"ScalableDimension {ECS_DIMENSION}; there is nothing to simulate")
        if len(targets) > 1:
            raise SimulationError(f"the template scales {len(targets)} ECS services ({', '.join(targets)}); "
                                  "choose one with --target")
        return targets[0]

    def policies_of(self, target_id: str, target_props: Mapping[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key in self.of_type("AWS::ApplicationAutoScaling::ScalingPolicy"):
            props = self.props(key)
            on_target = props.get("ScalingTargetId") == {"Ref": target_id} or (
                "ResourceId" in props and props.get("ResourceId") == target_props.get("ResourceId"))
            if not on_target:
                continue
            kind = props.get("PolicyType")
            if kind == "StepScaling":
                found[key] = self.step_policy(key, props)
            elif kind == "TargetTrackingScaling":
                found[key] = self.target_tracking_policy(key, props)
            else:
                raise SimulationError(f"{key}.Properties.PolicyType: {kind!r} is not simulated; "
                                      "expected StepScaling or TargetTrackingScaling")
        if not found:
            self.notes.append(f"no scaling policy acts on {target_id}: the service stays at MinCapacity")
        return found

    def step_policy(self, key: str, props: Mapping[str, Any]) -> StepPolicy:
        where = f"{key}.Properties.StepScalingPolicyConfiguration"
        config = props.get("StepScalingPolicyConfiguration")
        if not isinstance(config, Mapping):
            raise SimulationError(f"{where} is missing")
        adjustment_type = self.resolve(config.get("AdjustmentType"), f"{where}.AdjustmentType")
        if adjustment_type not in ADJUSTMENT_TYPES:
            raise SimulationError(f"{where}.AdjustmentType: {adjustment_type!r}; expected one of "
                                  + ", ".join(ADJUSTMENT_TYPES))
        aggregation = self.resolve(config.get("MetricAggregationType", "Average"),
                                   f"{where}.MetricAggregationType")
        if aggregation not in AGGREGATIONS:
            raise SimulationError(f"{where}.MetricAggregationType: {aggregation!r}; expected one of "
                                  + ", ".join(AGGREGATIONS))
        steps = []
        raw_steps = config.get("StepAdjustments") or []
        if not isinstance(raw_steps, list) or not raw_steps:
            raise SimulationError(f"{where}.StepAdjustments: expected a non-empty list")
        for index, raw in enumerate(raw_steps):
            at = f"{where}.StepAdjustments[{index}]"
            if not isinstance(raw, Mapping):
                raise SimulationError(f"{at}: expected an object")
            lower = raw.get("MetricIntervalLowerBound")
            upper = raw.get("MetricIntervalUpperBound")
            steps.append(StepAdjustment(
                None if lower is None else self.number(lower, f"{at}.MetricIntervalLowerBound"),
                None if upper is None else self.number(upper, f"{at}.MetricIntervalUpperBound"),
                self.number(raw.get("ScalingAdjustment"), f"{at}.ScalingAdjustment")))
        magnitude = config.get("MinAdjustmentMagnitude")
        return StepPolicy(
            name=key,
            adjustment_type=adjustment_type,
            steps=tuple(steps),
            cooldown=self.integer(config.get("Cooldown", DEFAULT_COOLDOWN), f"{where}.Cooldown"),
            aggregation=aggregation,
            min_adjustment_magnitude=(None if magnitude is None
                                      else self.integer(magnitude, f"{where}.MinAdjustmentMagnitude", 1)),
        )

    def target_tracking_policy(self, key: str, props: Mapping[str, Any]) -> TargetTrackingPolicy:
        where = f"{key}.Properties.TargetTrackingScalingPolicyConfiguration"
        config = props.get("TargetTrackingScalingPolicyConfiguration")
        if not isinstance(config, Mapping):
            raise SimulationError(f"{where} is missing")
        disable = self.resolve(config.get("DisableScaleIn", False), f"{where}.DisableScaleIn")
        return TargetTrackingPolicy(
            name=key,
            target=self.number(config.get("TargetValue"), f"{where}.TargetValue"),
            scale_out_cooldown=self.integer(config.get("ScaleOutCooldown", DEFAULT_COOLDOWN),
                                            f"{where}.ScaleOutCooldown"),
            scale_in_cooldown=self.integer(config.get("ScaleInCooldown", DEFAULT_COOLDOWN),
                                           f"{where}.ScaleInCooldown"),
            disable_scale_in=str(disable).lower() == "true",
        )

    # --- alarms ----------------------------------------------------------------

    def alarms_for(self, policies: Mapping[str, Any]) -> list[AlarmSpec]:
        alarms: list[AlarmSpec] = []
        for key in self.of_type("AWS::CloudWatch::Alarm"):
            props = self.props(key)
            actions: dict[str, tuple[str, ...]] = {}
            if str(props.get("ActionsEnabled", True)).lower() == "false":
                continue
            for state, prop in (("ALARM", "AlarmActions"), ("OK", "OKActions"),
                                ("INSUFFICIENT_DATA", "InsufficientDataActions")):
                named = tuple(ref for action in props.get(prop) or [] for ref in _references(action)
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
        comparison = self.resolve(props.get("ComparisonOperator"), f"{where}.ComparisonOperator")
        if comparison not in COMPARISONS:
            raise SimulationError(f"{where}.ComparisonOperator: {comparison!r} is not simulated; expected one of "
                                  + ", ".join(COMPARISONS))
        treat = self.resolve(props.get("TreatMissingData", "missing"), f"{where}.TreatMissingData")
        if treat not in TREAT_MISSING:
            raise SimulationError(f"{where}.TreatMissingData: {treat!r}; expected one of " + ", ".join(TREAT_MISSING))
        evaluation = self.integer(props.get("EvaluationPeriods"), f"{where}.EvaluationPeriods", 1)
        datapoints = self.integer(props.get("DatapointsToAlarm", evaluation), f"{where}.DatapointsToAlarm", 1)
        if "Metrics" in props:
            queries, period = self.metric_queries(props["Metrics"], f"{where}.Metrics", with_period=True)
        else:
            period = self.integer(props.get("Period"), f"{where}.Period", 60)
            queries = (self.metric_query("m", props, where, props.get("Statistic"), props.get("ExtendedStatistic")),)
        return AlarmSpec(
            name=key,
            queries=queries,
            period_seconds=period,
            evaluation_periods=evaluation,
            datapoints_to_alarm=min(datapoints, evaluation),
            threshold=self.number(props.get("Threshold"), f"{where}.Threshold"),
            comparison=comparison,
            treat_missing=treat,
            actions=actions,
        )

    def target_tracking_alarms(self, key: str, policy: TargetTrackingPolicy) -> list[AlarmSpec]:
        where = f"{key}.Properties.TargetTrackingScalingPolicyConfiguration"
        config = self.props(key)["TargetTrackingScalingPolicyConfiguration"]
        if "PredefinedMetricSpecification" in config:
            spec = config["PredefinedMetricSpecification"] or {}
            kind = self.resolve(spec.get("PredefinedMetricType"), f"{where}.PredefinedMetricSpecification")
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
                    node = parse(str(self.resolve(item["Expression"], f"{at}.Expression")))
                except ExpressionError as error:
                    raise SimulationError(f"{at}.Expression: {error}") from None
                queries.append(Query(query_id, expression=node, returned=returned))
            elif "MetricStat" in item:
                stat = item["MetricStat"] or {}
                if with_period:
                    periods.add(self.integer(stat.get("Period"), f"{at}.MetricStat.Period", 60))
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
        statistic = self.resolve(statistic, f"{where} statistic")
        if statistic not in STATISTICS:
            raise SimulationError(f"{where}: statistic {statistic!r} is not simulated; use one of "
                                  + ", ".join(STATISTICS))
        namespace = self.resolve(metric.get("Namespace"), f"{where}.Namespace")
        name = self.resolve(metric.get("MetricName"), f"{where}.MetricName")
        queues = [self.queue_for_name(dimension.get("Value")) for dimension in metric.get("Dimensions") or []
                  if isinstance(dimension, Mapping) and dimension.get("Name") == "QueueName"]
        dead_letter = any(queue in self.dead_letter_queues() for queue in queues if queue is not None)
        if not dead_letter:
            self.watched_queues.update(queue for queue in queues if queue is not None)
        signal = signal_for(str(namespace), str(name), dead_letter)
        if signal is None:
            raise SimulationError(f"{where}: {unsupported_metric(str(namespace), str(name))}")
        return Query(query_id, signal, statistic, returned=returned)

    # --- queues ----------------------------------------------------------------

    def dead_letter_queues(self) -> set[str]:
        found = set()
        for key in self.of_type("AWS::SQS::Queue"):
            redrive = self.props(key).get("RedrivePolicy")
            if isinstance(redrive, Mapping):
                for ref in _references(redrive.get("deadLetterTargetArn")):
                    found.add(ref)
        return found

    def queue_for_name(self, value: Any) -> str | None:
        """The logical id of the queue a QueueName dimension names, when it can be told."""
        queues = self.of_type("AWS::SQS::Queue")
        refs = [ref for ref in _references(value) if ref in queues]
        if refs:
            return refs[0]
        for key in queues:
            if "QueueName" in self.props(key) and self.props(key)["QueueName"] == value:
                return key
        return None

    def work_queue(self) -> str | None:
        """The queue the scaling alarms watch, else the template's only queue that is no dead-letter queue."""
        if len(self.watched_queues) == 1:
            return next(iter(self.watched_queues))
        queues = [key for key in self.of_type("AWS::SQS::Queue") if key not in self.dead_letter_queues()]
        return queues[0] if len(queues) == 1 else None

    # --- the service and its container -----------------------------------------

    def container(self, target_props: Mapping[str, Any]) -> Mapping[str, Any] | None:
        services = self.of_type("AWS::ECS::Service")
        service = next((ref for ref in _references(target_props.get("ResourceId")) if ref in services), None)
        if service is None:
            self.notes.append("the scalable target names no ECS service of this template; "
                              "container settings take their defaults")
            return None
        task_definitions = self.of_type("AWS::ECS::TaskDefinition")
        task = next((ref for ref in _references(self.props(service).get("TaskDefinition"))
                     if ref in task_definitions), None)
        if task is None:
            self.notes.append(f"{service} names no task definition of this template; "
                              "container settings take their defaults")
            return None
        containers = [c for c in self.props(task).get("ContainerDefinitions") or [] if isinstance(c, Mapping)]
        essential = [c for c in containers if str(c.get("Essential", True)).lower() != "false"]
        self.task_definition = task
        chosen = essential or containers
        return chosen[0] if chosen else None

    def container_settings(self, setup: Setup, container: Mapping[str, Any] | None, concurrency: int | None,
                           protection: bool | None) -> None:
        environment: dict[str, Any] = {}
        name = "container"
        if container is not None:
            name = str(container.get("Name", "container"))
            for variable in container.get("Environment") or []:
                if isinstance(variable, Mapping) and isinstance(variable.get("Name"), str):
                    environment[variable["Name"]] = variable.get("Value")
            setup.watcher = _runs_watcher(container)
        where = f"{self.task_definition or 'task definition'} container {name}"
        if concurrency is not None:
            setup.concurrency, setup.concurrency_source = concurrency, "--concurrency"
        elif CONCURRENCY_VARIABLE in environment:
            setup.concurrency = self.integer(environment[CONCURRENCY_VARIABLE],
                                             f"{where} variable {CONCURRENCY_VARIABLE}", 1)
            setup.concurrency_source = f"the container's {CONCURRENCY_VARIABLE} variable"
        else:
            setup.concurrency_source = "the template does not say"
        if setup.watcher:
            drain = environment.get(DRAIN_VARIABLE, WATCHER_DRAIN_SECONDS)
            setup.drain_seconds = self.number(drain, f"{where} variable {DRAIN_VARIABLE}", 0)
        if protection is not None:
            setup.protection, setup.protection_source = protection, "--protection"
        elif PROTECTION_VARIABLE in environment:
            raw = str(self.resolve(environment[PROTECTION_VARIABLE], f"{where} variable {PROTECTION_VARIABLE}"))
            if raw.lower() not in TRUE_WORDS + FALSE_WORDS:
                raise SimulationError(f"{where} variable {PROTECTION_VARIABLE}: {raw!r}; expected true or false")
            setup.protection = raw.lower() in TRUE_WORDS
            setup.protection_source = f"the container's {PROTECTION_VARIABLE} variable"
        elif self.role_allows_protection():
            setup.protection, setup.protection_source = True, f"the task role allows {PROTECTION_ACTION}"
        else:
            setup.protection_source = f"the task role may not call {PROTECTION_ACTION}"
        work = self.work_queue()
        if work is not None and "VisibilityTimeout" in self.props(work):
            setup.visibility_timeout = self.number(self.props(work)["VisibilityTimeout"],
                                                   f"{work}.Properties.VisibilityTimeout", 0)
        elif work is None:
            self.notes.append("the work queue cannot be told: a stopped task's message returns after SQS's "
                              f"default visibility timeout, {SQS_VISIBILITY_TIMEOUT:g} s")

    def role_allows_protection(self) -> bool:
        task = self.task_definition
        if task is None:
            return False
        roles = set(_references(self.props(task).get("TaskRoleArn")))
        documents = []
        for role in roles:
            if role in self.resources:
                documents += [policy.get("PolicyDocument") for policy in self.props(role).get("Policies") or []
                              if isinstance(policy, Mapping)]
        for key in self.of_type("AWS::IAM::Policy"):
            attached = {ref for item in self.props(key).get("Roles") or [] for ref in _references(item)}
            if attached & roles:
                documents.append(self.props(key).get("PolicyDocument"))
        return any(_allows(document, PROTECTION_ACTION) for document in documents)


def _runs_watcher(container: Mapping[str, Any]) -> bool:
    """The container's command is ``watchbot listen ...`` (directly, or through a shell)."""
    words: list[str] = []
    for part in ("EntryPoint", "Command"):
        value = container.get(part)
        if isinstance(value, list):
            words += [word for item in value if isinstance(item, str) for word in item.split()]
        elif isinstance(value, str):
            words += value.split()
    return any(word.rsplit("/", 1)[-1] == "watchbot" and following == "listen"
               for word, following in zip(words, words[1:], strict=False))


def _allows(document: Any, action: str) -> bool:
    if not isinstance(document, Mapping):
        return False
    statements = document.get("Statement") or []
    if isinstance(statements, Mapping):
        statements = [statements]
    for statement in statements:
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action") or []
        actions = [actions] if isinstance(actions, str) else actions
        for pattern in actions:
            if isinstance(pattern, str) and _action_matches(pattern, action):
                return True
    return False


def _action_matches(pattern: str, action: str) -> bool:
    pattern, action = pattern.lower(), action.lower()
    if pattern.endswith("*"):
        return action.startswith(pattern[:-1])
    return pattern == action


def _references(value: Any) -> Iterator[str]:
    """Logical ids a value points at through Ref, Fn::GetAtt or ${Name} in Fn::Sub."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                yield inner
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) and inner else inner
                if isinstance(text, str):
                    yield from (name for name in re.findall(r"\$\{([A-Za-z0-9]+)\}", text))
                if isinstance(inner, list):
                    yield from _references(inner[1:])
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) and inner else str(inner).split(".")[0]
                if isinstance(target, str):
                    yield target
            else:
                yield from _references(inner)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


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


def _choices(names: Any) -> str:
    names = sorted(names)
    return f" (the template has: {', '.join(names)})" if names else ""


def _short(value: Any) -> str:
    if isinstance(value, Mapping) and value:
        return next(iter(value))
    return type(value).__name__
