"""Structured logging of worker lines that are valid JSON but awkward to write back: never kills a job, always JSON."""

from __future__ import annotations

import json
import sys

import pytest

from tests.support.watcherproc import WatcherProcess, create_queue, depth_becomes

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def test_deeply_nested_and_out_of_range_worker_json_is_logged_as_json_and_the_job_runs_to_its_end(
        moto_server, tmp_path):
    url, _ = create_queue(moto_server)
    moto_server.client("sqs").send_message(QueueUrl=url, MessageBody="x")
    # "name" is the watcher's: it moves under worker_reserved, one level deeper than the worker wrote it;
    # somewhere between 900 and 999 levels that is deeper than json.dumps can go from the job's thread
    script = tmp_path / "lines.py"
    script.write_text("for depth in range(900, 1000):\n"
                      "    print('{\"name\":' + '[' * depth + ']' * depth + '}', flush=True)\n"
                      "print('{\"a\":1e400,\"b\":-1e400}'); print('done')\n")
    with WatcherProcess(moto_server, url, f"{sys.executable} {script}", structuredLogging="true") as watcher:
        watcher.wait_for(lambda lines: any('"worker_event":"success"' in line for line in lines), 30)
        assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)  # deleted: it ran to its end once
        lines = watcher.snapshot()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)  # reading back what the watcher wrote, here deeper in the stack than it was
    try:
        records = [json.loads(line, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))
                   for line in lines]
    finally:
        sys.setrecursionlimit(limit)
    worker = [record for record in records if record["name"] == "worker"]
    assert len(worker) == 100 + 2  # every line, none lost or split
    assert worker[-1]["msg"] == "done"
    assert worker[-2]["msg"] == '{"a":1e400,"b":-1e400}'  # not a number JSON can hold: kept as text
    assert not any(record.get("worker_event") == "error" for record in records)
