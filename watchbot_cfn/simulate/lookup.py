"""Read values out of a CloudFormation template (a plain dict), resolving only what can be resolved.

The simulator needs numbers and names, not intrinsics. A parameter reference
resolves to the value given with ``--parameter`` or to the parameter's Default;
any other intrinsic is refused with a message naming the resource and property
it stands in, so a template the model cannot evaluate fails clearly instead of
being simulated wrongly.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from watchbot_cfn.analysis.references import references as template_references
from watchbot_cfn.errors import WatchbotError

__all__ = ["CloudFormation", "SimulationError", "choices", "references"]


class SimulationError(WatchbotError, ValueError):
    """The template cannot be simulated as it is (the message names the resource and property)."""


class CloudFormation:
    """Typed lookups in one template's Resources and Parameters."""

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
                                      + choices(self.declared))

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


def references(value: Any) -> Iterator[str]:
    """Logical ids and parameters a value points at through Ref, Fn::GetAtt or Fn::Sub."""
    for _, name in template_references(value):
        yield name


def choices(names: Any) -> str:
    names = sorted(names)
    return f" (the template has: {', '.join(names)})" if names else ""


def _short(value: Any) -> str:
    if isinstance(value, Mapping) and value:
        return next(iter(value))
    return type(value).__name__
