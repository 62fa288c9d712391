"""FIFO message groups run side by side; within each group, jobs start in send order and never overlap."""

from __future__ import annotations

import pytest

from tests.support.watcherproc import WatcherProcess, create_queue, depth_becomes, summaries

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

GROUPS = 6
PER_GROUP = 5
#: (group, position) of messages that fail once (exit 1) or say "not now" once (exit 4), then succeed.
FAIL_ONCE = {(1, 1), (4, 3)}
NOOP_ONCE = {(2, 0), (5, 2)}


def test_order_holds_within_every_group_under_concurrency_8_with_failures_and_exit_4(moto_server, tmp_path):
    url, _ = create_queue(moto_server, fifo=True)
    sqs = moto_server.client("sqs")
    bodies = []
    for position in range(PER_GROUP):
        for group in range(GROUPS):
            word = "fail" if (group, position) in FAIL_ONCE else "noop" if (group, position) in NOOP_ONCE else "ok"
            bodies.append((f"g{group}", f"g{group} {position} {word}"))
    for first in range(0, len(bodies), 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(index), "MessageBody": body, "MessageGroupId": group}
            for index, (group, body) in enumerate(bodies[first:first + 10])])
    record, marks = tmp_path / "record", tmp_path / "marks"
    marks.mkdir()
    # each job notes its start and end; a "fail" or "noop" message does so once, then succeeds
    command = (f'set -- $Message; mark={marks}/$1-$2; echo "start $(date +%s.%N) $1 $2" >> {record}; sleep 0.1; '
               f'code=0; if [ "$3" != ok ] && [ ! -e "$mark" ]; then touch "$mark"; '
               '[ "$3" = fail ] && code=1 || code=4; fi; '
               f'echo "end $(date +%s.%N) $1 $2 $code" >> {record}; exit $code')
    with WatcherProcess(moto_server, url, command, concurrency="8", Fifo="true") as watcher:
        watcher.wait_for(lambda lines: sum("outcome success" in line for line in summaries(lines))
                         == GROUPS * PER_GROUP, 60)
        assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)
        lines = watcher.snapshot()
    events = [line.split() for line in record.read_text().splitlines()]
    peak = running = 0
    for kind, *_ in sorted(events, key=lambda event: float(event[1])):
        running += 1 if kind == "start" else -1
        peak = max(peak, running)
    assert peak >= 4  # groups ran side by side
    for group in range(GROUPS):
        mine = sorted((float(when), kind, int(position), rest) for kind, when, name, position, *rest in events
                      if name == f"g{group}")
        starts = [position for _, kind, position, _ in mine if kind == "start"]
        retried = sorted(position for (g, position) in FAIL_ONCE | NOOP_ONCE if g == group)
        # send order; a message returned by its job runs again before any later one
        assert starts == sorted(list(range(PER_GROUP)) + retried), (group, starts)
        kinds = [kind for _, kind, _, _ in mine]
        assert kinds == ["start", "end"] * len(starts), (group, kinds)  # never two at once
    assert sum("[failure] exit code 1" in line for line in lines) == len(FAIL_ONCE)
    assert sum("outcome noop" in line for line in summaries(lines)) == len(NOOP_ONCE)
