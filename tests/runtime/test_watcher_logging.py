"""The watcher's log lines and the metric filters are one contract."""

from __future__ import annotations

import json
import os
import re
import select
import socket
import threading
import time

import pytest

from tests.runtime.helpers import CapturingLogger
from tests.support.filtermatch import UnsupportedPattern, matches, metric_value, split_fields
from watchbot_cfn import contract

FILTERS = {spec.metric: spec for spec in contract.METRIC_FILTERS}
SUMMARY = contract.JobSummary(outcome="failure", exit_code=1, duration=1234, receives=3, response_duration=98765,
                              reason="exit code 1; message returned to the queue")
#: A worker line that imitates each structured result field the filters read.
FORGED = json.dumps({"name": "watcher", "worker_event": "failure", "duration": 5, "receives": 9,
                     "response_duration": 7, "code": 1, "level": 50})


def emitted(structured: bool) -> CapturingLogger:
    logger = CapturingLogger(structured=structured)
    logger.notice("listening")
    logger.worker("abc-123", "completed in 5 ms after 9 receives, 7 ms since sent, outcome success [failure]?")
    logger.worker("abc-123", FORGED)
    logger.result("abc-123", SUMMARY)
    return logger


def split(structured: bool) -> tuple[list[str], str | None, str]:
    """(lines no filter may count, the failure line or None, the summary line)."""
    lines = emitted(structured).lines
    if structured:
        notice, worker, forged, result = lines
        return [notice, worker, forged], result, result
    notice, worker, forged, failure, summary = lines
    return [notice, worker, forged], failure, summary


@pytest.mark.parametrize("structured", [False, True])
def test_each_metric_counts_exactly_the_lines_meant_for_it(structured):
    others, failure, summary = split(structured)
    pattern = "structured_pattern" if structured else "plain_pattern"
    value = "structured_value" if structured else "plain_value"
    errors = FILTERS["WorkerErrors"]
    assert metric_value(getattr(errors, pattern), getattr(errors, value), failure) == 1
    for other in others:  # a worker printing "[failure]" or a forged result is not a failed job
        assert not matches(getattr(errors, pattern), other), other
    if not structured:
        assert not matches(errors.plain_pattern, summary)
    expected = {"WorkerDuration": 1234, "MessageReceives": 3, "ResponseDuration": 98765}
    for metric, number in expected.items():
        spec = FILTERS[metric]
        assert metric_value(getattr(spec, pattern), getattr(spec, value), summary) == number
        for other in others + ([] if structured else [failure]):
            assert not matches(getattr(spec, pattern), other), (metric, other)


@pytest.mark.parametrize("outcome, error, event, counted", [
    ("success", False, "success", False), ("noop", False, "success", False), ("rejected", False, "failure", True),
    ("failure", False, "failure", True), ("failure", True, "error", True)])
def test_every_outcome_feeds_the_duration_metrics_and_only_failures_count_as_errors(outcome, error, event, counted):
    summary = contract.JobSummary(outcome=outcome, exit_code=None, duration=10, receives=2, response_duration=20,
                                  reason="why" if counted else "", error=error)
    for structured in (False, True):
        logger = CapturingLogger(structured=structured)
        logger.result("m", summary)
        pattern = "structured_pattern" if structured else "plain_pattern"
        value = "structured_value" if structured else "plain_value"
        errors = [line for line in logger.lines if matches(getattr(FILTERS["WorkerErrors"], pattern), line)]
        assert len(errors) == (1 if counted else 0)
        duration = FILTERS["WorkerDuration"]
        assert [metric_value(getattr(duration, pattern), getattr(duration, value), line)
                for line in logger.lines if matches(getattr(duration, pattern), line)] == [10]
        if structured:
            [record] = logger.records()
            assert record["worker_event"] == event and record["outcome"] == outcome
            assert record["level"] == (50 if error else 30)


def test_structured_lines_have_the_original_core_fields():
    logger = CapturingLogger(structured=True)
    logger.notice("listening")
    logger.notice("cannot reach SQS", level="error")
    logger.notice("ownership lost", "m-1", level="warning")
    logger.worker("m-1", "hello there")
    listening, error, warning, worker = logger.records()
    for record in (listening, error, warning, worker):
        assert list(record)[:6] == ["v", "level", "name", "hostname", "pid", "time"]
        assert record["v"] == 0 and record["hostname"] == socket.gethostname() and record["pid"] == os.getpid()
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["time"])
    assert listening == {**listening, "level": 30, "name": "watcher", "msg": "listening"}
    assert "watchbot_sqs_message_id" not in listening
    assert (error["level"], warning["level"], warning["watchbot_sqs_message_id"]) == (50, 40, "m-1")
    assert worker == {**worker, "name": "worker", "level": 30, "watchbot_sqs_message_id": "m-1", "msg": "hello there"}


