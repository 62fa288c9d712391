"""Plan a migration: render the source, pair the old template's stateful resources, write and prove the adoption.

Everything here is offline and works on template dicts; the CLI (cli/migrate.py)
reads the files and the stack, and prints what the plan says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from watchbot_cfn.errors import SourceError, WatchbotError
from watchbot_cfn.migrate.adopted import adopted_document
from watchbot_cfn.migrate.checks import name_clashes, stateful_losses
from watchbot_cfn.migrate.oldstack import OldStack
from watchbot_cfn.migrate.pairing import Refusal, pair
from watchbot_cfn.migrate.pseudo import StackPlace, resolved_template
from watchbot_cfn.migrate.scope import scope
from watchbot_cfn.templatediff import STATEFUL_TYPES, Change

__all__ = ["Plan", "plan"]

SYSTEMS_KEY = "systems"


@dataclass
class Plan:
    """What migrating one old template onto one source does."""

    options: dict[str, Any] = field(default_factory=dict)  # adoption options, merged with the source's
    document: dict[str, Any] = field(default_factory=dict)  # the adopted source, as data
    pairs: dict[str, str] = field(default_factory=dict)  # role -> logical id kept
    dropped: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # the user's resources and outputs kept verbatim
    notes: list[str] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    losses_before: list[Change] = field(default_factory=list)
    losses_after: list[Change] = field(default_factory=list)
    clashes: list[str] = field(default_factory=list)
    service_id: str | None = None  # the render's ECS service, which post-checks wait on

    @property
    def nothing_to_adopt(self) -> bool:
        return not self.refusals and not self.options and not self.kept

    @property
    def safe(self) -> bool:
        return not self.refusals and not self.losses_after and not self.clashes


def _render(document: dict[str, Any], origin: str) -> Any:
    from watchbot_cfn.assemble import template

    options = {key: value for key, value in document.items() if not key[:1].isupper()}
    try:
        return template(**options)
    except WatchbotError as error:
        raise SourceError(origin, str(error)) from error


def _merged(existing: Any, adopted: Any) -> Any:
    if isinstance(existing, dict) and isinstance(adopted, dict):
        return {**existing, **adopted}
    if isinstance(existing, list) and isinstance(adopted, list):
        return existing + [item for item in adopted if item not in existing]
    return adopted


def plan(data: dict[str, Any], origin: str, old_template: dict[str, Any], place: StackPlace,
         render_document: Any) -> Plan:
    """Pair ``old_template`` with the system ``data`` describes and prove the adopted source.

    ``render_document(document, origin)`` renders a whole source document to a template dict (the user's own
    sections merged in), as ``render`` does.
    """
    if SYSTEMS_KEY in data:
        raise SourceError(origin, "migrate adopts one system per source; put the system that takes over the "
                                  "old stack in a source of its own")
    built = _render(data, origin)
    render = built.to_dict()
    old = OldStack(old_template, place)
    pairing = pair(old, render, built.options, built.names, place, frozenset(data))
    found = scope(old, pairing, built.options, set(render.get("Resources") or {}), set(render.get("Outputs") or {}))
    # A refused pairing leaves resources unpaired: what scope would say about them repeats the refusal.
    refusals = pairing.refusals or [Refusal(option, line) for option, line in found.refusals]
    result = Plan(pairs=dict(pairing.pairs), dropped=found.dropped, notes=found.notes, refusals=refusals,
                  service_id=built.names.service)
    adopted = dict(pairing.options)
    exports = [item for item in found.exports if item not in (data.get("exports") or [])]
    if exports:
        adopted["exports"] = exports
    result.options = {key: _merged(data.get(key), value) for key, value in adopted.items()}
    result.kept = [*found.kept, *found.kept_outputs]
    old_resolved = resolved_template(old_template, place)
    before = resolved_template(render_document(data, origin), place)
    result.losses_before = stateful_losses(old_resolved, before, place.region)
    if result.refusals:
        return result
    result.document = adopted_document(data, result.options, found.kept, found.kept_outputs)
    after = resolved_template(render_document(result.document, origin), place)
    result.losses_after = stateful_losses(old_resolved, after, place.region)
    result.clashes = name_clashes(old_resolved, after)
    if not any(item.get("Type") in STATEFUL_TYPES for item in old.resources.values()):
        result.notes.append("the old template holds no stateful resource")
    return result
