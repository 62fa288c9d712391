"""Compare two CloudFormation templates offline, as an update of one into the other would go.

Each resource is added, removed, modified or unchanged; a modified resource is
*replaced* when a create-only property changes (or its type does), judged from
the resource provider schemas cfn-lint ships. Values are compared in one
canonical spelling first: ``Fn::Join`` and ``Fn::Sub`` forms that yield the same
string, ``Ref`` and ``${...}`` of the same name, literal ``Fn::Sub`` variables
inlined. Pseudo parameters stay symbolic on both sides, which is the same as
resolving them to one stack's values.

Resources that hold data (queues, topics, log groups, tables, buckets...) are
*stateful*: replacing or removing one loses what it holds, and an SNS
subscription removed while its topic remains drops deliveries. ``--fail-on-replace``
turns those into a failing exit status.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ADDED", "MODIFIED", "REMOVED", "REPLACED", "STATEFUL_TYPES", "Change", "canonical", "compare",
           "create_only_paths"]

ADDED, REMOVED, MODIFIED, REPLACED = "added", "removed", "modified", "replaced"

#: Types whose replacement or deletion loses data (or, for subscriptions, deliveries).
STATEFUL_TYPES = frozenset({
    "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::SNS::Subscription", "AWS::Logs::LogGroup",
    "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::S3::Bucket", "AWS::EFS::FileSystem",
    "AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::Kinesis::Stream", "AWS::KMS::Key",
    "AWS::SecretsManager::Secret", "AWS::ECR::Repository", "AWS::ElastiCache::CacheCluster",
    "AWS::ElastiCache::ReplicationGroup", "AWS::OpenSearchService::Domain", "AWS::Elasticsearch::Domain",
    "AWS::Cognito::UserPool",
})
#: Keys of a resource (beside Properties) that an update compares.
_RESOURCE_KEYS = ("Type", "Properties", "DependsOn", "Condition", "DeletionPolicy", "UpdateReplacePolicy",
                  "Metadata")
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
_LITERAL_DOLLAR = "${!"


@dataclass(frozen=True)
class Change:
    """What an update does to one resource."""

    logical_id: str
    kind: str  # ADDED, REMOVED, MODIFIED or REPLACED
    type: str
    properties: tuple[str, ...] = ()  # properties that differ (for REPLACED, the create-only ones first)
    replaced_by: tuple[str, ...] = field(default=())  # the create-only properties that force a replacement
    retained: bool = False  # the old resource's DeletionPolicy keeps its data when it goes

    @property
    def stateful(self) -> bool:
        return self.type in STATEFUL_TYPES

    @property
    def loses_state(self) -> bool:
        """A stateful resource that would be replaced or deleted."""
        return self.stateful and self.kind in (REPLACED, REMOVED)


# --- canonical values ----------------------------------------------------------------

def canonical(value: Any) -> Any:
    """One spelling for equal values: strings built by Join/Sub/Ref become one ``Fn::Sub`` text."""
    if isinstance(value, list):
        return [canonical(item) for item in value]
    if isinstance(value, bool):  # CloudFormation reads true and "true", 5 and "5" alike
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, argument), = value.items()
        text = _as_text(key, argument)
        if text is not None:
            return text if "${" not in text else {"Fn::Sub": text}
    return {key: canonical(item) for key, item in value.items()}


def _as_text(key: str, argument: Any) -> str | None:
    """The Fn::Sub text that ``{key: argument}`` yields, or None when it is not a string-building function."""
    if key == "Ref" and isinstance(argument, str):
        return "${" + argument + "}"
    if key == "Fn::GetAtt":
        parts = argument.split(".", 1) if isinstance(argument, str) else argument
        if isinstance(parts, list) and len(parts) == 2 and all(isinstance(p, str) for p in parts):
            return "${" + parts[0] + "." + parts[1] + "}"
        return None
    if key == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
        delimiter, items = argument
        if not isinstance(delimiter, str) or not isinstance(items, list):
            return None
        texts = [_piece(item) for item in items]
        if any(text is None for text in texts):
            return None
        return _escape(delimiter).join(t for t in texts if t is not None)
    if key == "Fn::Sub":
        if isinstance(argument, str):
            return argument
        if isinstance(argument, list) and argument and isinstance(argument[0], str):
            variables = argument[1] if len(argument) > 1 and isinstance(argument[1], dict) else {}
            return _substitute(argument[0], variables)
    return None


def _piece(item: Any) -> str | None:
    """One Join item as Fn::Sub text."""
    if isinstance(item, (str, int, float)) and not isinstance(item, bool):
        return _escape(str(item))
    if isinstance(item, dict) and len(item) == 1:
        (key, argument), = item.items()
        return _as_text(key, argument)
    return None


def _escape(literal: str) -> str:
    return literal.replace("${", _LITERAL_DOLLAR)


def _substitute(text: str, variables: Mapping[str, Any]) -> str | None:
    """Inline the variables of an Fn::Sub whose values are themselves strings or string-building functions."""
    def replace(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name not in variables:
            return match.group(0)
        piece = _piece(variables[name])
        if piece is None:
            raise ValueError(name)
        return piece

    try:
        return _SUB_VARIABLE.sub(replace, text)
    except ValueError:
        return None


# --- create-only properties -------------------------------------------------------------

def create_only_paths(resource_type: str, region: str = "us-east-1") -> list[list[str]]:
    """Create-only property paths of a type (``["QueueName"]``, ``["Tags", "*", "Key"]``), from cfn-lint."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    except ResourceNotFoundError:
        return []
    paths = []
    for pointer in schema.get("createOnlyProperties", []):
        parts = pointer.split("/")[2:]  # "/properties/A/B" -> ["A", "B"]
        if parts:
            paths.append(parts)
    return paths


