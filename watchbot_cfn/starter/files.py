"""The texts of a new project: each function returns one file's content for the choices made."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["LANGUAGES", "Choices", "dockerfile", "project_name", "source", "worker", "worker_file"]

LANGUAGES = ("sh", "python")


@dataclass(frozen=True)
class Choices:
    """What the person asked for: the service's name, FIFO or standard, reduce mode, the worker's language."""

    name: str
    fifo: bool = False
    reduce: bool = False
    language: str = "sh"


def project_name(directory_name: str) -> str:
    """An ECS service name (lowercase letters, digits, '.', '_', '-') from the directory's name."""
    name = re.sub(r"[^a-z0-9._-]+", "-", directory_name.lower()).strip("-._")
    return name[:100] if name and name[0].isalnum() else "my-worker"


def worker_file(choices: Choices) -> str:
    return "worker.py" if choices.language == "python" else "worker.sh"


def _command(choices: Choices) -> str:
    return "python3 worker.py" if choices.language == "python" else "./worker.sh"


def source(choices: Choices) -> str:
    """watchbot.toml: the options a first deploy needs, each with a line saying what it is."""
    lines = [
        "# A Watchbot system: every message sent to it runs `command` once, in a container of your image.",
        "#",
        "#   watchbot-cfn local watchbot.toml          # the whole pipeline on this machine, no AWS account",
        "#   watchbot-cfn render watchbot.toml         # the CloudFormation template",
        "#   watchbot-cfn options                      # every option, with its default",
        "",
        "# The ECS cluster the service runs on. It must exist before `deploy`; `local` needs none.",
        'cluster = "default"',
        "# Names the ECS service, the log group and the image:",
        "# <account>.dkr.ecr.<region>.amazonaws.com/<service>:<service_version>.",
        f'service = "{choices.name}"',
        "# The image tag to run, such as a git sha (`local` runs the command here and needs no image).",
        'service_version = "latest"',
        "# Run once per message in the image's working directory (under `local`, in this directory).",
        f'command = "{_command(choices)}"',
        "# CloudWatch alarms are emailed here (SNS asks the address to confirm first).",
        'notification_email = "you@example.com"',
        "# A message whose job fails (exit 1, or any code but 0, 3 and 4) is retried with backoff",
        "# (2 s, 4 s, 8 s, ...) and moved to the dead-letter queue after this many receives.",
        "dead_letter_threshold = 3",
        "# Jobs one task runs at once; tasks scale from 0 to max_size with the backlog.",
        "concurrency = 1",
        "max_size = 2",
    ]
    if choices.fifo:
        lines += ["# FIFO queues: no SNS topic; send to the queue with a message group id.",
                  "# Messages of one group run one at a time, in order; groups run side by side.",
                  "fifo = true"]
    if choices.reduce:
        lines += ["# Reduce mode: a DynamoDB progress table ($ProgressTable) for map-reduce jobs",
                  "# (docs/reduce-mode.md); the worker splits, maps and reduces with its helper.",
                  "reduce = true"]
        if choices.fifo:
            lines += ["# A FIFO system has no topic: the helper sends part messages to the queue itself.",
                      "[[permissions]]",
                      'Effect = "Allow"',
                      'Action = ["sqs:SendMessage"]',
                      'Resource = { "Fn::GetAtt" = ["WatchbotQueue", "Arn"] }']
    return "\n".join(lines) + "\n"


_SH_WORKER = """\
#!/bin/sh
# One job: the watcher runs this once per message, then settles the message by the exit code.
#
#   $MessageFile  a file holding the message (always set); $Message holds it too when it fits
#   $Subject      the SNS subject, when there is one;  $MessageId  the SQS message id
#   $TMPDIR       a scratch directory of this job's own, emptied after it
#
# Exit 0: done, the message is deleted.  Exit 3: rejected, deleted and counted as a failure.
# Exit 4: not now, returned with backoff.  Anything else: failed, retried with backoff, then
# moved to the dead-letter queue after dead_letter_threshold receives.
set -eu

body=$(cat "$MessageFile")
case "$body" in
  reject*) echo "rejecting: $body"; exit 3 ;;
  later*) echo "not now: $body"; exit 4 ;;
  fail*) echo "failing: $body" >&2; exit 1 ;;
esac
echo "processed: $body (receive ${ApproximateReceiveCount:-1}, scratch in $TMPDIR)"
"""

