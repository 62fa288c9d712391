"""examples/map-reduce end to end: its template deployed to moto, the real watcher, the example worker.

The example's own source (wordcount.toml) is deployed with CloudFormation; the
watcher runs with the container environment of the deployed task definition
(so the template and the runtime must agree on ProgressTable, WorkTopic and the
rest). A start message fans out into part messages through the work topic,
parts run four at a time (some delivered twice), and the worker that completes
the last part sends the one reduce message.
"""

from __future__ import annotations

import collections
import json
import sys
import time
from pathlib import Path

import pytest

from tests.integration.test_deploy import deploy, render
from tests.support.waiting import until
from tests.support.watcherproc import WatcherProcess, queue_depth, summaries, worker_lines
from watchbot_cfn.runtime.mapreduce import part_message
from watchbot_cfn.runtime.progress import Progress

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "map-reduce"
DOCUMENTS = [
    "the quick brown fox", "jumps over the lazy dog", "the dog sleeps", "a fox runs",
    "brown bread and brown butter", "over and over", "the end", "dog days",
]
#: Task settings a test machine must not take as they are: the task's own scratch volume
#: (the watcher empties it between jobs) and shutdown timings sized for ECS.
HOST_UNSAFE = ("Volumes", "writableFilesystem", "drainTimeout")


def task_environment(server, stack) -> dict[str, str]:
    """The container environment of the deployed task definition, with intrinsics resolved by CloudFormation."""
    definition = server.client("ecs").describe_task_definition(
        taskDefinition=stack.physical["WatchbotTaskDefinition"])["taskDefinition"]
    [container] = definition["containerDefinitions"]
    return {item["name"]: item["value"] for item in container["environment"] if item["name"] not in HOST_UNSAFE}



def test_a_word_count_job_reduces_once_through_the_watcher(moto_server):
    stack = deploy(moto_server, render("examples/map-reduce/wordcount.toml"))
    system = task_environment(moto_server, stack)
    assert system["ProgressTable"].startswith("arn:aws:dynamodb:"), "the template gives the table's ARN"
    queue_url = system.pop("QueueUrl")
    sns = moto_server.client("sns")
    s3 = moto_server.client("s3")
    job = "books"
    command = f"{sys.executable} {EXAMPLE / 'wordcount.py'}"
    with WatcherProcess(moto_server, queue_url, command, **system) as watcher:
        # when a start message is published to the work topic
        sns.publish(TopicArn=system["WorkTopic"], Subject="start",
                    Message=json.dumps({"job": job, "documents": DOCUMENTS}))
        watcher.wait_for(lambda lines: any(f"job {job}: sent 8 parts" in line for line in lines), 60)
        # and three parts are delivered a second time, as SQS may do
        for number in (1, 2, 3):
            sns.publish(TopicArn=system["WorkTopic"], Subject="map",
                        Message=part_message(job, number, len(DOCUMENTS), DOCUMENTS[number - 1]))

        # then the result appears and the queue empties
        def finished() -> bool:
            listed = s3.list_objects_v2(Bucket=system["RESULTS_BUCKET"], Prefix=f"{job}/result.json")
            return listed.get("KeyCount", 0) == 1 and queue_depth(moto_server, queue_url) == (0, 0)

        until(finished, 90, "the result and an empty queue", interval=0.2)
        watcher.wait_for(lambda lines: len(summaries(lines)) >= 1 + 8 + 3 + 1, 20)
        time.sleep(1)  # anything still coming would show up now
        lines = watcher.snapshot()
    relayed = worker_lines(lines)
    # exactly one reduce message was sent and reduced
    assert sum("reduce message sent" in line for line in relayed) == 1, relayed
    words = sum(len(text.split()) for text in DOCUMENTS)
    assert sum(f"job {job}: {words} words in 8 documents" in line for line in relayed) == 1, relayed
    # every job succeeded: start, 8 parts, 3 duplicates, one reduce
    outcomes = [line.rsplit("outcome ", 1)[1] for line in summaries(lines)]
    assert outcomes == ["success"] * 13, lines
    # and the counts add up
    stored = s3.get_object(Bucket=system["RESULTS_BUCKET"], Key=f"{job}/result.json")["Body"].read()
    expected = collections.Counter(word for text in DOCUMENTS for word in text.split())
    assert json.loads(stored) == dict(expected)
    status = Progress(system["ProgressTable"], client=moto_server.client("dynamodb")).status(job)
    assert status == {"progress": 1, "metadata": {"documents": 8}, "reduceSent": True}
