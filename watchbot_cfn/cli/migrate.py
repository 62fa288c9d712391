"""``watchbot-cfn migrate SOURCE (--template OLD --stack-name NAME --region R | --from-stack NAME)``.

Pairs every stateful resource of the old stack (a Watchbot 10 CDK stack, a
Watchbot 9 stack, a CDK QueueProcessingFargateService) with the system SOURCE
renders, writes the adoption options into the source (``-o``; without it, a
diff of the source on stdout), and proves offline that the update replaces or
deletes no stateful resource. ``--execute`` then updates the deployed stack:
pre-checks, a change set refused on any stateful Replacement or Remove, the
update with deploy's live view, post-checks. What it drops, what stays yours,
what it refuses and what it checked go to stderr, one line each.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from typing import Any

from watchbot_cfn.cli.arguments import AWS_HELP, add_aws_arguments, connect_from, describe

__all__ = ["HELP", "add_arguments", "run"]

HELP = "adopt a stack built by Watchbot 10 (or 9) in place: keep its queues, topic, logs, table"
FARGATE = ("FARGATE", "FARGATE_SPOT")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    describe(parser, (
        "Pair every stateful resource of the old stack with the system SOURCE renders, by type and physical name "
        "once AWS::StackName, AWS::Region and AWS::AccountId are resolved, and write the adoption options "
        "(logical_ids, resource_names, generated_names, topic_subscription, exports) into the source, so later "
        "render, diff and deploy keep what the stack holds. Refuses, naming the option to set, when a stateful "
        "resource cannot be paired; lists what it drops (the scaling Lambda, its rule and role, CDK's metadata "
        "and bootstrap rule) and the resources of yours it keeps. With --from-stack and --execute, also updates "
        "the stack: pre-checks, a change set refused if a stateful resource shows Replacement or Remove, the "
        "update, post-checks. " + AWS_HELP),
        "Example: aws cloudformation get-template --stack-name my-stack --query TemplateBody > old.json; "
        "watchbot-cfn migrate stack.toml --template old.json --stack-name my-stack --region us-east-1 -o stack.toml")
    parser.add_argument("source", metavar="SOURCE",
                        help="the TOML, YAML or JSON source of the system that takes over the stack")
    old = parser.add_mutually_exclusive_group(required=True)
    old.add_argument("--template", metavar="OLD", help="the stack's current template (.json/.yaml)")
    old.add_argument("--from-stack", metavar="NAME", help="read the template of the deployed stack NAME")
    parser.add_argument("--stack-name", help="with --template: the stack's name (resolves AWS::StackName)")
    add_aws_arguments(parser)  # --region: also the stack's region, which resolves AWS::Region
    parser.add_argument("--account", help="the stack's account id (resolves AWS::AccountId; with --from-stack, "
                                          "read from the stack)")
    parser.add_argument("--output", "-o", metavar="FILE",
                        help="write the adopted source to FILE (may be SOURCE itself) instead of printing a diff")
    parser.add_argument("--json", action="store_true", help="print the adoption options as JSON instead")
    parser.add_argument("--execute", action="store_true",
                        help="with --from-stack: update the stack to the adopted source, with checks before and "
                             "after")
    parser.add_argument("--canary", metavar="MESSAGE",
                        help="with --execute: after the post-checks, send MESSAGE to the work topic (or FIFO "
                             "queue), as `send` would, for the new service to run")


def run(args: argparse.Namespace) -> int:
    from watchbot_cfn.errors import SourceError
    from watchbot_cfn.migrate.loading import load_old_template, load_source, render_document
    from watchbot_cfn.migrate.plan import plan
    from watchbot_cfn.migrate.pseudo import StackPlace

    data, text = load_source(args.source)
    as_written = json.loads(json.dumps(data))  # what the source says, before the stack fills anything in
    aws: Any = None
    live: Any = None
    if args.from_stack:
        from watchbot_cfn.migrate.live import read_stack

        aws = connect_from(args)
        live = read_stack(aws, args.from_stack)
        old = live.template
        place = StackPlace(args.from_stack, aws.region, args.account or live.account)
        _fill_network(aws, live, data)
    else:
        if args.execute:
            raise SourceError(args.source, "--execute updates a deployed stack: give --from-stack NAME")
        if not args.stack_name or not args.region:
            raise SourceError(args.template, "--template needs --stack-name and --region to resolve the "
                                             "stack's names")
        old = load_old_template(args.template)
        place = StackPlace(args.stack_name, args.region, args.account)
    origin = args.template or f"stack {args.from_stack}"
    result = plan(data, args.source, old, place, render_document)
    for line in result.dropped:
        _say(f"drops {line}")
    for key in result.kept:
        _say(f"keeps {key}: yours, outside the construct, verbatim")
    for line in result.notes:
        _say(f"note: {line}")
    if result.refusals:
        for refusal in result.refusals:
            _say(f"refused ({refusal.option}): {refusal.line}")
        return 1
    if result.nothing_to_adopt:
        _say(f"nothing to adopt: every stateful resource of {origin} already pairs with {args.source} by logical "
             "id and name")
    for change in result.losses_after:
        _say(f"refused: {change.logical_id} ({change.type}) would still be {change.kind}")
    for clash in result.clashes:
        _say(f"refused: {clash}")
    if not result.safe:
        return 1
    _write(args, text, as_written, result)
    _say(f"{len(result.pairs)} stateful resource(s) kept in place ({', '.join(sorted(result.pairs))}); "
         f"stateful resources replaced or deleted: {len(result.losses_before)} before, {len(result.losses_after)} "
         "after adoption")
    if not args.execute:
        return 0
    from watchbot_cfn.migrate.execute import run_migration
    from watchbot_cfn.statusline import StatusLine

    template = render_document(result.document, args.source)
    return run_migration(aws, live, result, template, result.service_id, StatusLine(sys.stdout), _say,
                         canary=args.canary)


def _fill_network(aws: Any, live: Any, data: dict[str, Any]) -> None:
    """Fargate subnets and security groups from the running service, when the source does not give them."""
    if data.get("capacity") not in FARGATE or data.get("fargate_subnets"):
        return
    from watchbot_cfn.migrate.live import service_network

    network = service_network(aws, live)
    if network is None or not network[0]:
        return
    data["fargate_subnets"] = network[0]
    if network[1] and not data.get("fargate_security_groups"):
        data["fargate_security_groups"] = network[1]
    groups = ", ".join(network[1]) or "none of its own: the VPC's default group"
    _say(f"pre-check: Fargate subnets {', '.join(network[0])} and security groups {groups}, read from the "
         "running service")


def _write(args: argparse.Namespace, text: str, data: dict[str, Any], result: Any) -> None:
    from watchbot_cfn.migrate.adopted import adopted_text

    new_text = adopted_text(args.source, text, data, result.document)
    if args.json:
        print(json.dumps(result.options, indent=2))
    elif args.output and args.output != "-":
        from watchbot_cfn.sources.output import write_atomic

        write_atomic(args.output, new_text)
    elif new_text != text:
        sys.stdout.writelines(difflib.unified_diff(text.splitlines(keepends=True), new_text.splitlines(keepends=True),
                                                   args.source, f"{args.source} (adopted)"))


def _say(line: str) -> None:
    print(f"migrate: {line}", file=sys.stderr)