_PYTHON_WORKER = '''\
"""One job: the watcher runs this once per message, then settles the message by the exit code.

$MessageFile is a file holding the message (always set; $Message holds it too when it fits),
$Subject the SNS subject when there is one, $MessageId the SQS message id, and $TMPDIR a scratch
directory of this job's own, emptied after it.

Exit 0: done, the message is deleted. Exit 3: rejected, deleted and counted as a failure.
Exit 4: not now, returned with backoff. Anything else (an exception too): failed, retried with
backoff, then moved to the dead-letter queue after dead_letter_threshold receives.
"""

import os
import sys

REJECTED, NOT_NOW = 3, 4


def main() -> int:
    with open(os.environ["MessageFile"], encoding="utf-8") as file:
        body = file.read()
    if body.startswith("reject"):
        print(f"rejecting: {body}")
        return REJECTED
    if body.startswith("later"):
        print(f"not now: {body}")
        return NOT_NOW
    if body.startswith("fail"):
        raise RuntimeError(f"failing: {body}")
    print(f"processed: {body} (receive {os.environ.get('ApproximateReceiveCount', '1')}, "
          f"scratch in {os.environ['TMPDIR']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

_REDUCE_WORKER = '''\
"""A map-reduce worker (docs/reduce-mode.md): one command handles the three kinds of message.

- a start message you send, such as {"job": "job-1", "parts": ["one", "two", "three"]}, becomes
  one part message per item (its job id is "job", else the message id);
- each part is processed on its own, by whichever task receives it;
- the one worker that completes the last part sends the reduce message, which runs once.

Exit codes as for any worker: mapreduce.PartFailed rejects a start message (exit 3) or fails the
whole job with its reason; any other exception retries the message with backoff.
"""

import json
import os

from watchbot_cfn.runtime import mapreduce


def split(message: mapreduce.Incoming) -> mapreduce.Plan:
    try:
        request = json.loads(message.body)
        parts = list(request["parts"])
    except (ValueError, KeyError, TypeError):
        raise mapreduce.PartFailed('a start message is JSON such as {"job": "job-1", "parts": ["a", "b"]}') from None
    return mapreduce.Plan(job_id=str(request.get("job") or message.message_id), parts=parts)


def process(part: mapreduce.Part) -> None:
    # Parts may run more than once: write results under names made of the job id and part number.
    print(f"job {part.job_id}: part {part.number} of {part.total}: {part.data!r} (scratch in {os.environ['TMPDIR']})")


def reduce(job: mapreduce.Job) -> None:
    print(f"job {job.job_id}: all {job.total} parts done")


if __name__ == "__main__":
    mapreduce.run(split=split, map=process, reduce=reduce)
'''


def worker(choices: Choices) -> str:
    if choices.reduce:
        return _REDUCE_WORKER
    return _PYTHON_WORKER if choices.language == "python" else _SH_WORKER


def dockerfile(choices: Choices) -> str:
    """An image with the watcher and the worker; the task definition runs ``watchbot listen <command>``."""
    worker_name = worker_file(choices)
    if choices.language == "python":
        return f"""\
# The worker's image: Python, with the watcher's runtime (watchbot-cfn-runtime, which needs boto3
# only; its map-reduce and progress helpers come with it). Build its wheel once, next to this file,
# from a checkout of watchbot-cfn:
#
#   pip wheel --no-deps --wheel-dir . path/to/watchbot-cfn/runtime-package
#   docker build -t {choices.name} .
#
# The task definition runs `watchbot listen "python3 {worker_name}"` in WORKDIR, once per message.

FROM python:3.12-slim-bookworm
COPY watchbot_cfn_runtime-*.whl /tmp/wheels/
RUN pip install --no-cache-dir /tmp/wheels/*.whl && rm -rf /tmp/wheels
WORKDIR /app
COPY {worker_name} ./
"""
    return f"""\
# The worker's image: the watcher as one executable (any Linux image will do; this one needs
# nothing of Python). Build the executable once, next to this file, on Linux with the image's CPU
# architecture (needs pip install 'watchbot-cfn[bundle]' and binutils):
#
#   watchbot-cfn build-watcher --static --output watchbot
#   docker build -t {choices.name} .
#
# The task definition runs `watchbot listen "./{worker_name}"` in WORKDIR, once per message.

FROM debian:bookworm-slim
COPY watchbot /usr/local/bin/watchbot
WORKDIR /app
COPY {worker_name} ./
"""
