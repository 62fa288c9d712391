"""Lint rendered templates with cfn-lint in-process.

cfn-lint is heavy to import (about 1.5 s), so it is imported here only, never
on the render path. It comes with the ``lint`` extra.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_REGIONS", "Finding", "lint"]

DEFAULT_REGIONS = ("us-east-1",)


@dataclass(frozen=True)
class Finding:
    """One cfn-lint match, reduced to what a person needs to act on it."""

    rule: str
    level: str  # error | warning | informational
    message: str
    path: str

    def __str__(self) -> str:
        return f"{self.level} {self.rule} at {self.path}: {self.message}"


def lint(template: Any, regions: tuple[str, ...] = DEFAULT_REGIONS, informational: bool = False) -> list[Finding]:
    """Lint a template given as a troposphere Template, a dict or a JSON/YAML string.

    ``informational`` adds cfn-lint's I rules (off by default in cfn-lint too), such as I3011: a stateful
    resource without explicit deletion and replacement policies.
    """
    try:
        from cfnlint.api import ManualArgs
        from cfnlint.api import lint as cfn_lint
    except ImportError as missing:  # pragma: no cover - depends on the install
        raise RuntimeError("cfn-lint is not installed: pip install 'watchbot-cfn[lint]'") from missing
    if hasattr(template, "to_json"):
        text = template.to_json()
    elif isinstance(template, dict):
        text = json.dumps(template)
    else:
        text = str(template)
    extra = {"include_checks": ["I"]} if informational else {}
    matches = cfn_lint(text, config=ManualArgs(regions=list(regions), **extra))
    return [
        Finding(
            rule=match.rule.id,
            level=str(match.rule.severity),
            message=match.message,
            path="/".join(str(p) for p in getattr(match, "path", []) or []) or f"line {match.linenumber}",
        )
        for match in matches
    ]

