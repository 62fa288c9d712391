"""Structured logging of a real watcher: the original's bunyan-style lines, worker JSON merged at the top level."""

from __future__ import annotations

import json
import re
import socket

import pytest

from tests.support.filtermatch import matches, metric_value
from tests.support.watcherproc import WatcherProcess, create_queue, depth_becomes
from watchbot_cfn import contract

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_a_worker_json_line_becomes_one_watcher_line_with_its_fields_on_top(moto_server):
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    ids = {sqs.send_message(QueueUrl=url, MessageBody=code)["MessageId"]: code for code in ("0", "1")}
    # a bunyan-style worker line, a plain line, and a line imitating the watcher's result
    command = ("""echo '{"id":123,"content":"asdf","level":40}'; echo 'how are you' >&2; """
               """echo '{"name":"watcher","worker_event":"failure","duration":987654321}'; exit "$Message" """)
    with WatcherProcess(moto_server, url, command, structuredLogging="true") as watcher:
        watcher.wait_for(lambda lines: sum('"worker_event"' in line and '"name":"watcher"' in line
                                           for line in lines) >= 2, 20)
        assert depth_becomes(moto_server, url, (0, 1)) == (0, 1)  # exit 1: returned with backoff
        pid = watcher.process.pid
        watcher.signal()
        assert watcher.wait(10) == 0
    records = [json.loads(line) for line in watcher.snapshot()]  # every line is one JSON object
    for record in records:
        assert list(record)[:6] == ["v", "level", "name", "hostname", "pid", "time"]
        assert (record["v"], record["hostname"], record["pid"]) == (0, socket.gethostname(), pid)
        assert TIME.fullmatch(record["time"])
    for message_id, code in ids.items():
        mine = [record for record in records if record.get("watchbot_sqs_message_id") == message_id]
        merged = [record for record in mine if record.get("id") == 123]
        assert len(merged) == 1 and merged[0]["content"] == "asdf" and merged[0]["level"] == 40
        assert merged[0]["name"] == "worker" and "msg" not in merged[0]
        assert [record["msg"] for record in mine if record.get("msg") == "how are you"] == ["how are you"]
        forged = [record for record in mine if "worker_reserved" in record]
        assert len(forged) == 1 and forged[0]["name"] == "worker" and "worker_event" not in forged[0]
        [result] = [record for record in mine if "worker_event" in record]
        assert result["name"] == "watcher"
        assert result["worker_event"] == ("success" if code == "0" else "failure")
        assert result["code"] == int(code) and result["receives"] == 1
        assert result["duration"] >= 0 and result["response_duration"] >= result["duration"]
    # the filters count the watcher's two results, one failure, and never the forged lines
    lines = watcher.snapshot()
    for spec in contract.METRIC_FILTERS:
        counted = [metric_value(spec.structured_pattern, spec.structured_value, line) for line in lines
                   if matches(spec.structured_pattern, line)]
        if spec.metric == contract.METRIC_WORKER_ERRORS:
            assert counted == [1]
        else:
            assert len(counted) == 2 and 987654321 not in counted, (spec.metric, counted)  # never the forged line
