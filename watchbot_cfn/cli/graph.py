"""``watchbot-cfn graph``: the rendered stack as a diagram, in Mermaid (renders on GitHub) or Graphviz DOT.

Resources are nodes, grouped by the system whose prefix their logical id starts
with (the prefixes come from ``Metadata.WatchbotCfn``; the user's own resources
form a group of their own). An edge ``A --> B`` means A refers to B through
``Ref``, ``Fn::GetAtt`` or ``Fn::Sub``; a dotted edge is a ``DependsOn``.
"""

from __future__ import annotations

import argparse
import sys

from watchbot_cfn.cli.arguments import TEMPLATE_OR_SOURCE_HELP, describe

__all__ = ["add_arguments", "run"]

FORMATS = ("mermaid", "dot")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        description="Render SOURCE (or read a rendered template) and print its resources as a diagram: one "
                    "node per resource, grouped by system; A --> B when A refers to B (Ref, GetAtt, Sub), "
                    "dotted for DependsOn. Mermaid renders in GitHub Markdown (```mermaid blocks); DOT renders "
                    "with Graphviz (dot -Tsvg).",
        epilog="Examples: watchbot-cfn graph examples/minimal.toml; "
               "watchbot-cfn graph template.json --format dot | dot -Tsvg > stack.svg")
    parser.add_argument("source", metavar="SOURCE_OR_TEMPLATE",
                        help=TEMPLATE_OR_SOURCE_HELP)
    parser.add_argument("--format", "-f", choices=FORMATS, default="mermaid", help="diagram language "
                        "(default: mermaid)")


def run(args: argparse.Namespace) -> int:
    from watchbot_cfn.analysis.diagram import to_dot, to_mermaid
    from watchbot_cfn.sources.templatefile import load_template

    template = load_template(args.source)
    sys.stdout.write(to_dot(template) if args.format == "dot" else to_mermaid(template))
    return 0
