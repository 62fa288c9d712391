"""``watchbot-cfn options``: every option, and the container variables the watcher reads."""

from __future__ import annotations

import argparse
import sys

from watchbot_cfn.cli.arguments import describe

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        description="List every option of a Watchbot system: name, default, original (camelCase) name, "
                    "whether intrinsics are accepted, and what it does.",
        epilog="Regenerate the reference: watchbot-cfn options --markdown > docs/options.md")
    parser.add_argument("--markdown", action="store_true", help="print docs/options.md (Markdown tables)")
    parser.add_argument("--settings", action="store_true",
                        help="print the container variables the template sets and the watcher reads (Markdown)")


def run(args: argparse.Namespace) -> int:
    from watchbot_cfn.docgen import options_markdown, options_text, settings_markdown

    if args.settings:
        sys.stdout.write(settings_markdown() + "\n")
    else:
        import shutil

        width = min(shutil.get_terminal_size((100, 24)).columns, 120) - 1
        sys.stdout.write(options_markdown() if args.markdown else options_text(width))
    return 0
