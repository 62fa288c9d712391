"""What else the old template holds: resources migrate drops, the user's own, and exports to keep.

In a CDK app the construct's resources share a path (``Stack/Watchbot/...``):
what is under it and not paired (the scaling Lambda, its rule and role, alarms,
dashboard, service) is dropped, because the render has its own. What is outside
it is the user's, kept verbatim when it refers only to what stays; CDK's own
parts (``CDKMetadata``, the bootstrap-version parameter and rule) are dropped.
Exports are kept through the ``exports`` option: another stack may import them.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from watchbot_cfn.migrate.oldstack import OldStack, references
from watchbot_cfn.migrate.pairing import Pairing, target_of
from watchbot_cfn.options import Options
from watchbot_cfn.templatediff import STATEFUL_TYPES

__all__ = ["Scope", "construct_root", "id_prefix", "scope"]

CDK_METADATA = "AWS::CDK::Metadata"
BOOTSTRAP_PARAMETER = "BootstrapVersion"
BOOTSTRAP_RULE = "CheckBootstrapVersion"
#: Shortest shared id prefix taken as the construct's (shorter ones say nothing).
MIN_ID_PREFIX = 3
#: Export values by (role, attribute) of the old resource they name.
_EXPORTED = {("queue", None): "queue_url", ("queue", "Arn"): "queue_arn", ("queue", "QueueName"): "queue_name",
             ("dead_letter_queue", None): "dead_letter_queue_url",
             ("dead_letter_queue", "Arn"): "dead_letter_queue_arn",
             ("dead_letter_queue", "QueueName"): "dead_letter_queue_name", ("topic", None): "topic",
             ("log_group", None): "log_group", ("progress_table", None): "progress_table"}


@dataclass
class Scope:
    dropped: list[str] = field(default_factory=list)  # "id (type)" of every part migrate leaves out
    kept: dict[str, Any] = field(default_factory=dict)  # the user's resources, verbatim
    kept_outputs: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what the user must do for resources migrate cannot keep
    exports: list[dict[str, str]] = field(default_factory=list)
    refusals: list[tuple[str, str]] = field(default_factory=list)  # (option, line)


def construct_root(old: OldStack, pairing: Pairing) -> str | None:
    """The CDK path of the construct the paired resources belong to (``MyStack/Watchbot``)."""
    paths = [path.split("/") for path in (old.cdk_path(key) for key in pairing.pairs.values()) if path]
    if not paths:
        return None
    if len(paths) == 1:
        return "/".join(paths[0][:-2]) or None
    return "/".join(_common(paths)) or None


def id_prefix(pairing: Pairing) -> str:
    """Without CDK paths, the logical id prefix the paired resources share (CDK's ids start with the construct's
    path, Watchbot 9's with the system's prefix)."""
    ids = sorted(pairing.pairs.values())
    return "".join(_common([list(key) for key in ids])) if len(ids) > 1 else ""


def _common(sequences: list[list[str]]) -> list[str]:
    common: list[str] = []
    for parts in zip(*sequences, strict=False):
        if len(set(parts)) > 1:
            break
        common.append(parts[0])
    return common


def scope(old: OldStack, pairing: Pairing, options: Options, render_ids: set[str],
          render_outputs: AbstractSet[str] = frozenset()) -> Scope:
    """Sort every unpaired resource and output of ``old`` into dropped, kept or needing the user."""
    found = Scope()
    root = construct_root(old, pairing)
    prefix = id_prefix(pairing)
    paired = set(pairing.pairs.values())
    dropped: set[str] = set()
    users: list[str] = []
    raw_resources = old.raw.get("Resources") or {}
    for key, item in raw_resources.items():
        if key in paired:
            continue
        path = old.cdk_path(key)
        if old.is_cdk:
            inside = root is not None and path is not None and path.startswith(root + "/")
        else:
            inside = key in render_ids or (len(prefix) >= MIN_ID_PREFIX and key.startswith(prefix))
        if inside or item.get("Type") == CDK_METADATA:
            dropped.add(key)
            if key in render_ids:
                continue  # the render has a resource of that id: updated in place, not dropped
            found.dropped.append(f"{key} ({item.get('Type')})")
            if item.get("Type") in STATEFUL_TYPES:
                found.refusals.append(("logical_ids", f"{key} ({item.get('Type')}) holds data and pairs with "
                                                      "nothing in the render: migrate would delete it"))
        else:
            users.append(key)
    parameters = set(old.raw.get("Parameters") or {})
    if BOOTSTRAP_PARAMETER in parameters:
        found.dropped.append(f"{BOOTSTRAP_PARAMETER} (parameter)")
    if BOOTSTRAP_RULE in (old.raw.get("Rules") or {}):
        found.dropped.append(f"{BOOTSTRAP_RULE} (rule)")
    blocked = (dropped - render_ids) | parameters  # the render has resources of the ids it keeps
    changed = True
    while changed:  # a user resource that refers to one that cannot stay cannot stay either
        changed = False
        for key in list(users):
            if references(raw_resources[key]) & blocked:
                blocked.add(key)
                users.remove(key)
                changed = True
    for key in raw_resources:
        if key in blocked and key not in dropped:
            missing = sorted(references(raw_resources[key]) & ((dropped - render_ids) | parameters))
            why = f"refers to {', '.join(missing)}" if missing else "refers to a resource that cannot stay"
            found.notes.append(f"{key} ({raw_resources[key].get('Type')}) is yours and {why}, which the adopted "
                               "source does not have: add it to the source's Resources pointing at the render's "
                               "resources (watchbot-cfn render shows their ids)")
    found.kept = {key: raw_resources[key] for key in users}
    _outputs(old, pairing, options, found, set(users), render_outputs)
    return found


def _outputs(old: OldStack, pairing: Pairing, options: Options, found: Scope, users: set[str],
             render_outputs: AbstractSet[str]) -> None:
    by_old_id = {old_id: role for role, old_id in pairing.pairs.items()}
    for key, output in (old.resolved.get("Outputs") or {}).items():
        raw = (old.raw.get("Outputs") or {}).get(key, {})
        export = (output.get("Export") or {}).get("Name")
        value = output.get("Value")
        if references(raw.get("Value")) and references(raw.get("Value")) <= users:
            found.kept_outputs[key] = raw
            continue
        if export is None:
            if key not in render_outputs:  # else the render's output of that id replaces it
                found.dropped.append(f"{key} (output)")
            continue
        exported = _export_value(value, by_old_id, options)
        if exported is None or not isinstance(export, str):
            found.refusals.append(("exports", f"the export {export} (output {key}) names something the render "
                                              "does not have; add it to the source's Outputs yourself"))
            continue
        found.exports.append({"name": export, "value": exported, "output": key})


def _export_value(value: Any, by_old_id: dict[str, str], options: Options) -> str | None:
    if value == "" and options.fifo:
        return "topic"  # Watchbot 10 exports an empty topic in FIFO systems
    target = target_of(value)
    if target is None or target not in by_old_id:
        return None
    text = value["Fn::Sub"]
    attribute = text[2 + len(target) + 1:-1] if "." in text else None
    return _EXPORTED.get((by_old_id[target], attribute))
