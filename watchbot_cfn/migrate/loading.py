"""Read the files a migration works on: the old template and the source document, and render a document.

The one place migrate reaches into the source loaders, so the rest of the
package works on plain data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from watchbot_cfn.errors import SourceError

__all__ = ["load_old_template", "load_source", "render_document"]


def load_old_template(path: str) -> dict[str, Any]:
    """A deployed stack's template (JSON or YAML, as ``aws cloudformation get-template`` gives it)."""
    from watchbot_cfn.sources.bounds import read_source_text
    from watchbot_cfn.sources.load import parse_document

    suffix = Path(path).suffix.lower()
    data = parse_document(read_source_text(path), suffix if suffix in (".yaml", ".yml") else ".json", path)
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise SourceError(path, "not a CloudFormation template: it has no Resources")
    return data


def load_source(path: str) -> tuple[dict[str, Any], str]:
    """A data source (TOML, YAML or JSON) as data, and its text."""
    from watchbot_cfn.sources.bounds import read_source_text
    from watchbot_cfn.sources.load import DOCUMENT_SUFFIXES, load_document

    if Path(path).suffix.lower() not in DOCUMENT_SUFFIXES:
        raise SourceError(path, "migrate adopts into a TOML, YAML or JSON source; for Python code, run migrate on "
                                "a source file of the same options and copy the options it adds")
    return load_document(path), read_source_text(path)


def render_document(document: dict[str, Any], origin: str) -> dict[str, Any]:
    """The whole template a source document renders to (the user's own sections merged in)."""
    from watchbot_cfn.sources.load import template_from_document
    from watchbot_cfn.sources.output import ordered_dict

    return ordered_dict(template_from_document(document, origin))
