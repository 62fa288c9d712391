"""``--parameter KEY=VALUE``: stack parameter values, checked against the template before any AWS call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from watchbot_cfn.errors import WatchbotError

__all__ = ["ParameterError", "parse_assignments", "stack_parameters"]


class ParameterError(WatchbotError):
    """A parameter is malformed, unknown or missing; the message names it."""


def parse_assignments(values: Iterable[str] | None) -> dict[str, str]:
    """``["A=1", "B=x=y"]`` -> ``{"A": "1", "B": "x=y"}``; the last of a repeated key wins."""
    parsed: dict[str, str] = {}
    for value in values or ():
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--parameter: got {value!r}; expected KEY=VALUE")
        parsed[key.strip()] = text
    return parsed


def stack_parameters(template: Mapping[str, Any], given: Mapping[str, str],
                     previous: Iterable[str] = ()) -> list[dict[str, Any]]:
    """CloudFormation ``Parameters`` for a change set.

    Given values first; a parameter the stack already has keeps its previous
    value; one with a default is left to it. Unknown keys and parameters with
    no value at all are errors that name them.
    """
    declared = template.get("Parameters") or {}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        allowed = ", ".join(sorted(declared)) or "none: the template declares no parameters"
        raise ParameterError(f"--parameter: {unknown[0]!r} is not a parameter of the template; allowed: {allowed}")
    kept = set(previous)
    result: list[dict[str, Any]] = []
    missing = []
    for name, spec in declared.items():
        if name in given:
            result.append({"ParameterKey": name, "ParameterValue": given[name]})
        elif name in kept:
            result.append({"ParameterKey": name, "UsePreviousValue": True})
        elif not isinstance(spec, dict) or "Default" not in spec:
            missing.append(name)
    if missing:
        raise ParameterError(f"parameter {missing[0]!r} has no default and no value; "
                             f"give --parameter {missing[0]}=VALUE")
    return result
