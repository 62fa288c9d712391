"""``watchbot-cfn migrate SOURCE --template OLD --stack-name NAME --region R``: take over a stack in place.

Pairs every stateful resource of OLD (a Watchbot 10 CDK stack, a Watchbot 9
stack, a CDK QueueProcessingFargateService) with the system SOURCE renders,
writes the adoption options into the source (``-o``; without it, a diff of the
source on stdout), and proves offline that the update replaces or deletes no
stateful resource. What it drops, what stays yours and what it refuses go to
stderr, one line each.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys

__all__ = ["HELP", "add_arguments", "run"]

HELP = "adopt a stack built by Watchbot 10 (or 9) in place: keep its queues, topic, logs and table"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Pair every stateful resource of OLD (the stack's current template) with the system SOURCE renders, "
        "by type and physical name once AWS::StackName, AWS::Region and AWS::AccountId are resolved, and write "
        "the adoption options (logical_ids, resource_names, generated_names, topic_subscription, exports) into "
        "the source, so later render, diff and deploy keep what the stack holds. Refuses, naming the option to "
        "set, when a stateful resource cannot be paired; lists what it drops (the scaling Lambda, its rule and "
        "role, CDK's metadata and bootstrap rule) and the resources of yours it keeps.")
    parser.epilog = ("Example: aws cloudformation get-template --stack-name my-stack --query TemplateBody > old.json;"
                     " watchbot-cfn migrate stack.toml --template old.json --stack-name my-stack --region us-east-1 "
                     "-o stack.toml")
    parser.add_argument("source", metavar="SOURCE", help="the TOML, YAML or JSON source of the system that takes "
                                                         "over the stack")
    parser.add_argument("--template", metavar="OLD", required=True,
                        help="the stack's current template (.json/.yaml)")
    parser.add_argument("--stack-name", required=True, help="the stack's name (resolves AWS::StackName)")
    parser.add_argument("--region", required=True, help="the stack's region (resolves AWS::Region)")
    parser.add_argument("--account", help="the stack's account id (resolves AWS::AccountId when given)")
    parser.add_argument("--output", "-o", metavar="FILE",
                        help="write the adopted source to FILE (may be SOURCE itself) instead of printing a diff")
    parser.add_argument("--json", action="store_true", help="print the adoption options as JSON instead")


def run(args: argparse.Namespace) -> int:
    from watchbot_cfn.migrate.adopted import adopted_text
    from watchbot_cfn.migrate.loading import load_old_template, load_source, render_document
    from watchbot_cfn.migrate.plan import plan
    from watchbot_cfn.migrate.pseudo import StackPlace

    old = load_old_template(args.template)
    data, text = load_source(args.source)
    place = StackPlace(args.stack_name, args.region, args.account)
    result = plan(data, args.source, old, place, render_document)
    say = _say
    for line in result.dropped:
        say(f"drops {line}")
    for key in result.kept:
        say(f"keeps {key}: yours, outside the construct, verbatim")
    for line in result.notes:
        say(f"note: {line}")
    if result.refusals:
        for refusal in result.refusals:
            say(f"refused ({refusal.option}): {refusal.line}")
        return 1
    if result.nothing_to_adopt:
        say(f"nothing to adopt: every stateful resource of {args.template} already pairs with {args.source} by "
            "logical id and name")
    for change in result.losses_after:
        say(f"refused: {change.logical_id} ({change.type}) would still be {change.kind}")
    for clash in result.clashes:
        say(f"refused: {clash}")
    if not result.safe:
        return 1
    new_text = adopted_text(args.source, text, data, result.document)
    if args.json:
        print(json.dumps(result.options, indent=2))
    elif args.output and args.output != "-":
        from watchbot_cfn.sources.output import write_atomic

        write_atomic(args.output, new_text)
    elif new_text != text:
        sys.stdout.writelines(difflib.unified_diff(text.splitlines(keepends=True), new_text.splitlines(keepends=True),
                                                   args.source, f"{args.source} (adopted)"))
    say(f"{len(result.pairs)} stateful resource(s) kept in place ({', '.join(sorted(result.pairs))}); "
        f"stateful resources replaced or deleted: {len(result.losses_before)} before, {len(result.losses_after)} "
        "after adoption")
    return 0


def _say(line: str) -> None:
    print(f"migrate: {line}", file=sys.stderr)
