"""``watchbot-cfn render``: a source to a CloudFormation template on stdout or in a file."""

from __future__ import annotations

import argparse
import sys

from watchbot_cfn.cli.arguments import SOURCE_HELP, describe

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        description="Render SOURCE to a CloudFormation template on stdout or in FILE. Nothing is written "
                    "unless the whole template renders and fits CloudFormation's quotas (500 resources, 200 "
                    "outputs, parameters and mappings, 1,000,000 bytes). What a Python source prints goes to "
                    "stderr.",
        epilog="Examples: watchbot-cfn render examples/minimal.toml > template.json; "
               "watchbot-cfn render app.py:stack --format yaml -o template.yaml")
    parser.add_argument("source", metavar="SOURCE", help=SOURCE_HELP)
    parser.add_argument("--format", "-f", choices=("json", "yaml"), default="json",
                        help="output format (default: json; yaml is long-form, e.g. Fn::Sub)")
    parser.add_argument("--output", "-o", metavar="FILE",
                        help="write to FILE (atomically: a temporary file renamed into place) instead of stdout")


def run(args: argparse.Namespace) -> int:
    from watchbot_cfn.errors import SourceError
    from watchbot_cfn.sources.load import load_source
    from watchbot_cfn.sources.output import render_text, write_atomic
    from watchbot_cfn.sources.quotas import check_quotas, check_size

    template = load_source(args.source)
    check_quotas(template, args.source)
    try:
        text = render_text(template, args.format)
    except (TypeError, ValueError, AttributeError, KeyError) as error:  # troposphere's checks on a Python source
        raise SourceError(args.source, f"cannot render the template: {type(error).__name__}: {error}") from error
    check_size(text, args.source)
    if args.output and args.output != "-":
        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0