def test_the_result_line_merges_the_job_result_as_the_original_did():
    logger = CapturingLogger(structured=True)
    logger.result("m-1", contract.JobSummary(outcome="failure", exit_code=None, duration=12345, receives=2,
                                             response_duration=23456, reason="killed by SIGTERM", signal="SIGTERM"))
    logger.result("m-2", contract.JobSummary(outcome="success", exit_code=0, duration=5, receives=1,
                                             response_duration=6))
    failed, succeeded = logger.records()
    for record in (failed, succeeded):
        del record["time"], record["hostname"], record["pid"]
    assert failed == {"v": 0, "level": 30, "name": "watcher", "watchbot_sqs_message_id": "m-1",
                      "worker_event": "failure", "code": None, "signal": "SIGTERM", "duration": 12345,
                      "response_duration": 23456, "receives": 2, "outcome": "failure", "msg": "killed by SIGTERM"}
    assert succeeded["worker_event"] == "success" and succeeded["code"] == 0 and "signal" not in succeeded


def test_a_worker_json_object_is_merged_at_the_top_level_and_cannot_pass_for_the_watcher():
    logger = CapturingLogger(structured=True)
    logger.worker("m-1", '{"id":123, "content": "asdf", "level": 50, "msg": "mine"}')
    logger.worker("m-1", FORGED)
    logger.worker("m-1", json.dumps({"v": 1, "time": "then", "pid": 1, "hostname": "elsewhere",
                                     "watchbot_sqs_message_id": "other", "worker_reserved": "x"}))
    merged, forged, identity = logger.records()
    assert merged == {**merged, "id": 123, "content": "asdf", "level": 50, "msg": "mine", "name": "worker"}
    # the watcher's identity fields win; the worker's values are kept aside, not lost
    assert forged["name"] == "worker" and "worker_event" not in forged
    assert forged["worker_reserved"] == {"name": "watcher", "worker_event": "failure"}
    assert forged["duration"] == 5  # the worker's own field; no filter reads a worker line
    assert (identity["v"], identity["pid"], identity["watchbot_sqs_message_id"]) == (0, os.getpid(), "m-1")
    assert identity["hostname"] == socket.gethostname() and identity["time"] != "then"
    assert identity["worker_reserved"] == {"v": 1, "time": "then", "pid": 1, "hostname": "elsewhere",
                                           "watchbot_sqs_message_id": "other", "worker_reserved": "x"}


DEEP = '{"deep": ' + "[" * 100_000 + "]" * 100_000 + "}"


@pytest.mark.parametrize("text", ["[1, 2]", '{"broken": ', "{not json}", '{"x": NaN}', DEEP, '"quoted"',
                                  '  {"leading": "space"}'])
def test_a_worker_line_that_is_not_one_json_object_goes_in_msg(text):
    logger = CapturingLogger(structured=True)
    logger.worker("m-1", text)
    [record] = logger.records()
    assert record["msg"] == text and record["name"] == "worker"


def test_the_plain_failure_filter_holds_whether_or_not_brackets_are_stripped():
    # CloudWatch treats a [bracketed] run as one field; the patterns must not depend
    # on whether the brackets stay part of the value.
    _, failure, summary = split(False)
    assert failure is not None
    unstripped = failure.replace("[", "[[").replace("]", "]]")
    for line in (failure, unstripped):
        assert matches(FILTERS["WorkerErrors"].plain_pattern, line)
    assert metric_value(FILTERS["WorkerDuration"].plain_pattern, "$duration",
                        summary.replace("[watcher]", "[[watcher]]")) == 1234


def test_plain_lines_have_the_documented_prefix():
    notice, worker, forged, failure, summary = emitted(False).lines
    assert split_fields(summary)[1:3] == ["watcher", "abc-123"]
    assert split_fields(worker)[1:3] == ["worker", "abc-123"]
    assert split_fields(notice)[1:3] == ["watcher", "-"]
    assert forged.endswith("] " + FORGED)  # plain mode relays a worker's JSON as it is
    assert contract.FAILURE_MARKER in failure


# -- the matcher itself, on examples from the CloudWatch documentation ----------------

APACHE = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534'


