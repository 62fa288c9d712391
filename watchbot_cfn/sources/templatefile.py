"""Read a template for the commands that look at one (lint, graph, simulate, diff): a rendered file, or a SOURCE
rendered."""

from __future__ import annotations

from typing import Any

__all__ = ["is_cloudformation_template", "load_template"]


def is_cloudformation_template(data: Any) -> bool:
    """Resources present and every top-level key capitalised: not a source of options."""
    return (isinstance(data, dict) and "Resources" in data
            and all(isinstance(key, str) and key[:1].isupper() for key in data))


def load_template(target: str) -> dict[str, Any]:
    """A rendered template file as it is, or any SOURCE rendered."""
    from pathlib import Path

    from watchbot_cfn.sources.bounds import read_source_text
    from watchbot_cfn.sources.load import load_source, parse_document, template_from_document
    from watchbot_cfn.sources.output import ordered_dict

    path = Path(target)
    suffix = path.suffix.lower()
    if suffix in (".json", ".yaml", ".yml") and path.is_file():
        data = parse_document(read_source_text(target), suffix, target)
        if is_cloudformation_template(data):
            return data
        return ordered_dict(template_from_document(data, target))
    return ordered_dict(load_source(target))
