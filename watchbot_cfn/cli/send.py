"""``watchbot-cfn send``: put work on a stack's queue, the way producers do.

A standard system is fed by its SNS topic, so messages are published there
(with ``--subject``); a FIFO system has no topic, so they go straight to its
queue with ``--group-id`` and a fresh deduplication id each, so two equal
lines are two jobs. Messages come from the arguments, or one per line from a
file or standard input (blank lines are skipped). They are sent in batches of
ten; the message id of each is printed, and any that was refused is named with
its line and reason (exit 1), so nothing is lost silently.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from watchbot_cfn.cli.arguments import AWS_HELP, add_aws_arguments, connect_from, describe
from watchbot_cfn.errors import WatchbotError

__all__ = ["add_arguments", "read_messages", "run", "send_messages"]

BATCH = 10
#: SNS takes at most 256 KiB per message; SQS 1 MiB (the watcher handles both).
TOPIC_LIMIT = 256 * 1024
QUEUE_LIMIT = 1024 * 1024


class SendError(WatchbotError):
    pass


@dataclass(frozen=True)
class Outgoing:
    origin: str  # "argument 2", "line 14 of jobs.txt"
    body: str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        description="Send each MESSAGE (or each line of --file, or of standard input with '-') to the work "
                    "topic of stack NAME, or to its queue for a FIFO system (then --group-id is required). "
                    "Blank lines are skipped. Prints each message id; exits 1 naming any message that was "
                    "not accepted. " + AWS_HELP,
        epilog="Examples: watchbot-cfn send --stack-name local --endpoint-url http://127.0.0.1:5959 'resize 42'; "
               "seq 100 | watchbot-cfn send --stack-name prod --subject batch -")
    parser.add_argument("messages", nargs="*", metavar="MESSAGE", help="message bodies; '-' reads standard input")
    parser.add_argument("--stack-name", "-n", required=True, metavar="NAME", help="the stack holding the system")
    parser.add_argument("--prefix", metavar="PREFIX", help="which system, when the stack holds several")
    parser.add_argument("--file", "-f", metavar="FILE", help="read messages from FILE, one per line")
    parser.add_argument("--subject", "-s", metavar="SUBJECT", help="SNS subject (standard systems; the worker "
                        "sees it as $Subject)")
    parser.add_argument("--group-id", "-g", metavar="GROUP", help="message group id (FIFO systems; messages of "
                        "one group are processed in order)")
    add_aws_arguments(parser)


def read_messages(arguments: list[str], file: str | None, stdin: Any) -> list[Outgoing]:
    """Messages from arguments, a file or standard input ('-'); blank lines skipped."""
    sources = [bool(file), arguments == ["-"], bool(arguments) and arguments != ["-"]]
    if sum(sources) > 1 or (("-" in arguments) and arguments != ["-"]):
        raise SendError("give messages as arguments, or --file FILE, or '-' for standard input: one of them")
    if file:
        try:
            with open(file, encoding="utf-8") as stream:
                return list(_lines(stream, f"of {file}"))
        except OSError as error:
            raise SendError(f"--file: {file}: {error.strerror or error}") from None
        except UnicodeDecodeError:
            raise SendError(f"--file: {file}: not UTF-8 text") from None
    if arguments == ["-"]:
        return list(_lines(stdin, "of standard input"))
    messages = [Outgoing(f"argument {index}", body) for index, body in enumerate(arguments, 1) if body.strip()]
    if not messages:
        raise SendError("no messages: give MESSAGE arguments, --file FILE, or '-' to read standard input")
    return messages


def _lines(stream: Iterable[str], where: str) -> Iterator[Outgoing]:
    for number, line in enumerate(stream, 1):
        body = line.rstrip("\r\n")
        if body.strip():
            yield Outgoing(f"line {number} {where}", body)


def run(args: argparse.Namespace) -> int:
    from watchbot_cfn.aws.clients import aws_errors
    from watchbot_cfn.aws.stacks import find_systems, pick_system

    messages = read_messages(list(args.messages), args.file, sys.stdin)
    if not messages:
        raise SendError("no messages: the input holds only blank lines")
    aws = connect_from(args)
    with aws_errors(f"stack {args.stack_name}", aws.where()):
        systems = find_systems(aws.client("cloudformation"), args.stack_name)
    system = pick_system(systems, args.prefix)
    if system.fifo:
        if not args.group_id:
            raise SendError(f"stack {args.stack_name}: system {system.prefix} is FIFO: give --group-id GROUP")
        if args.subject:
            raise SendError(f"--subject: system {system.prefix} is FIFO and has no topic to carry a subject")
    else:
        if args.group_id:
            raise SendError(f"--group-id: system {system.prefix} is not FIFO; group ids apply to FIFO systems")
        if not system.topic_arn:
            raise SendError(f"stack {args.stack_name}: system {system.prefix} has no work topic")
    target = system.queue_url if system.fifo else str(system.topic_arn)
    limit = QUEUE_LIMIT if system.fifo else TOPIC_LIMIT
    for message in messages:
        size = len(message.body.encode("utf-8"))
        if size > limit:
            raise SendError(f"{message.origin}: {size:,} bytes; at most {limit:,} fit in one message; nothing sent")
    sent, refused = send_messages(aws, target, system.fifo, messages, args.subject, args.group_id)
    for message_id in sent:
        print(message_id)
    where = "queue" if system.fifo else "topic"
    print(f"sent {len(sent)} of {len(messages)} messages to the {where} of {system.prefix} in stack "
          f"{args.stack_name}: {target}", file=sys.stderr)
    if sent:
        print("the ids above are the ones the watcher's log lines name" if system.fifo else
              "the ids above are SNS message ids: the watcher logs 'from SNS message <id>' under the SQS message "
              "id that names the job's other lines", file=sys.stderr)
    for origin, reason in refused:
        print(f"  not sent: {origin}: {reason}", file=sys.stderr)
    if refused:
        print(f"watchbot-cfn: error: {len(refused)} message(s) not sent; listed above", file=sys.stderr)
        return 1
    return 0


def send_messages(aws: Any, target: str, fifo: bool, messages: list[Outgoing], subject: str | None,
                  group_id: str | None) -> tuple[list[str], list[tuple[str, str]]]:
    """Send in batches; returns (message ids in order, [(origin, reason)] of those refused)."""
    import uuid

    from watchbot_cfn.aws.clients import AwsError, aws_errors

    sent: list[str] = []
    refused: list[tuple[str, str]] = []
    client = aws.client("sqs" if fifo else "sns")
    for start in range(0, len(messages), BATCH):
        batch = messages[start:start + BATCH]
        entries = []
        for index, message in enumerate(batch):
            entry: dict[str, Any] = {"Id": str(index)}
            if fifo:
                entry.update(MessageBody=message.body, MessageGroupId=group_id,
                             MessageDeduplicationId=uuid.uuid4().hex)
            else:
                entry["Message"] = message.body
                if subject:
                    entry["Subject"] = subject
            entries.append(entry)
        try:
            with aws_errors(f"sending to {target}", aws.where()):
                if fifo:
                    answer = client.send_message_batch(QueueUrl=target, Entries=entries)
                else:
                    answer = client.publish_batch(TopicArn=target, PublishBatchRequestEntries=entries)
        except AwsError as error:  # this batch and the rest are not sent; say which
            refused.extend((message.origin, str(error)) for message in messages[start:])
            break
        ids = {item["Id"]: item["MessageId"] for item in answer.get("Successful", ())}
        reasons = {item["Id"]: f"{item.get('Code', 'error')}: {item.get('Message', '')}".strip(": ")
                   for item in answer.get("Failed", ())}
        for index, message in enumerate(batch):
            key = str(index)
            if key in ids:
                sent.append(ids[key])
            else:
                refused.append((message.origin, reasons.get(key, "no answer for this message")))
    return sent, refused
