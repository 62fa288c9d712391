"""Figures for the operator tools and reduce mode's progress client, against a local moto server.

Run from the repository root:  python benchmarks/operator_tools.py  [--messages N] [--parts N]

Prints: start-up time of ``watchbot-dead-letter --help`` and ``watchbot-progress --help``
(median of 10 processes); ``print`` and ``return`` of N dead messages as whole
processes (messages per second; moto's ReceiveMessage slows with queue depth,
so these are floors, not SQS's figures); and part completions per second from
4 processes completing one job's parts, with how many of them saw "done" (must
be exactly 1).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import pathlib
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.motoserver import MotoServer  # noqa: E402
from watchbot_cfn.runtime.progress import Progress  # noqa: E402

PROCESSES = 4


def startup(argv: list[str], runs: int = 10) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def deploy_queues(server: MotoServer) -> tuple[str, str, str]:
    """A stack with one system's queues and log group (the original's logical ids): (stack, queue, dlq)."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    template = {"Resources": {
        "WatchbotDeadLetterQueue": {"Type": "AWS::SQS::Queue"},
        "WatchbotQueue": {"Type": "AWS::SQS::Queue", "Properties": {"RedrivePolicy": {
            "deadLetterTargetArn": {"Fn::GetAtt": ["WatchbotDeadLetterQueue", "Arn"]}, "maxReceiveCount": 10}}},
        "WatchbotLogGroup": {"Type": "AWS::Logs::LogGroup"},
    }}
    cfn = server.client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    while cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] != "CREATE_COMPLETE":
        time.sleep(0.1)
    physical = {item["LogicalResourceId"]: item["PhysicalResourceId"]
                for item in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]}
    return name, physical["WatchbotQueue"], physical["WatchbotDeadLetterQueue"]


def fill(server: MotoServer, url: str, count: int) -> None:
    sqs = server.client("sqs")
    for start in range(0, count, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "MessageBody": f"message {start + n}"} for n in range(min(10, count - start))])


def timed_tool(server: MotoServer, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "watchbot_cfn.cli.dead_letter", *args], env=server.env(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def complete(env: dict[str, str], table: str, job: str, parts: list[int], results: Any) -> None:
    os.environ.update(env)
    progress = Progress(table)
    progress.status(job)
    start = time.perf_counter()
    answers = [progress.complete_part(job, part) for part in parts]
    results.put((time.perf_counter() - start, sum(answers)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200, help="dead messages to print and return")
    parser.add_argument("--parts", type=int, default=400, help="parts of the progress job")
    args = parser.parse_args()

    for name, module in (("watchbot-dead-letter", "watchbot_cfn.cli.dead_letter"),
                         ("watchbot-progress", "watchbot_cfn.runtime.progresscli")):
        print(f"{name + ' --help':<28} {startup([sys.executable, '-m', module, '--help']):.3f} s (median of 10)")

    server = MotoServer().start()
    try:
        stack, queue, dead = deploy_queues(server)
        fill(server, dead, args.messages)
        elapsed = timed_tool(server, "print", "--stack-name", stack)
        print(f"print  {args.messages} messages   {elapsed:6.2f} s  {args.messages / elapsed:7.1f} msg/s")
        elapsed = timed_tool(server, "return", "--stack-name", stack)
        print(f"return {args.messages} messages   {elapsed:6.2f} s  {args.messages / elapsed:7.1f} msg/s (copy loop)")

        table = server.client("dynamodb").create_table(
            TableName="bench-progress", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])["TableDescription"]["TableArn"]
        Progress(table, client=server.client("dynamodb")).set_total("bench", args.parts)
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        parts = list(range(1, args.parts + 1))
        workers = [context.Process(target=complete, args=(server.env(), table, "bench", parts[i::PROCESSES], results))
                   for i in range(PROCESSES)]
        for worker in workers:
            worker.start()
        answers = [results.get(timeout=300) for _ in workers]
        for worker in workers:
            worker.join()
        slowest = max(seconds for seconds, _ in answers)
        done = sum(count for _, count in answers)
        print(f"complete-part {args.parts} parts from {PROCESSES} processes  {args.parts / slowest:7.1f} /s  "
              f"'done' seen {done} time(s)")
        return 0 if done == 1 else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
