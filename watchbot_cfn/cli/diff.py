"""``watchbot-cfn diff OLD NEW``: what updating a stack from OLD to NEW would do to each resource.

Offline: no AWS call. Run it before the first upgrade from the original
Watchbot (OLD is the stack's current template, ``aws cloudformation
get-template``), and in CI on every change (``--fail-on-replace`` fails when a
stateful resource would be replaced or deleted).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from watchbot_cfn.cli.arguments import SOURCE_HELP, describe

__all__ = ["add_arguments", "format_changes", "run"]

_ORDER = {"replaced": 0, "removed": 1, "modified": 2, "added": 3}
_MARK = {"replaced": "!", "removed": "-", "modified": "~", "added": "+"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        description="Compare OLD (a template file, such as the stack's current template) with NEW (a template "
                    "file, or a SOURCE rendered first) offline, and list the resources an update would add, "
                    "remove, modify or replace. A resource is replaced when a create-only property changes "
                    "(from the resource schemas cfn-lint ships); Fn::Join, Fn::Sub and Ref spellings of the "
                    "same string compare equal. Stateful resources (queues, topics, log groups, tables, ...) "
                    "are flagged: replacing or deleting one loses what it holds.",
        epilog="Example: aws cloudformation get-template --stack-name my-stack --query TemplateBody "
               "> current.json; watchbot-cfn diff current.json stack.toml --fail-on-replace")
    parser.add_argument("old", metavar="OLD", help="the template the stack has now (.json/.yaml), or a SOURCE")
    parser.add_argument("new", metavar="NEW", help=SOURCE_HELP + "; or a rendered template (.json/.yaml)")
    parser.add_argument("--fail-on-replace", action="store_true",
                        help="exit 1 when a stateful resource would be replaced or deleted")
    parser.add_argument("--region", default="us-east-1", help="region whose resource schemas to read "
                        "(default: us-east-1); with --stack-name, also the value of AWS::Region")
    parser.add_argument("--stack-name", help="resolve AWS::StackName (and AWS::Region to --region) on both sides "
                        "before comparing, so a literal name and its ${AWS::StackName} spelling compare equal")
    parser.add_argument("--account", help="with --stack-name, also resolve AWS::AccountId to this account id")
    parser.add_argument("--json", action="store_true", help="print the changes as JSON lines")


def run(args: argparse.Namespace) -> int:
    from watchbot_cfn.errors import SourceError
    from watchbot_cfn.sources.templatefile import load_template
    from watchbot_cfn.templatediff import compare

    old, new = load_template(args.old), load_template(args.new)
    if args.stack_name:
        from watchbot_cfn.migrate.pseudo import StackPlace, resolved_template

        place = StackPlace(args.stack_name, args.region, args.account)
        old, new = resolved_template(old, place), resolved_template(new, place)
    elif args.account:
        raise SourceError(args.old, "--account resolves AWS::AccountId only together with --stack-name")
    changes = sorted(compare(old, new, args.region), key=lambda c: (_ORDER[c.kind], c.logical_id))
    if args.json:
        for change in changes:
            print(json.dumps({"logical_id": change.logical_id, "change": change.kind, "type": change.type,
                              "properties": list(change.properties), "replaced_by": list(change.replaced_by),
                              "stateful": change.stateful, "loses_state": change.loses_state,
                              "retained": change.retained}))
    else:
        sys.stdout.write(format_changes(changes))
    losing = [change for change in changes if change.loses_state]
    counts = {kind: sum(change.kind == kind for change in changes) for kind in _ORDER}
    summary = ", ".join(f"{count} {kind}" for kind, count in counts.items())
    print(f"{args.old} -> {args.new}: {summary}; {len(losing)} stateful resource(s) replaced or deleted",
          file=sys.stderr)
    return 1 if args.fail_on_replace and losing else 0


def format_changes(changes: list[Any]) -> str:
    """One line per resource: mark, logical id, type, what changes; stateful losses say so."""
    lines = []
    for change in changes:
        detail = ""
        if change.kind == "replaced":
            detail = f" because {', '.join(change.replaced_by)} changed"
        elif change.kind == "modified":
            detail = f": {', '.join(change.properties)}"
        flags = []
        if change.loses_state:
            flags.append("STATEFUL: its data goes" if not change.retained else "STATEFUL: retained, detached")
        elif change.stateful:
            flags.append("stateful")
        suffix = f"  [{'; '.join(flags)}]" if flags else ""
        lines.append(f"{_MARK[change.kind]} {change.logical_id} ({change.type}) {change.kind}{detail}{suffix}")
    if not lines:
        lines.append("no resource changes")
    return "\n".join(lines) + "\n"
