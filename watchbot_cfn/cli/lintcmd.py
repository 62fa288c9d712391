"""``watchbot-cfn lint``: lint a rendered template, or render a source and lint that.

A .json/.yaml file is linted as it is when it looks like a CloudFormation
template (a Resources section and no lowercase option keys), so findings keep
the file's own line numbers; anything else is treated as a SOURCE.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from watchbot_cfn.errors import WatchbotError

__all__ = ["is_cloudformation_template", "lint_target"]


def is_cloudformation_template(data: Any) -> bool:
    """Resources present and every top-level key capitalised: not a source of options."""
    return (isinstance(data, dict) and "Resources" in data
            and all(isinstance(key, str) and key[:1].isupper() for key in data))


def lint_target(target: str, regions: tuple[str, ...]) -> list[Any]:
    """Findings (``watchbot_cfn.lint.Finding``) for a template file or a source."""
    from watchbot_cfn.cli.bounds import read_source_text
    from watchbot_cfn.cli.sources import load_source, parse_document, template_from_document

    path = Path(target)
    suffix = path.suffix.lower()
    if suffix in (".json", ".yaml", ".yml") and path.is_file():
        text = read_source_text(target)
        data = parse_document(text, suffix, target)
        subject: Any = text if is_cloudformation_template(data) else template_from_document(data, target)
    else:
        subject = load_source(target)
    return _lint(subject, regions)


def _lint(subject: Any, regions: tuple[str, ...]) -> list[Any]:
    from watchbot_cfn.lint import lint

    try:
        return lint(subject, regions=regions)
    except RuntimeError as error:  # cfn-lint missing
        raise WatchbotError(str(error)) from error
