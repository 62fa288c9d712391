"""``watchbot-cfn lint``: lint a rendered template, or render a source and lint that.

A .json/.yaml file is linted as it is when it looks like a CloudFormation
template (a Resources section and no lowercase option keys), so findings keep
the file's own line numbers; anything else is treated as a SOURCE.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from watchbot_cfn.cli.arguments import describe
from watchbot_cfn.errors import WatchbotError

__all__ = ["add_arguments", "lint_target", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        description="Lint a CloudFormation template (.json/.yaml) or render a source first and lint the "
                    "result, with cfn-lint in-process. Prints one finding per line; exits 1 on any error "
                    "or warning. Needs the 'lint' extra: pip install 'watchbot-cfn[lint]'.")
    parser.add_argument("target", metavar="FILE_OR_SOURCE",
                        help="a rendered CloudFormation template, or any SOURCE that render accepts")
    parser.add_argument("--region", "-r", action="append", metavar="REGION",
                        help="region to check resource types against; repeat for several (default: us-east-1)")


def run(args: argparse.Namespace) -> int:
    regions = tuple(region for value in (args.region or ["us-east-1"]) for region in value.split(",") if region)
    findings = lint_target(args.target, regions)
    for finding in findings:
        print(finding)
    failing = [f for f in findings if f.level in ("error", "warning")]
    summary = f"{args.target}: {len(failing)} errors and warnings, {len(findings) - len(failing)} other findings"
    print(summary, file=sys.stderr)
    return 1 if failing else 0


def lint_target(target: str, regions: tuple[str, ...]) -> list[Any]:
    """Findings (``watchbot_cfn.lint.Finding``) for a template file or a source."""
    from watchbot_cfn.sources.bounds import read_source_text
    from watchbot_cfn.sources.load import load_source, parse_document, template_from_document
    from watchbot_cfn.sources.templatefile import is_cloudformation_template

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
