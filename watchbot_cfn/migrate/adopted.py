"""Write the adoption into the source: the same document, with the adoption options and the user's resources.

JSON and YAML sources are written back whole (YAML loses its comments). A TOML
source keeps every line the user wrote: the options go in before its first
table, the user's resources are appended as ``[Resources.<id>]`` tables, and the
text is parsed again to prove it says exactly what was meant.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from watchbot_cfn.errors import SourceError

__all__ = ["adopted_document", "adopted_text", "toml_value"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def adopted_document(data: dict[str, Any], options: dict[str, Any], resources: dict[str, Any],
                     outputs: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the adoption options set and the user's resources and outputs added."""
    document = json.loads(json.dumps(data))
    document.update(options)
    for section, items in (("Resources", resources), ("Outputs", outputs)):
        if items:
            document.setdefault(section, {}).update(items)
    return document


def adopted_text(path: str, original: str, data: dict[str, Any], document: dict[str, Any]) -> str:
    """The source text that parses to ``document``, in the source's own format."""
    if document == data:
        return original  # nothing to adopt: the source stays exactly as written
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        return json.dumps(document, indent=2) + "\n"
    if suffix in (".yaml", ".yml"):
        import yaml

        return str(yaml.safe_dump(document, sort_keys=False, default_flow_style=False))
    if suffix == ".toml":
        text = _toml(original, data, document)
        if tomllib.loads(text) != document:
            raise SourceError(path, "cannot write the adoption into this TOML source without changing what it "
                                    "says; add the options printed by --json yourself")
        return text
    raise SourceError(path, "migrate writes TOML, YAML or JSON sources; for a Python source, pass the options "
                            "--json prints to template()")


def _toml(original: str, data: dict[str, Any], document: dict[str, Any]) -> str:
    lines = original.splitlines()
    options = {key: value for key, value in document.items()
               if not key[:1].isupper() and data.get(key) != value}
    sections = {key: value for key, value in document.items() if key[:1].isupper()}
    first_table = next((index for index, line in enumerate(lines) if line.lstrip().startswith("[")), len(lines))
    head = [line for line in lines[:first_table]
            if not any(re.match(rf"\s*{re.escape(key)}\s*=", line) for key in options)]
    added = [f"{key} = {toml_value(value)}" for key, value in options.items()]
    if added:
        added = ["", "# Kept from the stack this system adopted (watchbot-cfn migrate)", *added]
    tail = lines[first_table:]
    appended: list[str] = []
    for section, items in sections.items():
        for key, item in items.items():
            if key in (data.get(section) or {}):
                continue
            appended += ["", f"[{section}.{_key(key)}]"]
            appended += [f"{_key(name)} = {toml_value(value)}" for name, value in item.items()]
    return "\n".join([*head, *added, *tail, *appended]).rstrip("\n") + "\n"


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key)


def toml_value(value: Any) -> str:
    """One TOML value on one line (inline tables and arrays)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(key)} = {toml_value(item)}" for key, item in value.items()) + " }" \
            if value else "{}"
    raise SourceError("<adoption>", f"cannot write {type(value).__name__} values into TOML")
