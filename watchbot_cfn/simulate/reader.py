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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from watchbot_cfn.simulate.alarm_reader import AlarmReader
from watchbot_cfn.simulate.alarms import AlarmSpec
from watchbot_cfn.simulate.lookup import CloudFormation, SimulationError, choices
from watchbot_cfn.simulate.policies import (
    ADJUSTMENT_TYPES,
    AGGREGATIONS,
    DEFAULT_COOLDOWN,
    StepAdjustment,
    StepPolicy,
    TargetTrackingPolicy,
)
from watchbot_cfn.simulate.service_reader import (
    PROTECTION_ACTION,
    PROTECTION_VARIABLE,
    SQS_VISIBILITY_TIMEOUT,
    ServiceReader,
)

__all__ = ["PROTECTION_ACTION", "PROTECTION_VARIABLE", "SimulationError", "Setup", "read_setup"]

ECS_DIMENSION = "ecs:service:DesiredCount"


@dataclass
class Setup:
    """Everything the model takes from the template, plus where each value came from."""

    target: str
    min_capacity: int
    max_capacity: int
    alarms: list[AlarmSpec]
    policies: dict[str, StepPolicy | TargetTrackingPolicy]
    concurrency: int = 1
    concurrency_source: str = "the template does not say"
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
    return _Reader(CloudFormation(template, parameters or {})).setup(target, concurrency, protection)


class _Reader:
    def __init__(self, cfn: CloudFormation) -> None:
        self.cfn = cfn
        self.notes: list[str] = []

    def setup(self, target: str | None, concurrency: int | None, protection: bool | None) -> Setup:
        target_id = self.pick_target(target)
        props = self.cfn.props(target_id)
        where = f"{target_id}.Properties"
        low = self.cfn.integer(props.get("MinCapacity"), f"{where}.MinCapacity")
        high = self.cfn.integer(props.get("MaxCapacity"), f"{where}.MaxCapacity")
        if high < low:
            raise SimulationError(f"{where}: MaxCapacity {high} is below MinCapacity {low}")
        policies = self.policies_of(target_id, props)
        alarm_reader = AlarmReader(self.cfn)
        alarms = alarm_reader.alarms_for(policies)
        workers = ServiceReader(self.cfn, self.notes).workers(props, alarm_reader.work_queue(), concurrency,
                                                              protection)
        return Setup(target_id, low, high, alarms, {p.name: p for p in policies.values()},
                     concurrency=workers.concurrency, concurrency_source=workers.concurrency_source,
                     protection=workers.protection, protection_source=workers.protection_source,
                     watcher=workers.watcher, drain_seconds=workers.drain_seconds,
                     visibility_timeout=workers.visibility_timeout, notes=self.notes)

    def pick_target(self, wanted: str | None) -> str:
        targets = [key for key, value in self.cfn.of_type("AWS::ApplicationAutoScaling::ScalableTarget").items()
                   if (value.get("Properties") or {}).get("ScalableDimension") == ECS_DIMENSION]
        if wanted is not None:
            if wanted not in targets:
                raise SimulationError(f"--target {wanted}: no ECS scalable target of that logical id"
                                      + choices(targets))
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
        for key in self.cfn.of_type("AWS::ApplicationAutoScaling::ScalingPolicy"):
            props = self.cfn.props(key)
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
        adjustment_type = self.cfn.resolve(config.get("AdjustmentType"), f"{where}.AdjustmentType")
        if adjustment_type not in ADJUSTMENT_TYPES:
            raise SimulationError(f"{where}.AdjustmentType: {adjustment_type!r}; expected one of "
                                  + ", ".join(ADJUSTMENT_TYPES))
        aggregation = self.cfn.resolve(config.get("MetricAggregationType", "Average"),
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
                None if lower is None else self.cfn.number(lower, f"{at}.MetricIntervalLowerBound"),
                None if upper is None else self.cfn.number(upper, f"{at}.MetricIntervalUpperBound"),
                self.cfn.number(raw.get("ScalingAdjustment"), f"{at}.ScalingAdjustment")))
        magnitude = config.get("MinAdjustmentMagnitude")
        return StepPolicy(
            name=key,
            adjustment_type=adjustment_type,
            steps=tuple(steps),
            cooldown=self.cfn.integer(config.get("Cooldown", DEFAULT_COOLDOWN), f"{where}.Cooldown"),
            aggregation=aggregation,
            min_adjustment_magnitude=(None if magnitude is None
                                      else self.cfn.integer(magnitude, f"{where}.MinAdjustmentMagnitude", 1)),
        )

    def target_tracking_policy(self, key: str, props: Mapping[str, Any]) -> TargetTrackingPolicy:
        where = f"{key}.Properties.TargetTrackingScalingPolicyConfiguration"
        config = props.get("TargetTrackingScalingPolicyConfiguration")
        if not isinstance(config, Mapping):
            raise SimulationError(f"{where} is missing")
        disable = self.cfn.resolve(config.get("DisableScaleIn", False), f"{where}.DisableScaleIn")
        return TargetTrackingPolicy(
            name=key,
            target=self.cfn.number(config.get("TargetValue"), f"{where}.TargetValue"),
            scale_out_cooldown=self.cfn.integer(config.get("ScaleOutCooldown", DEFAULT_COOLDOWN),
                                            f"{where}.ScaleOutCooldown"),
            scale_in_cooldown=self.cfn.integer(config.get("ScaleInCooldown", DEFAULT_COOLDOWN),
                                           f"{where}.ScaleInCooldown"),
            disable_scale_in=str(disable).lower() == "true",
        )
