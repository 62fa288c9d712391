"""``watchbot-cfn deploy``: render a source and create or update its stack through a change set."""

from __future__ import annotations

import argparse
import sys

from watchbot_cfn.cli.arguments import (
    AWS_HELP,
    SOURCE_HELP,
    add_aws_arguments,
    add_timeout_argument,
    connect_from,
    describe,
)

__all__ = ["add_arguments", "run"]

def add_arguments(parser: argparse.ArgumentParser) -> None:
    from watchbot_cfn.aws.watching import DEFAULT_TIMEOUT

    describe(
        parser,
        description="Render SOURCE and create or update stack NAME through a CloudFormation change set: the "
                    "changes are shown first (resources that would be replaced are marked), applied after a "
                    "confirmation unless --yes, and the stack's events are followed with a live progress line "
                    "until it settles (a line every 30 s without events says how long it has been; --timeout "
                    "stops watching). 'No changes' is success. On failure or rollback the failed resources "
                    "and CloudFormation's reasons are printed and the exit code is 1. " + AWS_HELP,
        epilog="Examples: watchbot-cfn deploy examples/minimal.toml --stack-name media-resize; "
               "watchbot-cfn deploy app.py --stack-name prod --parameter GitSha=$(git rev-parse HEAD) --yes")
    parser.add_argument("source", metavar="SOURCE", help=SOURCE_HELP)
    parser.add_argument("--stack-name", "-n", required=True, metavar="NAME", help="the stack to create or update")
    add_aws_arguments(parser)
    parser.add_argument("--parameter", "-p", action="append", metavar="KEY=VALUE",
                        help="a template parameter's value; repeat for several. Parameters not given keep the "
                             "stack's previous value, or their default")
    parser.add_argument("--yes", "-y", action="store_true", help="apply the changes without asking")
    parser.add_argument("--dry-run", action="store_true",
                        help="show the changes, then delete the change set without applying it")
    parser.add_argument("--s3-bucket", metavar="BUCKET",
                        help="upload the template to BUCKET first; needed when it exceeds CloudFormation's "
                             "51,200-byte limit for an inline template (up to 1 MB this way)")
    add_timeout_argument(parser, DEFAULT_TIMEOUT)


def run(args: argparse.Namespace) -> int:
    from watchbot_cfn.aws.deployer import DeployRequest, deploy
    from watchbot_cfn.aws.parameters import parse_assignments
    from watchbot_cfn.cli.confirm import confirmer, finish
    from watchbot_cfn.sources.load import load_source
    from watchbot_cfn.sources.output import ordered_dict
    from watchbot_cfn.statusline import StatusLine

    parameters = parse_assignments(args.parameter)
    template = ordered_dict(load_source(args.source))
    aws = connect_from(args)
    out = StatusLine(sys.stdout)
    request = DeployRequest(stack_name=args.stack_name, template=template, parameters=parameters,
                            yes=args.yes, dry_run=args.dry_run, s3_bucket=args.s3_bucket,
                            timeout=args.timeout)
    return finish(args.stack_name, out, lambda: deploy(aws, request, out, confirm=confirmer()),
                  "an operation already started", lambda outcome: f"{outcome.describe()} ({outcome.status})")
