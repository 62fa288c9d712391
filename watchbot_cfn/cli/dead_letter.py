"""``watchbot-dead-letter [COMMAND] --stack-name NAME``: look after a system's dead-letter queue.

Exit codes: 0 done; 1 a user or AWS error (one line on stderr), or messages
the command could not settle (each stays in the dead-letter queue); 2 usage;
130 interrupted with Ctrl-C (every message it held is visible again).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from watchbot_cfn.cli.arguments import AWS_HELP, add_aws_arguments

__all__ = ["main", "build_parser", "COMMANDS"]

PROG = "watchbot-dead-letter"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

COMMANDS = {
    "triage": "one message at a time: show it and its recent log lines, then return it to the work queue, "
              "keep it in the dead-letter queue, delete it, or stop",
    "print": "print every dead message as one JSON line (id, subject, message, receives, sent); all of them "
             "stay in the dead-letter queue",
    "return": "move every dead message back to the work queue (SQS's message-move task where available, else "
              "send-then-delete)",
    "purge": "delete every dead message, after a confirmation unless --yes",
}


def build_parser() -> argparse.ArgumentParser:
    from watchbot_cfn import __version__

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Print, return, purge or triage the dead messages of a Watchbot system. The queues and "
                    "the log group are found from the stack's own resources, so stacks built by the original "
                    "Watchbot and Watchbot 10 work too. " + AWS_HELP,
        epilog="Commands: " + "; ".join(f"{name}: {text}" for name, text in COMMANDS.items())
               + ". Without a command, asks which. Exit codes: 0 done, 1 error or messages left unsettled, "
                 "2 usage, 130 interrupted (nothing is lost: held messages are made visible again). "
                 "See docs/dead-letter.md.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("command", nargs="?", choices=list(COMMANDS), metavar="COMMAND",
                        help="triage, print, return or purge (asked for when left out)")
    parser.add_argument("--stack-name", "-s", required=True, metavar="NAME", help="the CloudFormation stack")
    add_aws_arguments(parser)
    parser.add_argument("--prefix", "-p", metavar="PREFIX",
                        help="which system, when the stack holds several (asked for when left out)")
    parser.add_argument("--yes", "-y", action="store_true", help="purge without asking for confirmation")
    parser.add_argument("--log-lines", type=_log_lines, default=None, metavar="N",
                        help="triage: show at most N log lines per message (default 50)")
    return parser


def _log_lines(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to 10000, got {text!r}") from None
    if not 0 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to 10000, got {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from watchbot_cfn.ops.interrupt import Interrupts

    try:
        with Interrupts() as interrupts:
            return _run(args, interrupts)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; every message this command held is visible in its queue again",
              file=sys.stderr)
        return EXIT_INTERRUPTED


def _run(args: argparse.Namespace, interrupts: Any) -> int:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    from watchbot_cfn.aws.errors import AwsError, client_error_line
    from watchbot_cfn.aws.stacks import PrefixNeeded, StackError, find_systems, pick_system
    from watchbot_cfn.cli.arguments import connect_from
    from watchbot_cfn.ops.deadletter import DeadLetterTool, ToolError
    from watchbot_cfn.ops.logs import DEFAULT_LINES
    from watchbot_cfn.ops.prompt import Prompter

    prompter = Prompter()
    try:
        clients = connect_from(args)
        systems = find_systems(clients.client("cloudformation"), args.stack_name)
        ask = (lambda found: _ask_system(prompter, found)) if prompter.interactive else None
        system = pick_system(systems, args.prefix, ask)
        command = args.command or _ask_command(prompter)
        if command is None:
            return EXIT_OK
        tool = DeadLetterTool(clients.client("sqs"), system, interrupts, prompter, logs=clients.client("logs"),
                              mover=clients.client("sqs", attempts=1))
        if command == "print":
            outcome = tool.print_all()
        elif command == "return":
            outcome = tool.return_all()
        elif command == "purge":
            outcome = tool.purge(confirmed=args.yes)
        else:
            outcome = tool.triage(args.log_lines if args.log_lines is not None else DEFAULT_LINES)
    except PrefixNeeded as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (StackError, ToolError, AwsError, _NoCommand) as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return EXIT_USAGE if isinstance(error, _NoCommand) else EXIT_FAILED
    except NoRegionError:
        print(f"{PROG}: no AWS region: pass --region or set AWS_REGION", file=sys.stderr)
        return EXIT_FAILED
    except NoCredentialsError:
        print(f"{PROG}: no AWS credentials found (environment, ~/.aws, or an instance role)", file=sys.stderr)
        return EXIT_FAILED
    except ClientError as error:
        print(f"{PROG}: {client_error_line(error)}", file=sys.stderr)
        return EXIT_FAILED
    except BotoCoreError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        # `print | head`: the reader has what it wanted, and held messages were released.
        # Point stdout at /dev/null so the interpreter's last flush does not complain.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    for note in outcome.notes:
        print(note, file=sys.stdout if command != "print" else sys.stderr)
    sys.stdout.flush()
    return EXIT_FAILED if outcome.failed else EXIT_OK


class _NoCommand(Exception):
    pass


def _ask_system(prompter: Any, systems: list[Any]) -> Any:
    choices = [(system.prefix, (system.prefix,), f"{system.prefix} ({system.dead_letter_url.rsplit('/', 1)[-1]})")
               for system in systems]
    answer = prompter.choose("This stack holds several Watchbot systems. Which one?", choices)
    if answer is None:
        raise _NoCommand("no system chosen")
    return next(system for system in systems if system.prefix == answer)


def _ask_command(prompter: Any) -> str | None:
    if not prompter.interactive:
        raise _NoCommand("no command given and stdin is not a terminal: give one of " + ", ".join(COMMANDS))
    choices = [(name, (name,), f"{name}: {text}") for name, text in COMMANDS.items()]
    return prompter.choose("What would you like to do?", choices)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
