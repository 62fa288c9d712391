"""A template as a diagram, in Mermaid (renders on GitHub) or Graphviz DOT.

Resources are nodes, grouped by the system whose prefix their logical id starts
with (the prefixes come from ``Metadata.WatchbotCfn``; the user's own resources
form a group of their own). An edge ``A --> B`` means A refers to B through
``Ref``, ``Fn::GetAtt`` or ``Fn::Sub``; a dotted edge is a ``DependsOn``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from watchbot_cfn.analysis.references import depends_on, references

__all__ = ["Edge", "FORMATS", "edges", "groups", "to_dot", "to_mermaid"]

FORMATS = ("mermaid", "dot")
OTHER_GROUP = "Other resources"
#: Words Mermaid's flowchart parser reserves; a node id equal to one gets an underscore.
_MERMAID_RESERVED = {"end", "graph", "subgraph", "flowchart", "style", "class", "classdef", "click", "linkstyle",
                     "direction", "default"}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str  # "ref" (Ref, GetAtt, Sub) or "depends" (DependsOn)


def edges(template: dict[str, Any]) -> list[Edge]:
    """Every reference between resources, once each, in template order."""
    resources = template.get("Resources") or {}
    known = set(resources)
    found: dict[tuple[str, str, str], Edge] = {}
    for name, body in resources.items():
        if not isinstance(body, dict):
            continue
        for _, target in references({k: v for k, v in body.items() if k != "DependsOn"}):
            if target in known and target != name:
                found.setdefault((name, target, "ref"), Edge(name, target, "ref"))
        for target in depends_on(body):
            if target in known and (name, target, "ref") not in found:
                found.setdefault((name, target, "depends"), Edge(name, target, "depends"))
    return list(found.values())


def groups(template: dict[str, Any]) -> dict[str, list[str]]:
    """Group label -> logical ids; a resource belongs to the longest system prefix it starts with."""
    from watchbot_cfn.analysis.systems import system_prefixes

    prefixes = sorted(system_prefixes(template), key=len, reverse=True)
    grouped: dict[str, list[str]] = {prefix: [] for prefix in sorted(prefixes)}
    grouped[OTHER_GROUP] = []
    for name in template.get("Resources") or {}:
        owner = next((prefix for prefix in prefixes if name.startswith(prefix)), OTHER_GROUP)
        grouped[owner].append(name)
    return {label: names for label, names in grouped.items() if names}


def _short_type(resource_type: str) -> str:
    return resource_type.removeprefix("AWS::")


def _mermaid_id(name: str) -> str:
    return f"{name}_" if name.lower() in _MERMAID_RESERVED else name


def to_mermaid(template: dict[str, Any]) -> str:
    """A Mermaid flowchart, left to right, one subgraph per system."""
    resources = template.get("Resources") or {}
    lines = ["flowchart LR"]
    for index, (label, names) in enumerate(groups(template).items()):
        lines.append(f'  subgraph group{index}["{label}"]')
        for name in names:
            kind = _short_type(str(resources[name].get("Type", "?")))
            lines.append(f'    {_mermaid_id(name)}["{name}<br/>{kind}"]')
        lines.append("  end")
    for edge in edges(template):
        arrow = "-.->" if edge.kind == "depends" else "-->"
        lines.append(f"  {_mermaid_id(edge.source)} {arrow} {_mermaid_id(edge.target)}")
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(template: dict[str, Any]) -> str:
    """A Graphviz digraph, one cluster per system."""
    resources = template.get("Resources") or {}
    lines = ["digraph stack {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica", fontsize=10];']
    for index, (label, names) in enumerate(groups(template).items()):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f"    label={_dot_quote(label)};")
        for name in names:
            kind = _short_type(str(resources[name].get("Type", "?")))
            label = _dot_quote(name)[:-1] + "\\n" + _dot_quote(kind)[1:]
            lines.append(f"    {_dot_quote(name)} [label={label}];")
        lines.append("  }")
    for edge in edges(template):
        style = ' [style=dashed, label="DependsOn"]' if edge.kind == "depends" else ""
        lines.append(f"  {_dot_quote(edge.source)} -> {_dot_quote(edge.target)}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"
