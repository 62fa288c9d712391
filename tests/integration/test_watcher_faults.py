"""Faults: SQS going away and coming back never stops the watcher."""

from __future__ import annotations

import time

import pytest

from tests.support.motoserver import MotoServer
from tests.support.watcherproc import WatcherProcess, depth_becomes, summaries

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_the_watcher_carries_on_when_sqs_stops_and_restarts(tmp_path):
    # given a private moto server (this test stops it) and a watcher busy with a job
    server = MotoServer().start()
    try:
        sqs = server.client("sqs")
        url = sqs.create_queue(QueueName="outage", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="before")
        done = tmp_path / "done"
        command = f'echo started; sleep 1; echo "$Message" >> {done}'
        with WatcherProcess(server, url, command, concurrency="2", drainTimeout="1") as watcher:
            watcher.wait_for(lambda lines: any(line.endswith("] started") for line in lines), 20)
            # when SQS disappears for a few seconds (the job finishes meanwhile); longer than botocore's own
            # retries of one receive (4 attempts, backoff at most 1 + 2 + 4 s), so the watcher's loop sees it
            server.stop()
            time.sleep(8)
            server.start()
            # moto forgets everything on restart: the queue comes back under the same URL
            assert sqs.create_queue(QueueName="outage", Attributes={"VisibilityTimeout": "30"})["QueueUrl"] == url
            for body in ("after-1", "after-2", "after-3"):
                sqs.send_message(QueueUrl=url, MessageBody=body)
            # then the watcher is still there and does the new work
            watcher.wait_for(lambda lines: len(summaries(lines)) >= 4, 45)
            assert watcher.process.poll() is None
            lines = watcher.snapshot()
            assert any("ReceiveMessage failed" in line for line in lines)
            # the delete of the job that ended in the outage failed; that is said and retried, not fatal (how
            # the retry ends depends on when it reaches the restarted server: before or after the queue is back)
            assert any("DeleteMessageBatch failed" in line and "retrying" in line for line in lines)
            assert sorted(done.read_text().split()) == ["after-1", "after-2", "after-3", "before"]
            assert depth_becomes(server, url, (0, 0)) == (0, 0)
            watcher.signal()
            assert watcher.wait(15) == 0
    finally:
        server.stop()
