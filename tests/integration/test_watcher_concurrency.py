"""Concurrency: N slots really run N jobs at once, never more; log lines feed the metric filters."""

from __future__ import annotations

import pytest

from tests.support.filtermatch import matches, metric_value
from tests.support.watcherproc import WatcherProcess, create_queue, depth_becomes, summaries
from watchbot_cfn import contract

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


def overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak


@pytest.mark.parametrize("slots, messages", [(4, 8), (2, 5)])
def test_n_slots_run_n_jobs_at_once(moto_server, tmp_path, slots, messages):
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    for index in range(messages):
        sqs.send_message(QueueUrl=url, MessageBody=str(index))
    record = tmp_path / "record"
    command = f'start=$(date +%s.%N); sleep 1; echo "$start $(date +%s.%N)" >> {record}'
    with WatcherProcess(moto_server, url, command, concurrency=str(slots)) as watcher:
        watcher.wait_for(lambda lines: len(summaries(lines)) >= messages, 30)
        assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)
    intervals = [tuple(map(float, line.split())) for line in record.read_text().splitlines()]
    assert len(intervals) == messages
    assert overlap(intervals) == slots
    span = max(end for _, end in intervals) - min(start for start, _ in intervals)
    rounds = -(-messages // slots)
    assert span < rounds * 1.0 + 1.5  # slots were refilled while other jobs ran


@pytest.mark.parametrize("structured", ["false", "true"])
def test_real_log_lines_feed_every_metric_filter(moto_server, structured):
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    for body in ("0", "1", "3"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    command = ('echo "completed in 1 ms after 1 receives, 1 ms since sent [failure]"; '
               """echo '{"name":"watcher","worker_event":"error","duration":1,"receives":7}'; exit "$Message" """)
    with WatcherProcess(moto_server, url, command, concurrency="3", structuredLogging=structured,
                        drainTimeout="1") as watcher:
        watcher.wait_for(lambda lines: sum('"worker_event"' in line or "] completed in " in line and "[watcher]" in line
                                           for line in lines) >= 3, 20)
        watcher.signal()
        assert watcher.wait(15) == 0
    lines = watcher.snapshot()
    assert len(lines) > 8
    is_structured = structured == "true"
    for spec in contract.METRIC_FILTERS:
        pattern = spec.structured_pattern if is_structured else spec.plain_pattern
        value = spec.structured_value if is_structured else spec.plain_value
        values = [metric_value(pattern, value, line) for line in lines if matches(pattern, line)]
        if spec.metric == "WorkerErrors":
            assert values == [1, 1]  # exit 1 and exit 3; the worker's own "[failure]" text does not count
        else:
            assert len(values) == 3 and all(v is not None and v >= 0 for v in values), (spec.metric, values)
            if spec.metric == "MessageReceives":
                assert values == [1, 1, 1]