def test_matcher_space_delimited_examples():
    assert split_fields(APACHE)[3:5] == ["10/Oct/2000:13:25:15 -0700", "GET /apache_pb.gif HTTP/1.0"]
    assert matches("[ip, user, username, timestamp, request, status_code, bytes]", APACHE)
    assert not matches("[ip, user, username, timestamp, request, status_code]", APACHE)
    assert matches("[ip, user, username, timestamp, request = *gif*, status_code = 2*, bytes]", APACHE)
    assert not matches("[ip, user, username, timestamp, request, status_code = 4*, bytes]", APACHE)
    assert matches("[ip, ..., status_code >= 200, bytes < 2000]", APACHE)
    assert metric_value("[ip, ..., bytes]", "$bytes", APACHE) == 1534


def test_matcher_json_examples():
    line = '{"eventType": "UpdateTrail", "latency": 50, "ok": true, "nothing": null}'
    assert matches('{ $.eventType = "UpdateTrail" }', line)
    assert matches('{ $.eventType = Update* && $.latency > 10 }', line)
    assert not matches('{ $.eventType = "Update" || $.latency < 10 }', line)
    assert matches('{ ($.latency = 1 || $.ok IS TRUE) && $.nothing IS NULL && $.absent NOT EXISTS }', line)
    assert matches("{ $.latency = * }", line)
    assert not matches("{ $.absent = * }", line)
    assert not matches('{ $.latency = "50" }', line)  # a string pattern never matches a number
    assert not matches("{ $.eventType = * }", "not json at all")
    assert metric_value("{ $.latency = * }", "$.latency", line) == 50


def test_matcher_terms():
    assert matches('"[failure]"', "x [failure] y")
    assert not matches('"[failure]"', "x failure y")
    assert matches("ERROR Main", "ERROR in Main")
    assert matches("?ERROR ?WARN", "a WARN")
    assert not matches("ERROR -Main", "ERROR in Main")
    with pytest.raises(UnsupportedPattern):
        matches("[failure]x", "x")


# -- the writer: bounded, never blocking, drops counted and said ------------------------

def read_until(fd: int, wanted: bytes, timeout: float = 5.0) -> bytes:
    """What the pipe ``fd`` delivers until it holds ``wanted`` (or ``timeout`` passes)."""
    got = b""
    deadline = time.monotonic() + timeout
    while wanted not in got and time.monotonic() < deadline:
        readable, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0.0))
        if readable:
            got += os.read(fd, 65536)
    return got


def test_a_stalled_reader_makes_lines_drop_not_wait_and_the_count_is_said_when_writing_resumes():
    from watchbot_cfn.runtime.logger import LineWriter

    read_end, write_end = os.pipe()
    errors_read, errors_write = os.pipe()
    writer = LineWriter(write_end, limit=64 * 1024, error_fd=errors_write)
    line = b"x" * 1000 + b"\n"
    # 1 MB: far more than the pipe and the buffer hold together; nobody reads, so a put that
    # waited for the reader would never return
    putting = threading.Thread(target=lambda: [writer.put(line) for _ in range(1000)], daemon=True)
    putting.start()
    putting.join(10)
    assert not putting.is_alive()  # never waited for the reader
    assert writer.dropped > 0
    told = read_until(errors_read, b"not keeping up")
    assert told.count(b"not keeping up") == 1  # said once, on stderr
    received = b""
    os.set_blocking(read_end, False)

    def reported() -> int:
        return sum(int(count) for count in re.findall(rb"(\d+) log line\(s\) were dropped", received))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and reported() < writer.dropped:
        try:
            received += os.read(read_end, 1 << 20)
        except BlockingIOError:
            select.select([read_end], [], [], 0.05)  # until more is written
    assert reported() == writer.dropped  # every dropped line is accounted for once writing works
    writer.close(1.0)
    for fd in (read_end, write_end, errors_read, errors_write):
        os.close(fd)


def test_a_failing_stdout_is_said_once_and_lines_are_counted():
    from watchbot_cfn.runtime.logger import LineWriter

    read_end, write_end = os.pipe()
    os.close(read_end)  # EPIPE from now on
    errors_read, errors_write = os.pipe()
    writer = LineWriter(write_end, error_fd=errors_write)
    for _ in range(50):
        writer.put(b"line\n")
    assert writer.flush(5.0)
    assert writer.dropped == 50
    told = read_until(errors_read, b"cannot write log lines to stdout")  # written by a thread of its own
    for _ in range(50):  # more failing lines say nothing more
        writer.put(b"line\n")
    assert writer.flush(5.0) and writer.dropped == 100
    os.set_blocking(errors_read, False)
    try:
        told += os.read(errors_read, 65536)
    except BlockingIOError:
        pass
    assert told.count(b"cannot write log lines to stdout") == 1
    writer.close(1.0)
    for fd in (write_end, errors_read, errors_write):
        os.close(fd)
