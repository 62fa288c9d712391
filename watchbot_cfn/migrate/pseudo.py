"""Resolve ``AWS::StackName``, ``AWS::Region`` and ``AWS::AccountId`` in a template, as CloudFormation will.

A Watchbot 10 template names its resources with literal strings (CDK knows the
stack name and region at synthesis), a render here with ``${AWS::StackName}``.
Both mean the same name once the stack is known, so pairing and diffing compare
them resolved. Everything else stays as it is; a string that still names
something (``${Queue.Arn}``) stays an ``Fn::Sub``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from watchbot_cfn.templatediff import canonical

__all__ = ["StackPlace", "resolve", "resolved_template"]


@dataclass(frozen=True)
class StackPlace:
    """Where a stack lives: the values of its pseudo parameters (account may be unknown)."""

    stack_name: str
    region: str
    account: str | None = None

    @property
    def values(self) -> dict[str, str]:
        found = {"AWS::StackName": self.stack_name, "AWS::Region": self.region}
        if self.account:
            found["AWS::AccountId"] = self.account
        return found


def resolve(value: Any, place: StackPlace) -> Any:
    """``value`` in canonical form (see templatediff.canonical) with the known pseudo parameters inlined."""
    return _inline(canonical(value), place.values)


def resolved_template(template: dict[str, Any], place: StackPlace) -> dict[str, Any]:
    """A copy of ``template`` whose resources and outputs have their pseudo parameters resolved."""
    copy = dict(template)
    for section in ("Resources", "Outputs"):
        if isinstance(template.get(section), dict):
            copy[section] = {key: resolve(item, place) for key, item in template[section].items()}
    return copy


def _inline(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, list):
        return [_inline(item, values) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1 and isinstance(value.get("Fn::Sub"), str):
        text = value["Fn::Sub"]
        for name, literal in values.items():
            text = text.replace("${" + name + "}", literal.replace("${", "${!"))
        if "${" not in text:
            return text
        if "${!" in text and "${" not in text.replace("${!", ""):
            return text.replace("${!", "${")
        return {"Fn::Sub": text}
    return {key: _inline(item, values) for key, item in value.items()}
