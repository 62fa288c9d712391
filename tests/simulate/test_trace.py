"""Trace files: minute,messages[,job_seconds]; every bad line is one error naming the line."""

from __future__ import annotations

import pytest

from watchbot_cfn.simulate import TraceError, TraceRow, load_trace, parse_trace
from watchbot_cfn.simulate.model import _arrivals


def test_rows_with_and_without_header_comments_and_blank_lines():
    with_header = parse_trace("# a burst\nminute,messages\n\n0,5\n3,2\n")
    without = parse_trace("0,5\n3,2\n")
    assert with_header.rows == without.rows == (TraceRow(0, 5), TraceRow(3, 2))
    assert with_header.last_minute == 3
    assert with_header.total_messages == 7
    assert with_header.arrivals_per_minute() == [5, 0, 0, 2]


def test_a_third_column_gives_each_rows_job_duration_and_a_minute_may_repeat():
    trace = parse_trace("minute,messages,job_seconds\n0,3,60\n0,1,1800\n1,2,\n")
    assert trace.rows == (TraceRow(0, 3, 60.0), TraceRow(0, 1, 1800.0), TraceRow(1, 2, None))
    assert trace.arrivals_per_minute() == [4, 2]


def test_messages_spread_over_their_minute_and_mixed_jobs_stay_mixed():
    times, jobs = _arrivals(parse_trace("0,3,60\n0,1,1800\n2,2\n"), default_job=30)
    assert times == [0.0, 15.0, 30.0, 45.0, 120.0, 150.0]
    assert sorted(jobs[:4]) == [60, 60, 60, 1800]
    assert jobs[0] == 60 and jobs[-1] == 30  # the long job is not first in its minute
    assert jobs[4:] == [30, 30]


@pytest.mark.parametrize(("text", "fragments"), [
    ("0,5\nten,3\n", ["line 2", "minute 'ten'", "whole number"]),
    ("0,5\n1,-3\n", ["line 2", "messages -3", "out of range"]),
    ("minute,messages\n0\n", ["line 2", "expected 2 or 3", "got 1"]),
    ("0,1,2,3\n", ["line 1", "got 4"]),
    ("0,5,0\n", ["line 1", "job_seconds '0'", "above 0"]),
    ("0,5,soon\n", ["line 1", "job_seconds 'soon'"]),
    ("0,5,50000\n", ["line 1", "at most 43,200"]),
    ("99999999,1\n", ["line 1", "minute 99999999", "out of range"]),
    ("# nothing\n\n", ["no data rows"]),
    ("minute,messages\n", ["no data rows"]),
])
def test_bad_traces_are_one_line_errors_naming_the_line(text, fragments):
    with pytest.raises(TraceError) as caught:
        parse_trace(text, "t.csv")
    message = str(caught.value)
    assert message.startswith("t.csv: ")
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(TraceError, match="no such trace file"):
        load_trace(str(tmp_path / "absent.csv"))
    with pytest.raises(TraceError, match="is a directory"):
        load_trace(str(tmp_path))
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(TraceError, match="not a text file"):
        load_trace(str(binary))
