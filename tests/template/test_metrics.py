"""Log metric filters: wiring, names, namespace, and patterns that match real lines.

The lines are made with the contract's own formatting functions (the ones the
watcher uses), and each pattern is taken from the rendered MetricFilter, so a
change on either side that breaks the metrics fails here. The matcher below
implements the part of CloudWatch Logs filter syntax the contract uses.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import pytest

from watchbot_cfn import contract
from watchbot_cfn.resources import metrics
from tests.support.templates import rendered

METRICS = [spec.metric for spec in contract.METRIC_FILTERS]


# --- a small CloudWatch Logs filter matcher ----------------------------------------

def match(pattern: str, line: str) -> dict[str, Any] | None:
    """Fields a matching line exposes (for ``$name`` / ``$.path`` values), or None."""
    pattern = pattern.strip()
    if pattern.startswith("{"):
        return _match_json(pattern, line)
    if pattern.startswith("["):
        return _match_fields(pattern, line)
    return _match_terms(pattern, line)


def _match_terms(pattern: str, line: str) -> dict[str, Any] | None:
    terms = shlex.split(pattern)  # quoted phrases stay whole; every term must appear
    return {} if all(term in line for term in terms) else None


def _match_json(pattern: str, line: str) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    body = pattern.strip()[1:-1]
    for condition in body.split("&&"):
        found = re.fullmatch(r'\s*\$\.([\w.]+)\s*(=|!=)\s*("(?:[^"\\]|\\.)*"|\*|-?\d+(?:\.\d+)?)\s*', condition)
        assert found, f"unsupported JSON condition {condition!r}"
        path, operator, expected = found.groups()
        value: Any = record
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if expected == "*":
            ok = value is not None
        elif expected.startswith('"'):
            ok = value == json.loads(expected)
        else:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == float(expected)
        if ok != (operator == "="):
            return None
    return {"$." + key: value for key, value in record.items()}


def _split_line(line: str) -> list[str]:
    """Space-delimited fields; text in [] or "" is one field."""
    return re.findall(r'\[[^\]]*\]|"[^"]*"|\S+', line)


def _match_fields(pattern: str, line: str) -> dict[str, Any] | None:
    specs = [part.strip() for part in pattern.strip()[1:-1].split(",")]
    fields = _split_line(line)
    if "..." not in specs and len(specs) != len(fields):
        return None
    named: dict[str, Any] = {}
    position = 0
    for spec in specs:
        if spec == "...":
            assert spec is specs[-1], "only a trailing ellipsis is supported"
            return named
        if position >= len(fields):
            return None
        field = fields[position]
        name, _, expected = spec.partition("=")
        if expected and not re.fullmatch(re.escape(expected).replace(r"\*", ".*"), field):
            return None
        named["$" + name] = field
        position += 1
    return named if position == len(fields) else None


def metric_value(value_spec: str, fields: dict[str, Any]) -> float:
    value = fields[value_spec] if value_spec.startswith("$") else value_spec
    return float(value)


def test_the_matcher_knows_the_syntax_it_implements():
    assert match('"[failure]"', "[t] [watcher] [id] [failure] exit 1") == {}
    assert match('"[failure]"', "[t] [watcher] [id] failure") is None
    assert match('{ $.a = "x" && $.n = * }', '{"a": "x", "n": 3}') == {"$.a": "x", "$.n": 3}
    assert match('{ $.a = "x" }', '{"a": "y"}') is None
    assert match("[a, b=two, ...]", "one two three") == {"$a": "one", "$b": "two"}
    assert match("[a, b=two]", "one two three") is None


# --- the filters in the template -----------------------------------------------------

def filters(**overrides: Any) -> dict[str, dict[str, Any]]:
    built = rendered(metrics.build, **overrides)
    return {logical_id.removeprefix(overrides.get("prefix", "Watchbot")).removesuffix("MetricFilter"):
            resource["Properties"] for logical_id, resource in built.items()}


def test_one_filter_per_contract_metric_on_the_stack_log_group():
    built = filters(prefix="Thumbs")
    assert sorted(built) == sorted(METRICS)
    for properties in built.values():
        assert properties["LogGroupName"] == {"Ref": "ThumbsLogGroup"}
        [transformation] = properties["MetricTransformations"]
        assert transformation["MetricNamespace"] == "Watchbot"


def test_metric_names_carry_stack_and_prefix_so_systems_never_share_one():
    first, second = filters(prefix="Thumbs"), filters(prefix="Videos")
    for metric in METRICS:
        one = first[metric]["MetricTransformations"][0]["MetricName"]
        other = second[metric]["MetricTransformations"][0]["MetricName"]
        assert one == {"Fn::Sub": f"{metric}-${{AWS::StackName}}-Thumbs"}
        assert one != other


def test_namespace_and_units_are_configurable_and_meaningful():
    built = filters(metric_namespace="Team/Workers")
    units = {spec.metric: spec.unit for spec in contract.METRIC_FILTERS}
    for metric, properties in built.items():
        [transformation] = properties["MetricTransformations"]
        assert transformation["MetricNamespace"] == "Team/Workers"
        assert transformation["Unit"] == units[metric]


@pytest.mark.parametrize("structured", [False, True], ids=["plain", "structured"])
def test_the_log_mode_picks_the_matching_pattern(structured):
    built = filters(structured_logging=structured)
    for spec in contract.METRIC_FILTERS:
        expected = (spec.structured_pattern, spec.structured_value) if structured else (spec.plain_pattern,
                                                                                         spec.plain_value)
        properties = built[spec.metric]
        assert (properties["FilterPattern"], properties["MetricTransformations"][0]["MetricValue"]) == expected


SUMMARY = contract.JobSummary(outcome="failure", exit_code=1, duration=1234, receives=3, response_duration=98765)
MESSAGE_ID = "5fea7756-0ea4-451a-a703-a558b933e274"
TIME = "2024-05-01T12:00:00.000Z"


def watcher_lines(structured: bool) -> dict[str, str]:
    """The lines the watcher writes, made with the contract's formatting functions."""
    if structured:
        return {
            "failure": contract.structured_line(contract.SOURCE_WATCHER, MESSAGE_ID, contract.EVENT_FAILURE,
                                                {"reason": "exit code 1"}, time=TIME),
            "summary": contract.structured_line(contract.SOURCE_WATCHER, MESSAGE_ID, contract.EVENT_SUMMARY,
                                                contract.structured_summary_fields(SUMMARY), time=TIME),
            "worker": contract.structured_line(contract.SOURCE_WORKER, MESSAGE_ID, contract.EVENT_LOG,
                                               {"text": "processing failure of upstream"}, time=TIME),
        }
    return {
        "failure": contract.plain_line(contract.SOURCE_WATCHER, MESSAGE_ID,
                                       contract.plain_failure_text("exit code 1"), time=TIME),
        "summary": contract.plain_line(contract.SOURCE_WATCHER, MESSAGE_ID, contract.plain_summary_text(SUMMARY),
                                       time=TIME),
        "worker": contract.plain_line(contract.SOURCE_WORKER, MESSAGE_ID, "processing failure of upstream",
                                      time=TIME),
    }


EXPECTED = {  # metric -> (the line it counts, the value it publishes)
    "WorkerErrors": ("failure", 1),
    "WorkerDuration": ("summary", SUMMARY.duration),
    "MessageReceives": ("summary", SUMMARY.receives),
    "ResponseDuration": ("summary", SUMMARY.response_duration),
}


@pytest.mark.parametrize("structured", [False, True], ids=["plain", "structured"])
@pytest.mark.parametrize("metric", METRICS)
def test_each_rendered_pattern_counts_exactly_its_watcher_line(structured, metric):
    properties = filters(structured_logging=structured)[metric]
    pattern = properties["FilterPattern"]
    value_spec = properties["MetricTransformations"][0]["MetricValue"]
    wanted, value = EXPECTED[metric]
    for kind, line in watcher_lines(structured).items():
        fields = match(pattern, line)
        if kind == wanted:
            assert fields is not None, f"{metric} pattern {pattern!r} misses {line!r}"
            assert metric_value(value_spec, fields) == value
        else:
            assert fields is None, f"{metric} pattern {pattern!r} also counts {line!r}"
