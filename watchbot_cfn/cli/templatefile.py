"""Read a template for the commands that look at one (graph, simulate, diff): a rendered file, or a SOURCE rendered."""

from __future__ import annotations

from typing import Any

__all__ = ["load_template"]


def load_template(target: str) -> dict[str, Any]:
    """A rendered template file as it is, or any SOURCE rendered."""
    from pathlib import Path

    from watchbot_cfn.cli.bounds import read_source_text
    from watchbot_cfn.cli.lintcmd import is_cloudformation_template
    from watchbot_cfn.cli.render import ordered_dict
    from watchbot_cfn.cli.sources import load_source, parse_document, template_from_document

    path = Path(target)
    suffix = path.suffix.lower()
    if suffix in (".json", ".yaml", ".yml") and path.is_file():
        data = parse_document(read_source_text(target), suffix, target)
        if is_cloudformation_template(data):
            return data
        return ordered_dict(template_from_document(data, target))
    return ordered_dict(load_source(target))
