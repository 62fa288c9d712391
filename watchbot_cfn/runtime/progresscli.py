"""``watchbot-progress <command> <job-id>``: reduce mode's progress records from a shell.

The commands, options and output of ``@mapbox/watchbot-progress``'s command,
so shell workers written for the original keep working: ``status`` prints the
status object as JSON, ``complete-part`` prints ``true`` or ``false`` (whether
this call finished the whole job), the other commands print nothing.

Exit codes: 0 when the command did what it says (``complete-part`` exits 0
for both answers, so ``done=$(watchbot-progress complete-part ...)`` works
under ``set -e``), 1 when the table refused it or could not be reached (one
line on stderr), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from watchbot_cfn import contract

__all__ = ["main", "build_parser"]

PROG = "watchbot-progress"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, 1 or more, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number, 1 or more, got {text!r}")
    return value


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"must be JSON ({error}), got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    from watchbot_cfn import __version__

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Track the parts of a map-reduce job in the progress table of a reduce-mode Watchbot system.",
        epilog=f"The table comes from ${contract.ENV_PROGRESS_TABLE} (its ARN; reduce mode sets it in the "
               "container) unless --table is given. Exit codes: 0 done (complete-part prints true or false "
               "and exits 0 either way), 1 the table refused or could not be reached, 2 usage. "
               "See docs/reduce-mode.md.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--table", metavar="ARN_OR_NAME",
                        help=f"the progress table's ARN or name (default: ${contract.ENV_PROGRESS_TABLE})")
    parser.add_argument("--region", metavar="REGION",
                        help="the table's region (default: the ARN's, then $AWS_REGION, $AWS_DEFAULT_REGION, the "
                             "profile's)")
    parser.add_argument("--endpoint-url", metavar="URL",
                        help="send every call to URL (default: $DynamoDbEndpoint, then $AWS_ENDPOINT_URL)")
    parser.add_argument("--profile", metavar="NAME", help="AWS profile to use (default: $AWS_PROFILE)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".")
        sub.add_argument("job_id", metavar="JOB_ID", help="the map-reduce job's identifier")
        return sub

    status = command("status", "print the job's status as JSON: progress, failed, metadata, partComplete, "
                               "reduceSent")
    status.add_argument("--part", "-p", type=_positive, metavar="N",
                        help="also say whether part N is complete (partComplete)")
    set_total = command("set-total", "record how many parts the job has (parts 1 to N are then to do)")
    set_total.add_argument("--total", "-t", type=_positive, required=True, metavar="N")
    set_metadata = command("set-metadata", "store a JSON value with the job; status shows it")
    set_metadata.add_argument("--metadata", "-m", type=_json, required=True, metavar="JSON")
    complete = command("complete-part", "mark part N done; prints true if this call finished the whole job, "
                                        "else false")
    complete.add_argument("--part", "-p", type=_positive, required=True, metavar="N")
    complete.add_argument("--token", metavar="TEXT",
                          help="identifies this completion, e.g. \"$MessageId\": repeating it after a crash "
                               "prints true again until reduce-sent is recorded")
    fail = command("fail-job", "mark the job failed, with the reason")
    fail.add_argument("--reason", "-r", required=True, metavar="TEXT")
    command("reduce-sent", "record that the reduce message has been sent")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    from botocore.exceptions import BotoCoreError, ClientError, NoRegionError, ProfileNotFound

    from watchbot_cfn.runtime.progress import Progress, ProgressError

    try:
        progress = Progress(args.table, region=args.region, endpoint_url=args.endpoint_url, profile=args.profile)
        output = run(progress, args)
    except ProgressError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return EXIT_FAILED
    except ClientError as error:
        detail = error.response.get("Error", {})
        print(f"{PROG}: {args.command} {args.job_id}: {detail.get('Code', 'error')}: {detail.get('Message', error)}",
              file=sys.stderr)
        return EXIT_FAILED
    except NoRegionError:
        print(f"{PROG}: no AWS region: give the table's ARN (it names the region), --region, or set AWS_REGION or "
              "AWS_DEFAULT_REGION", file=sys.stderr)
        return EXIT_FAILED
    except ProfileNotFound as error:
        print(f"{PROG}: --profile: {error}", file=sys.stderr)
        return EXIT_FAILED
    except BotoCoreError as error:
        print(f"{PROG}: {args.command} {args.job_id}: {error}", file=sys.stderr)
        return EXIT_FAILED
    if output is not None:
        print(output)
    return EXIT_OK


def run(progress: Any, args: argparse.Namespace) -> str | None:
    """Carry out one parsed command; returns what to print, if anything."""
    job = args.job_id
    if args.command == "status":
        return json.dumps(progress.status(job, args.part), separators=(",", ":"))
    if args.command == "set-total":
        progress.set_total(job, args.total)
    elif args.command == "set-metadata":
        progress.set_metadata(job, args.metadata)
    elif args.command == "complete-part":
        return json.dumps(progress.complete_part(job, args.part, token=args.token))
    elif args.command == "fail-job":
        progress.fail_job(job, args.reason)
    elif args.command == "reduce-sent":
        progress.reduce_sent(job)
    return None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
