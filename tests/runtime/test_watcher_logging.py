"""The watcher's log lines and the metric filters are one contract."""

from __future__ import annotations

import pytest

from tests.runtime.helpers import CapturingLogger
from tests.support.filtermatch import UnsupportedPattern, matches, metric_value, split_fields
from watchbot_cfn import contract

FILTERS = {spec.metric: spec for spec in contract.METRIC_FILTERS}
SUMMARY = contract.JobSummary(outcome="failure", exit_code=1, duration=1234, receives=3, response_duration=98765)


def emitted(structured: bool) -> CapturingLogger:
    logger = CapturingLogger(structured=structured)
    logger.notice("listening")
    logger.worker("abc-123", "completed in 5 ms after 9 receives, 7 ms since sent, outcome success [failure]?")
    logger.failure("abc-123", "exit code 1; message returned to the queue", 1)
    logger.summary("abc-123", SUMMARY)
    return logger


@pytest.mark.parametrize("structured", [False, True])
def test_each_metric_counts_exactly_the_lines_meant_for_it(structured):
    lines = emitted(structured).lines
    notice, worker, failure, summary = lines
    pattern = "structured_pattern" if structured else "plain_pattern"
    value = "structured_value" if structured else "plain_value"
    errors = FILTERS["WorkerErrors"]
    assert matches(getattr(errors, pattern), failure)
    assert not matches(getattr(errors, pattern), summary)
    assert not matches(getattr(errors, pattern), notice)
    assert not matches(getattr(errors, pattern), worker)  # a worker printing "[failure]" is not a failed job
    expected = {"WorkerDuration": 1234, "MessageReceives": 3, "ResponseDuration": 98765}
    for metric, number in expected.items():
        spec = FILTERS[metric]
        assert metric_value(getattr(spec, pattern), getattr(spec, value), summary) == number
        for other in (notice, worker, failure):
            assert not matches(getattr(spec, pattern), other), (metric, other)


def test_the_plain_failure_filter_holds_whether_or_not_brackets_are_stripped():
    # CloudWatch treats a [bracketed] run as one field; the patterns must not depend
    # on whether the brackets stay part of the value.
    _, _, failure, summary = emitted(False).lines
    unstripped = failure.replace("[", "[[").replace("]", "]]")
    for line in (failure, unstripped):
        assert matches(FILTERS["WorkerErrors"].plain_pattern, line)
    assert metric_value(FILTERS["WorkerDuration"].plain_pattern, "$duration",
                        summary.replace("[watcher]", "[[watcher]]")) == 1234


def test_plain_lines_have_the_documented_prefix():
    notice, worker, failure, summary = emitted(False).lines
    assert split_fields(summary)[1:3] == ["watcher", "abc-123"]
    assert split_fields(worker)[1:3] == ["worker", "abc-123"]
    assert split_fields(notice)[1:3] == ["watcher", "-"]
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
