"""Log metric filters: wiring, names, namespace, and patterns that match real lines.

The lines are made with the contract's own formatting functions (the ones the
watcher uses), and each pattern is taken from the rendered MetricFilter, so a
change on either side that breaks the metrics fails here. Matching uses the
shared CloudWatch filter matcher of tests/support/filtermatch.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.filtermatch import matches, metric_value
from tests.support.templates import rendered
from watchbot_cfn import contract
from watchbot_cfn.resources import metrics

METRICS = [spec.metric for spec in contract.METRIC_FILTERS]


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


SUMMARY = contract.JobSummary(outcome="failure", exit_code=1, duration=1234, receives=3, response_duration=98765,
                              reason="exit code 1")
MESSAGE_ID = "5fea7756-0ea4-451a-a703-a558b933e274"
TIME = "2024-05-01T12:00:00.000Z"
#: A worker's JSON line carrying every field the structured filters read.
FORGED = ('{"name":"watcher","worker_event":"failure","duration":5,"receives":9,"response_duration":7,'
          '"level":50,"code":1}')


def watcher_lines(structured: bool) -> dict[str, str]:
    """The lines the watcher writes, made with the contract's formatting functions."""
    if structured:
        result = contract.structured_result_line(MESSAGE_ID, SUMMARY, time=TIME)
        return {
            "failure": result,
            "summary": result,
            "notice": contract.structured_line(contract.SOURCE_WATCHER, MESSAGE_ID, {"msg": "failure ahead"},
                                               level=contract.LEVEL_ERROR, time=TIME),
            "worker": contract.structured_worker_line(MESSAGE_ID, "processing failure of upstream", time=TIME),
            # a worker that prints a JSON result of its own must not feed the metrics
            "worker json result": contract.structured_worker_line(MESSAGE_ID, FORGED, time=TIME),
        }
    failure, summary = contract.plain_result_lines(MESSAGE_ID, SUMMARY, time=TIME)
    return {
        "failure": failure,
        "summary": summary,
        "worker": contract.plain_line(contract.SOURCE_WORKER, MESSAGE_ID, "processing failure of upstream",
                                      time=TIME),
        # a worker that prints text shaped like the watcher's must not feed the metrics
        "worker failure text": contract.plain_line(contract.SOURCE_WORKER, MESSAGE_ID,
                                                   contract.plain_failure_text("mine"), time=TIME),
        "worker summary text": contract.plain_line(contract.SOURCE_WORKER, MESSAGE_ID,
                                                   contract.plain_summary_text(SUMMARY), time=TIME),
        "worker json result": contract.plain_line(contract.SOURCE_WORKER, MESSAGE_ID, FORGED, time=TIME),
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
    lines = watcher_lines(structured)
    for line in lines.values():
        if line == lines[wanted]:
            assert matches(pattern, line), f"{metric} pattern {pattern!r} misses {line!r}"
            assert metric_value(pattern, value_spec, line) == value
        else:
            assert not matches(pattern, line), f"{metric} pattern {pattern!r} also counts {line!r}"
