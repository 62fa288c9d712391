"""Exactly one completer learns that a job is done: parallel processes against a moto server.

Messages are delivered at least once and workers run side by side, so parts
are completed concurrently and some twice; the table's conditional update is
what keeps "done" to a single caller.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import subprocess
import sys

import pytest

from watchbot_cfn.runtime.progress import Progress

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

PROCESSES = 8
PARTS = 50
DUPLICATES = 25


def create_table(server, name: str) -> str:
    answer = server.client("dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    return answer["TableDescription"]["TableArn"]


def complete_parts(env: dict[str, str], table: str, job: str, parts: list[int], barrier, results) -> None:
    """One worker process: a client of its own, then all its completions as soon as every process is ready."""
    os.environ.update(env)
    progress = Progress(table)
    progress.status(job)  # connect before the start line
    barrier.wait(timeout=60)
    results.put([(part, progress.complete_part(job, part)) for part in parts])


def test_fifty_parts_from_parallel_processes_with_duplicates_finish_the_job_once(moto_server):
    # given a job of 50 parts in a table on the moto server
    table = create_table(moto_server, "race-Watchbot-progress")
    job = "fifty-parts"
    Progress(table, client=moto_server.client("dynamodb")).set_total(job, PARTS)
    # and every part completed once, 25 of them twice, shuffled over 8 processes that start together
    rng = random.Random(9)
    completions = list(range(1, PARTS + 1)) + rng.sample(range(1, PARTS + 1), DUPLICATES)
    rng.shuffle(completions)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [context.Process(target=complete_parts,
                               args=(moto_server.env(), table, job, completions[i::PROCESSES], barrier, results))
               for i in range(PROCESSES)]
    for worker in workers:
        worker.start()
    # when they have all finished
    answers = [answer for _ in workers for answer in results.get(timeout=90)]
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    # then exactly one completion learned that the job is done
    assert len(answers) == PARTS + DUPLICATES
    done = [part for part, finished in answers if finished]
    assert len(done) == 1, f"completions that saw 'done': {done}"
    # and the job reads as finished, every part complete
    status = Progress(table, client=moto_server.client("dynamodb")).status(job, done[0])
    assert status == {"progress": 1, "partComplete": True}


def test_the_command_prints_true_for_exactly_one_of_parallel_completions(moto_server):
    # given a job of 6 parts
    table = create_table(moto_server, "race-cli-Watchbot-progress")
    env = dict(moto_server.env(), ProgressTable=table)
    job = "six-parts"
    subprocess.run([sys.executable, "-m", "watchbot_cfn.runtime.progresscli", "set-total", job, "--total", "6"],
                   env=env, check=True, timeout=30)
    # when 8 processes complete them at once, parts 2 and 5 twice
    commands = [subprocess.Popen([sys.executable, "-m", "watchbot_cfn.runtime.progresscli", "complete-part", job,
                                  "--part", str(part)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
                for part in (1, 2, 3, 4, 5, 6, 2, 5)]
    outputs = [(command.communicate(timeout=60), command.returncode) for command in commands]
    # then all succeed and exactly one prints true
    assert [code for _, code in outputs] == [0] * 8, [err for (_, err), _ in outputs]
    printed = sorted(out for (out, _), _ in outputs)
    assert printed == ["false\n"] * 7 + ["true\n"]