def _values_at(value: Any, path: list[str]) -> Iterator[Any]:
    if not path:
        yield value
        return
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(value, list):
            for item in value:
                yield from _values_at(item, rest)
        return
    if isinstance(value, dict) and head in value:
        yield from _values_at(value[head], rest)


def _differs_at(old: Any, new: Any, path: list[str]) -> bool:
    return _dump(list(_values_at(old, path))) != _dump(list(_values_at(new, path)))


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


# --- comparing --------------------------------------------------------------------------

def compare(old: Mapping[str, Any], new: Mapping[str, Any], region: str = "us-east-1") -> list[Change]:
    """Every resource that an update from ``old`` to ``new`` adds, removes, modifies or replaces."""
    old_resources = old.get("Resources") or {}
    new_resources = new.get("Resources") or {}
    changes: list[Change] = []
    for logical_id, before in old_resources.items():
        retained = before.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate", "Snapshot")
        if logical_id not in new_resources:
            changes.append(Change(logical_id, REMOVED, before.get("Type", "?"), retained=retained))
            continue
        change = _modified(logical_id, before, new_resources[logical_id], region, retained)
        if change is not None:
            changes.append(change)
    for logical_id, after in new_resources.items():
        if logical_id not in old_resources:
            changes.append(Change(logical_id, ADDED, after.get("Type", "?")))
    return changes


def _modified(logical_id: str, before: Mapping[str, Any], after: Mapping[str, Any], region: str,
              retained: bool) -> Change | None:
    old_type, new_type = before.get("Type", "?"), after.get("Type", "?")
    if old_type != new_type:
        return Change(logical_id, REPLACED, old_type, ("Type",), ("Type",), retained)
    old_properties = canonical(before.get("Properties") or {})
    new_properties = canonical(after.get("Properties") or {})
    differing = sorted(name for name in set(old_properties) | set(new_properties)
                       if _dump(old_properties.get(name)) != _dump(new_properties.get(name)))
    others = [key for key in _RESOURCE_KEYS if key not in ("Type", "Properties")
              and _dump(canonical(before.get(key))) != _dump(canonical(after.get(key)))]
    if not differing and not others:
        return None
    forcing = sorted({path[0] for path in create_only_paths(old_type, region)
                      if _differs_at(old_properties, new_properties, path)})
    if forcing:
        rest = [name for name in differing if name not in forcing]
        return Change(logical_id, REPLACED, old_type, tuple(forcing + rest + others), tuple(forcing), retained)
    return Change(logical_id, MODIFIED, old_type, tuple(differing + others), retained=retained)
