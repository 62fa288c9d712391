"""Merge troposphere Templates and plain CloudFormation dicts into one Template.

Several Watchbot systems (one per ``prefix``) and the user's own template
parts end up in one stack. Nothing is ever silently overwritten:

* a logical id that repeats within a keyed section (Parameters, Mappings,
  Conditions, Resources, Outputs, Rules) is fine when both definitions render
  to the same JSON, and raises :class:`MergeConflictError` when they differ;
  a Parameter and a Resource may not share a logical id either;
* ``Metadata`` is deep-merged (every system writes
  ``Metadata.WatchbotCfn.<prefix>``); only differing leaves conflict;
* ``AWSTemplateFormatVersion`` and ``Globals`` must agree;
* ``Transform`` is the ordered union of every template's transforms;
* ``Description``: the distinct descriptions are joined with ``" | "`` in
  argument order (so a user's own description, given first, leads); a result
  longer than CloudFormation's 1,024 bytes raises, rather than being cut;
  ``merge(..., description="...")`` sets it explicitly instead, and
  :func:`systems_description` makes one that fits for any number of systems.

The result is a plain ``troposphere.Template`` (not a ``WatchbotTemplate``): keep
each system's own template object for its ``.ref``. Troposphere objects are
shared with the inputs, not copied; plain-dict parts are stored as given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from troposphere import Template, encode_to_dict

from watchbot_cfn.cfn import KEYED_SECTIONS, MAX_DESCRIPTION_BYTES, SECTIONS
from watchbot_cfn.errors import MergeConflictError

__all__ = ["MAX_DESCRIPTION", "merge", "systems_description"]

#: CloudFormation's limit on a template description, in bytes (UTF-8).
MAX_DESCRIPTION = MAX_DESCRIPTION_BYTES

#: CloudFormation section -> troposphere Template attribute (its name in lowercase), for keyed sections.
_KEYED = {section: section.lower() for section in KEYED_SECTIONS}


def merge(*templates: Template | Mapping[str, Any], description: str | None = None) -> Template:
    """Combine templates; identical repeats are kept once, differing ones raise.

    Each argument is a troposphere ``Template`` or a CloudFormation template as
    a dict (for example ``json.load`` of an existing template). ``description``,
    when given, is the merged template's Description and the inputs' own
    descriptions are not used.
    """
    merged = Template()
    descriptions: list[str] = []
    transforms: list[Any] = []
    for part in templates:
        sections = _sections(part)
        for section, attribute in _KEYED.items():
            for key, value in sections.get(section, {}).items():
                _add_keyed(getattr(merged, attribute), section, key, value)
        _add_version(merged, sections.get("AWSTemplateFormatVersion"))
        if sections.get("Globals") is not None:
            _add_globals(merged, sections["Globals"])
        own_description = sections.get("Description")
        if own_description and own_description not in descriptions:
            descriptions.append(own_description)
        for transform in _as_list(sections.get("Transform")):
            if transform not in transforms:
                transforms.append(transform)
        if sections.get("Metadata"):
            _deep_merge(merged.metadata, sections["Metadata"], "")
    _check_shared_ids(merged)
    if description is not None:
        merged.description = description
    elif descriptions:
        merged.description = _join_descriptions(descriptions)
    if transforms:
        merged.transform = transforms[0] if len(transforms) == 1 else transforms
    return merged


def _sections(part: Template | Mapping[str, Any]) -> dict[str, Any]:
    """The sections of one input, keeping troposphere objects as they are."""
    if isinstance(part, Template):
        return {
            "AWSTemplateFormatVersion": part.version,
            "Description": part.description,
            "Metadata": part.metadata,
            "Transform": part.transform,
            "Globals": part.globals,
            **{section: getattr(part, attribute) for section, attribute in _KEYED.items()},
        }
    if not isinstance(part, Mapping):
        raise TypeError(f"merge() takes troposphere Templates or dicts, not {type(part).__name__}")
    unknown = sorted(set(part) - SECTIONS)
    if unknown:
        raise ValueError(f"not a CloudFormation template section: {', '.join(unknown)}")
    for section in _KEYED:
        if section in part and not isinstance(part[section], Mapping):
            raise ValueError(f"CloudFormation section {section} must be an object")
    return dict(part)


def _json_form(value: Any) -> Any:
    return encode_to_dict(value)


def _add_keyed(target: dict[str, Any], section: str, key: str, value: Any) -> None:
    if key in target:
        if target[key] is not value and _json_form(target[key]) != _json_form(value):
            raise MergeConflictError(section, key)
        return
    target[key] = value


def _add_version(merged: Template, version: str | None) -> None:
    if version is None:
        return
    if merged.version is not None and merged.version != version:
        raise MergeConflictError("AWSTemplateFormatVersion", version,
                                 f"differs from {merged.version!r}; every template must use the same version")
    merged.version = version


def _add_globals(merged: Template, value: Any) -> None:
    if merged.globals is not None and _json_form(merged.globals) != _json_form(value):
        raise MergeConflictError("Globals", "Globals")
    merged.globals = value


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _deep_merge(target: dict[str, Any], incoming: Mapping[str, Any], path: str) -> None:
    """Merge dicts recursively; a leaf (anything not a dict) must match exactly."""
    for key, value in incoming.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in target:
            target[key] = _copy_dicts(value)
        elif isinstance(target[key], dict) and isinstance(value, Mapping):
            _deep_merge(target[key], value, where)
        elif _json_form(target[key]) != _json_form(value):
            raise MergeConflictError("Metadata", where)


def _copy_dicts(value: Any) -> Any:
    """Copy nested dicts so later merges never write into an input's Metadata."""
    if isinstance(value, Mapping):
        return {k: _copy_dicts(v) for k, v in value.items()}
    return value


def _check_shared_ids(merged: Template) -> None:
    """Ref resolves Parameters and Resources from one namespace: a shared id is a conflict."""
    for key in sorted(set(merged.parameters) & set(merged.resources)):
        raise MergeConflictError("Parameters/Resources", key, "is both a Parameter and a Resource")


def _join_descriptions(descriptions: list[str]) -> str:
    joined = " | ".join(descriptions)
    size = len(joined.encode())
    if size > MAX_DESCRIPTION:
        raise MergeConflictError(
            "Description", "Description",
            f"the {len(descriptions)} descriptions joined are {size} bytes, more than "
            f"CloudFormation's {MAX_DESCRIPTION}; pass merge(..., description=...)")
    return joined


def systems_description(prefixes: Sequence[str]) -> str:
    """One short line naming several systems, within CloudFormation's limit for any number of them.

    ``3 Watchbot systems: Resize, Thumbs, Encode (watchbot-cfn 0.1.0)``; the
    prefixes are named while they fit and the rest counted (``..., and 9,990 more``).
    """
    from watchbot_cfn import __version__

    head = f"{len(prefixes):,} Watchbot systems: "
    tail = f" (watchbot-cfn {__version__})"
    budget = MAX_DESCRIPTION - len(head.encode()) - len(tail.encode()) - len(f", and {len(prefixes):,} more")
    shown: list[str] = []
    used = 0
    for prefix in prefixes:
        cost = len(prefix.encode()) + (2 if shown else 0)
        if used + cost > budget:
            break
        shown.append(prefix)
        used += cost
    rest = len(prefixes) - len(shown)
    return head + ", ".join(shown) + (f", and {rest:,} more" if rest else "") + tail
