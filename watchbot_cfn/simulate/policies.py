"""Application Auto Scaling step and target-tracking policies, and how their decisions combine.

Step policies (as AWS documents them):

* The alarm's datapoints in its evaluation window are aggregated with
  ``MetricAggregationType`` (Average when unset); the breach is that value
  minus the alarm's threshold. Step bounds are relative to the threshold:
  above it the lower bound is inclusive and the upper exclusive, below it the
  reverse (a breach of exactly 0 counts as above for a "greater" alarm).
* ``ChangeInCapacity`` adds, ``ExactCapacity`` sets, ``PercentChangeInCapacity``
  adds a percentage of the current desired count (rounded toward zero, at least
  1 in size, at least ``MinAdjustmentMagnitude``). The result is kept within
  MinCapacity and MaxCapacity.
* Cooldown (300 s for ECS when unset): after a scale-out, the same policy
  raises capacity again before its cooldown ends only by what a larger step
  adds beyond the capacity the earlier step already added. After a scale-in,
  the policy does not scale in again until its cooldown ends; any scale-out
  ends every scale-in cooldown.

Target tracking: Application Auto Scaling creates two alarms on the policy's
metric (1-minute periods): above the target for 3 of 3 datapoints scales out,
below 90 % of the target for 15 of 15 scales in (unless ``DisableScaleIn``).
The new capacity is ``ceil(desired × metric / target)``, from the latest
datapoint; the alarms' exact settings are AWS's and only approximated here.
Target tracking never starts the first task: a utilisation metric has no
datapoint while no task runs (the alarm has insufficient data), and 0 times
any ratio is 0.

Several policies invoked in the same minute: if any of them scales out, the
largest capacity wins; otherwise the scale-in that leaves the largest capacity
wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["DEFAULT_COOLDOWN", "ADJUSTMENT_TYPES", "AGGREGATIONS", "Activity", "Scaler", "StepAdjustment",
           "StepPolicy", "TargetTrackingPolicy", "proposed_capacity"]

#: Application Auto Scaling's default cooldown for ECS services.
DEFAULT_COOLDOWN = 300
ADJUSTMENT_TYPES = ("ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity")
AGGREGATIONS = ("Average", "Minimum", "Maximum")
#: Guards ceil() against float noise such as 3.0000000000000004.
_EPSILON = 1e-9


@dataclass(frozen=True)
class StepAdjustment:
    lower: float | None
    upper: float | None
    adjustment: float

    def matches(self, breach: float, above: bool) -> bool:
        lower = -math.inf if self.lower is None else self.lower
        upper = math.inf if self.upper is None else self.upper
        if breach > 0 or (breach == 0 and above):
            return lower <= breach < upper
        return lower < breach <= upper


@dataclass(frozen=True)
class StepPolicy:
    name: str
    adjustment_type: str
    steps: tuple[StepAdjustment, ...]
    cooldown: int = DEFAULT_COOLDOWN
    aggregation: str = "Average"
    min_adjustment_magnitude: int | None = None

    def capacity(self, datapoints: list[float | None], threshold: float, above: bool, current: int) -> int | None:
        """The desired count this policy asks for from ``current``, or None (no step applies)."""
        present = [value for value in datapoints if value is not None]
        if not present:
            return None
        if self.aggregation == "Maximum":
            value = max(present)
        elif self.aggregation == "Minimum":
            value = min(present)
        else:
            value = sum(present) / len(present)
        breach = value - threshold
        step = next((step for step in self.steps if step.matches(breach, above)), None)
        if step is None:
            return None
        if self.adjustment_type == "ExactCapacity":
            return int(step.adjustment)
        if self.adjustment_type == "ChangeInCapacity":
            return current + int(step.adjustment)
        return current + _percent_change(current, step.adjustment, self.min_adjustment_magnitude)


def _percent_change(current: int, percent: float, minimum: int | None) -> int:
    change = current * percent / 100
    if change == 0:
        return 0
    rounded = max(1, math.floor(abs(change) + _EPSILON))
    if minimum is not None:
        rounded = max(rounded, minimum)
    return rounded if change > 0 else -rounded


@dataclass(frozen=True)
class TargetTrackingPolicy:
    name: str
    target: float
    scale_out_cooldown: int = DEFAULT_COOLDOWN
    scale_in_cooldown: int = DEFAULT_COOLDOWN
    disable_scale_in: bool = False

    def capacity(self, datapoints: list[float | None], current: int) -> int | None:
        latest = next((value for value in reversed(datapoints) if value is not None), None)
        if latest is None or self.target <= 0:
            return None
        wanted = math.ceil(current * latest / self.target - _EPSILON)
        if wanted < current and self.disable_scale_in:
            return None
        return wanted


Policy = StepPolicy | TargetTrackingPolicy


def proposed_capacity(policy: Policy, datapoints: list[float | None], threshold: float, above: bool,
                      current: int) -> int | None:
    if isinstance(policy, StepPolicy):
        return policy.capacity(datapoints, threshold, above, current)
    return policy.capacity(datapoints, current)


@dataclass(frozen=True)
class Activity:
    """A change of the desired count, for the report."""

    second: float
    policy: str
    before: int
    after: int


@dataclass
class _Cooldowns:
    out_until: float = -math.inf
    out_base: int = 0
    in_until: float = -math.inf


@dataclass(frozen=True)
class Invocation:
    """A policy invoked by an alarm this minute, with what the alarm saw."""

    policy: Policy
    datapoints: list[float | None]
    threshold: float
    above: bool


@dataclass
class Scaler:
    """Applies invoked policies to the scalable target's desired count, with cooldowns."""

    min_capacity: int
    max_capacity: int
    cooldowns: dict[str, _Cooldowns] = field(default_factory=dict)

    def clamp(self, capacity: int) -> int:
        return max(self.min_capacity, min(self.max_capacity, capacity))

    def decide(self, now: float, current: int, invocations: list[Invocation]) -> Activity | None:
        outs: list[tuple[int, Invocation, bool]] = []
        ins: list[tuple[int, Invocation]] = []
        for invocation in invocations:
            policy = invocation.policy
            state = self.cooldowns.setdefault(policy.name, _Cooldowns())
            wanted = proposed_capacity(policy, invocation.datapoints, invocation.threshold, invocation.above,
                                       current)
            if wanted is None:
                continue
            wanted = self.clamp(wanted)
            if wanted > current:
                cooling = now < state.out_until
                if cooling:
                    # Capacity the last scale-out added counts toward this one.
                    from_base = proposed_capacity(policy, invocation.datapoints, invocation.threshold,
                                                  invocation.above, state.out_base)
                    wanted = self.clamp(from_base) if from_base is not None else current
                if wanted > current:
                    outs.append((wanted, invocation, cooling))
            elif wanted < current and now >= state.in_until:
                ins.append((wanted, invocation))
        if outs:
            wanted, invocation, cooling = max(outs, key=lambda item: item[0])
            state = self.cooldowns[invocation.policy.name]
            if not cooling:
                state.out_base = current
            state.out_until = now + _cooldown(invocation.policy, "out")
            for other in self.cooldowns.values():
                other.in_until = -math.inf
            return Activity(now, invocation.policy.name, current, wanted)
        if ins:
            wanted, invocation = max(ins, key=lambda item: item[0])
            self.cooldowns[invocation.policy.name].in_until = now + _cooldown(invocation.policy, "in")
            return Activity(now, invocation.policy.name, current, wanted)
        return None


def _cooldown(policy: Policy, direction: str) -> int:
    if isinstance(policy, StepPolicy):
        return policy.cooldown
    return policy.scale_out_cooldown if direction == "out" else policy.scale_in_cooldown
