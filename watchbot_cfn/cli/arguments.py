"""Arguments and help text several commands share, so each says them the same way."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["AWS_HELP", "SOURCE_HELP", "TEMPLATE_OR_SOURCE_HELP", "add_aws_arguments", "add_timeout_argument",
           "connect_from", "describe"]

SOURCE_HELP = (
    "a .toml, .yaml/.yml or .json file of options (one system, or a 'systems' list, plus your own "
    "CloudFormation sections), a Python file (app.py or app.py:attr) or module:attr whose attribute is a "
    "Template or a function returning one (default attribute: template)"
)
TEMPLATE_OR_SOURCE_HELP = SOURCE_HELP + "; or a rendered CloudFormation template (.json/.yaml)"

AWS_HELP = ("AWS is reached as AWS's own CLI does: --region, else AWS_REGION, else AWS_DEFAULT_REGION, else the "
            "profile's region; --profile, else AWS_PROFILE; credentials from the standard chain; --endpoint-url "
            "or AWS_ENDPOINT_URL point at another endpoint, such as the one `watchbot-cfn local` prints (a "
            "loopback endpoint needs no region or credentials).")


def describe(parser: argparse.ArgumentParser, description: str, epilog: str | None = None,
             formatter_class: Any = None) -> None:
    """Set a command's long help; the one-line help lives in the command table of ``cli.main``."""
    parser.description = description
    parser.epilog = epilog
    if formatter_class is not None:
        parser.formatter_class = formatter_class


def add_aws_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", "-r", metavar="REGION",
                        help="AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION, then the profile's)")
    parser.add_argument("--endpoint-url", metavar="URL",
                        help="send every AWS call to URL instead of AWS (default: $AWS_ENDPOINT_URL)")
    parser.add_argument("--profile", metavar="NAME", help="AWS profile to use (default: $AWS_PROFILE)")


def connect_from(args: argparse.Namespace) -> Any:
    """The AWS session the command line asks for (``watchbot_cfn.aws.clients.connect``)."""
    from watchbot_cfn.aws.clients import connect

    return connect(args.region, args.endpoint_url, getattr(args, "profile", None))


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"got {text!r}; expected a number of seconds greater than 0")
    return value


def add_timeout_argument(parser: argparse.ArgumentParser, default: float) -> None:
    """``--timeout SECONDS`` of the stack commands' event wait (``deploy``, ``delete``)."""
    parser.add_argument("--timeout", type=_seconds, default=default, metavar="SECONDS",
                        help=f"stop watching the stack's events after SECONDS (default: {default:g}, "
                             f"{default / 60:g} minutes); CloudFormation carries on, and the message says how to "
                             "keep watching or cancel")
