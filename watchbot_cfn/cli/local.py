"""``watchbot-cfn local``: the whole pipeline on this machine, with no AWS account.

Starts moto's server as the AWS endpoint, deploys the rendered template to it,
starts one real watcher per system with the environment its task definition
gives the container, and shows live counts (visible, in flight, dead-letter,
succeeded, failed) under the watcher's log lines until Ctrl-C. Ctrl-C lets
running jobs drain as SIGTERM would on ECS (a second Ctrl-C stops them at
once), then stops the watcher and the endpoint and removes the run's private
directory: nothing keeps running, and the exit code is 0.
"""

from __future__ import annotations

import argparse
import sys

from watchbot_cfn.cli.arguments import SOURCE_HELP, describe

__all__ = ["DEFAULT_PORT", "DEFAULT_STACK", "add_arguments", "run"]

DEFAULT_PORT = 5959
DEFAULT_STACK = "local"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        description="Run SOURCE's whole pipeline on this machine with no AWS account: start moto's server as "
                    "the AWS endpoint on PORT, deploy the rendered template there as stack NAME, run the "
                    "watcher with the template's command and settings (concurrency, visibility, retries and "
                    "backoff, dead-letter threshold, FIFO), and show visible / in flight / dead-letter / "
                    "succeeded / failed counts live. Send work with `watchbot-cfn send`. Task volumes (/tmp by "
                    "default) are mapped to a private directory of the run, which TMPDIR points at; the command "
                    "runs in the current directory. Ctrl-C stops everything (exit 0). Needs the 'local' extra: "
                    "pip install 'watchbot-cfn[local]'.",
        epilog=f"Example: watchbot-cfn local examples/minimal.toml, then in another terminal: watchbot-cfn send "
               f"--stack-name {DEFAULT_STACK} --endpoint-url http://127.0.0.1:{DEFAULT_PORT} 'hello'")
    parser.add_argument("source", metavar="SOURCE", help=SOURCE_HELP)
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, metavar="PORT",
                        help=f"loopback port of the local AWS endpoint (default: {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--stack-name", "-n", default=DEFAULT_STACK, metavar="NAME",
                        help=f"name of the local stack (default: {DEFAULT_STACK})")
    parser.add_argument("--parameter", "-p", action="append", metavar="KEY=VALUE",
                        help="a template parameter's value; parameters without a default and not given get "
                             "a placeholder ('local', or 1 for numbers)")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}; expected a port number from 0 to 65535") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"got {value}; expected a port number from 0 to 65535")
    return value


def run(args: argparse.Namespace) -> int:
    from watchbot_cfn.analysis.systems import system_prefixes
    from watchbot_cfn.aws.deployer import check_stack_name
    from watchbot_cfn.aws.parameters import parse_assignments
    from watchbot_cfn.local.endpoint import LocalError, require_moto
    from watchbot_cfn.sources.load import load_source
    from watchbot_cfn.sources.output import ordered_dict
    from watchbot_cfn.statusline import StatusLine

    require_moto()
    check_stack_name(args.stack_name)
    parameters = parse_assignments(args.parameter)
    template = ordered_dict(load_source(args.source))
    prefixes = system_prefixes(template)
    if not prefixes:
        raise LocalError(f"{args.source}: the template holds no Watchbot system")
    from watchbot_cfn.local.pipeline import LocalRun

    return LocalRun(template, prefixes, args.stack_name, args.port, parameters, StatusLine(sys.stdout)).run()
