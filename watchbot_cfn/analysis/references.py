"""What a template's values refer to (Ref, Fn::GetAtt, Fn::Sub, DependsOn), and references that lead nowhere.

``graph`` draws these references; ``deploy`` checks them before any AWS call,
because a dangling one fails only after the stack has started changing on
some endpoints and with a vague message on others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from watchbot_cfn.cfn import PSEUDO_PARAMETERS
from watchbot_cfn.errors import WatchbotError

__all__ = ["TemplateError", "check_references", "depends_on", "references"]

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")

class TemplateError(WatchbotError):
    """The template refers to something it does not declare."""


def references(value: Any) -> Iterator[tuple[str, str]]:
    """(kind, name) for each reference in a value: kind is Ref, GetAtt or Sub; name is a logical id or parameter."""
    if isinstance(value, list):
        for item in value:
            yield from references(item)
        return
    if not isinstance(value, dict):
        return
    if len(value) == 1:
        (key, argument), = value.items()
        if key == "Ref" and isinstance(argument, str):
            yield "Ref", argument
            return
        if key == "Fn::GetAtt":
            target = argument[0] if isinstance(argument, list) and argument else \
                argument.split(".", 1)[0] if isinstance(argument, str) else None
            if isinstance(target, str):
                yield "GetAtt", target
            return
        if key == "Fn::Sub":
            variables: Any
            if isinstance(argument, str):
                text, variables = argument, {}
            elif isinstance(argument, list) and argument:
                text, variables = argument[0], argument[1] if len(argument) > 1 else {}
            else:
                return
            local = set(variables) if isinstance(variables, dict) else set()
            for match in _SUB_VARIABLE.finditer(text if isinstance(text, str) else ""):
                name = match.group(1).strip()
                head = name if name.startswith("AWS::") else name.split(".", 1)[0]
                if head not in local:
                    yield "Sub", head
            yield from references(variables)
            return
    for item in value.values():
        yield from references(item)


def depends_on(body: Any) -> list[str]:
    raw = body.get("DependsOn") if isinstance(body, dict) else None
    if isinstance(raw, str):
        return [raw]
    return [item for item in raw or [] if isinstance(item, str)]


def check_references(template: dict[str, Any]) -> None:
    """Raise TemplateError naming the first reference to an undeclared resource, parameter or condition."""
    resources = template.get("Resources") or {}
    if not isinstance(resources, dict) or not resources:
        raise TemplateError("template: the Resources section is missing or empty")
    declared = set(resources) | set(template.get("Parameters") or {}) | PSEUDO_PARAMETERS
    conditions = set(template.get("Conditions") or {})
    sections = [("Resources", resources), ("Outputs", template.get("Outputs") or {})]
    for section, entries in sections:
        for name, body in entries.items():
            body_refs = {k: v for k, v in body.items() if k != "DependsOn"} if isinstance(body, dict) else body
            for kind, target in references(body_refs):
                if target not in declared:
                    raise TemplateError(f"template: {section} {name} refers to {target!r} ({kind}), which is "
                                        "neither a resource nor a parameter of the template")
                if kind == "GetAtt" and target not in resources:
                    raise TemplateError(f"template: {section} {name} reads an attribute of {target!r}, which is "
                                        "not a resource")
            for target in depends_on(body):
                if target not in resources:
                    raise TemplateError(f"template: {section} {name} depends on {target!r}, which is not a "
                                        "resource of the template")
            condition = body.get("Condition") if isinstance(body, dict) else None
            if isinstance(condition, str) and condition not in conditions:
                raise TemplateError(f"template: {section} {name} names condition {condition!r}, which the "
                                    "Conditions section does not define")
