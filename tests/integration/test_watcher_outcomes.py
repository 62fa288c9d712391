"""The watcher as a real process against a moto server: exit codes, backoff, environment, large bodies."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.watcherproc import WatcherProcess, create_queue, depth_becomes, queue_depth, summaries

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


def by_body(watcher: WatcherProcess, lines: list[str]) -> dict[str, list[str]]:
    """Message body -> the watcher's lines about it (the worker echoes 'body=<body>' first)."""
    ids = {}
    for line in lines:
        match = re.match(r"\[[^]]+\] \[worker\] \[([^]]+)\] body=(\S+)", line)
        if match:
            ids[match.group(1)] = match.group(2)
    grouped: dict[str, list[str]] = {body: [] for body in ids.values()}
    for line in lines:
        match = re.match(r"\[[^]]+\] \[watcher\] \[([^]]+)\] ", line)
        if match and match.group(1) in ids:
            grouped[ids[match.group(1)]].append(line)
    return grouped


def test_each_exit_code_is_handled_as_the_table_says(moto_server):
    # given one message per exit code
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    for body in ("0", "3", "4", "1"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    # when the watcher runs `exit $Message` long enough for two returns
    with WatcherProcess(moto_server, url, 'echo "body=$Message"; exit "$Message"', concurrency="4") as watcher:
        lines = watcher.wait_for(lambda lines: len(summaries(lines)) >= 8, 30)
        watcher.signal()
        assert watcher.wait(15) == 0
    lines = watcher.snapshot()
    grouped = by_body(watcher, lines)
    # then 0 and 3 ran once and were deleted; 3 counts as a failure
    assert sum("completed in" in line for line in grouped["0"]) == 1
    assert sum("completed in" in line for line in grouped["3"]) == 1
    assert not any("[failure]" in line for line in grouped["0"])
    assert any("[failure] rejected" in line for line in grouped["3"])
    # and 4 and 1 came back (1 as a failure each time, 4 never as one)
    assert sum("completed in" in line for line in grouped["4"]) >= 3
    assert sum("completed in" in line for line in grouped["1"]) >= 3
    assert not any("[failure]" in line for line in grouped["4"])
    assert sum("[failure] exit code 1" in line for line in grouped["1"]) >= 3
    assert any("outcome noop" in line for line in grouped["4"])
    # and only the two returned messages are left
    visible, in_flight = queue_depth(moto_server, url)
    assert visible + in_flight == 2


def test_returned_messages_wait_two_to_the_power_of_receives(moto_server):
    url, _ = create_queue(moto_server)
    moto_server.client("sqs").send_message(QueueUrl=url, MessageBody="again")
    with WatcherProcess(moto_server, url, "echo started; exit 4") as watcher:
        watcher.wait_for(lambda lines: len(summaries(lines)) >= 3, 30)
        starts = [t for line, t in zip(watcher.snapshot(), watcher.times, strict=False) if line.endswith("] started")]
        receives = [int(m) for m in re.findall(r"after (\d+) receives", "\n".join(watcher.snapshot()))]
    assert receives[:3] == [1, 2, 3]
    first_gap, second_gap = starts[1] - starts[0], starts[2] - starts[1]
    assert 1.9 <= first_gap < 3.6   # 2 ** 1 (a waiting moto receive rechecks visibility once a second)
    assert 3.9 <= second_gap < 5.6  # 2 ** 2


def test_the_worker_gets_the_contract_environment(moto_server, tmp_path):
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    envelope = json.dumps({"Type": "Notification", "MessageId": "sns-1", "Subject": "the subject",
                           "Message": "unwrapped body", "TopicArn": "arn:aws:sns:us-east-1:1:t"})
    raw = json.dumps({"Type": "Other", "Message": "stays wrapped"})
    sent = {sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"]: body for body in (envelope, raw)}
    volume = tmp_path / "volume"
    volume.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    command = (f'ls -A {volume} > {out}/$MessageId.before; touch {volume}/left-$MessageId; mkdir {volume}/d; '
               f'env > {out}/$MessageId.env; cat "$MessageFile" > {out}/$MessageId.file')
    with WatcherProcess(moto_server, url, command, Volumes=str(volume)) as watcher:
        watcher.wait_for(lambda lines: len(summaries(lines)) >= 2, 20)
    for message_id, body in sent.items():
        env = dict(line.split("=", 1) for line in (out / f"{message_id}.env").read_text().splitlines()
                   if "=" in line)
        assert env["MessageId"] == message_id
        assert env["ApproximateReceiveCount"] == "1"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", env["SentTimestamp"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", env["ApproximateFirstReceiveTimestamp"])
        assert env["QueueUrl"] == url  # the container's own environment is passed on
        # and the volume was empty when each job started (contents removed after each job)
        assert (out / f"{message_id}.before").read_text() == ""
        if body is envelope:
            assert env["Message"] == "unwrapped body" and env["Subject"] == "the subject"
            assert (out / f"{message_id}.file").read_text() == "unwrapped body"
        else:
            assert env["Message"] == raw and "Subject" not in env
            assert (out / f"{message_id}.file").read_text() == raw
    assert volume.is_dir() and list(volume.iterdir()) == []  # the mount point stays, empty


def test_large_bodies_are_processed_through_the_message_file(moto_server, tmp_path):
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    largest, large, fits = "M" * (1024 * 1024), "L" * (300 * 1024), "F" * (100 * 1024)
    ids = {sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"]: body for body in (largest, large, fits)}
    command = (f'echo "${{#Message}}" > {tmp_path}/$MessageId.len; '
               f'cp "$MessageFile" {tmp_path}/$MessageId.body')
    with WatcherProcess(moto_server, url, command) as watcher:
        lines = watcher.wait_for(lambda lines: len(summaries(lines)) >= 3, 20)
        assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)
    assert all("outcome success" in line for line in summaries(lines))
    for message_id, body in ids.items():
        assert (tmp_path / f"{message_id}.body").read_text() == body
        expected = str(len(body)) if body is fits else "0"  # Message only when it fits
        assert (tmp_path / f"{message_id}.len").read_text().strip() == expected


def test_a_writable_filesystem_watcher_exits_after_one_job(moto_server):
    url, _ = create_queue(moto_server)
    sqs = moto_server.client("sqs")
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    watcher = WatcherProcess(moto_server, url, "echo ran", writableFilesystem="true", concurrency="4").start()
    try:
        assert watcher.wait(15) == 0
        assert watcher.count("] ran") == 1 and len(summaries(watcher.snapshot())) == 1
        assert depth_becomes(moto_server, url, (1, 0)) == (1, 0)
    finally:
        watcher.stop()
