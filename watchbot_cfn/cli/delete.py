"""``watchbot-cfn delete``: delete a stack after saying what is kept and what is lost, and follow the delete."""

from __future__ import annotations

import argparse
import sys

from watchbot_cfn.cli.arguments import AWS_HELP, add_aws_arguments, add_timeout_argument, connect_from, describe

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from watchbot_cfn.aws.watching import DEFAULT_TIMEOUT

    describe(
        parser,
        description="Delete stack NAME. First a warning lists each resource that holds data (queues and their "
                    "messages, the log group and its logs, the progress table and its items) and whether its "
                    "DeletionPolicy keeps it (Retain), keeps a snapshot (Snapshot) or loses it (Delete, the "
                    "default); then a confirmation unless --yes. The stack's events are followed with the same "
                    "live view as deploy. A failed delete names each resource that stopped it and why, and "
                    "exits 1. " + AWS_HELP,
        epilog="Example: watchbot-cfn delete --stack-name media-resize")
    parser.add_argument("--stack-name", "-n", required=True, metavar="NAME", help="the stack to delete")
    add_aws_arguments(parser)
    parser.add_argument("--yes", "-y", action="store_true",
                        help="delete without asking (the warning is still printed)")
    add_timeout_argument(parser, DEFAULT_TIMEOUT)


def run(args: argparse.Namespace) -> int:
    from watchbot_cfn.aws.deleter import DeleteRequest, delete
    from watchbot_cfn.cli.confirm import confirmer, finish
    from watchbot_cfn.statusline import StatusLine

    aws = connect_from(args)
    out = StatusLine(sys.stdout)
    request = DeleteRequest(stack_name=args.stack_name, yes=args.yes, timeout=args.timeout)
    return finish(args.stack_name, out, lambda: delete(aws, request, out, confirm=confirmer()),
                  "a delete already started", lambda outcome: outcome.detail or outcome.status)
