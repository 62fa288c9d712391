"""No Lambda function, Events rule or custom resource in any configuration; scaling always wired.

A hypothesis property renders whole templates over the scaling, alarm,
reduce and webhook options (rendering only, so it is cheap); a handful of
full-featured configurations also go through cfn-lint.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from troposphere import Parameter

import watchbot_cfn
from tests.support.strategies import INTRINSIC_PARAMETERS, valid_values
from tests.support.templates import FARGATE, REQUIRED, walk
from watchbot_cfn.lint import lint
from watchbot_cfn.options import spec
from watchbot_cfn.rules import MAX_ALARM_WINDOW

FORBIDDEN_PREFIXES = ("AWS::Lambda::", "AWS::Events::", "AWS::Scheduler::", "AWS::Serverless::", "Custom::",
                      "AWS::CloudFormation::CustomResource")
PARAMETERS = dict(INTRINSIC_PARAMETERS.values())


def render(options: dict[str, Any]) -> dict[str, Any]:
    built = watchbot_cfn.template(**options)
    used = {value["Ref"] for value in walk(built.to_dict()) if isinstance(value, dict) and "Ref" in value}
    for name in sorted(used & set(PARAMETERS)):
        built.add_parameter(Parameter(name, Type=PARAMETERS[name]))
    return built.to_dict()


@st.composite
def scaling_and_alarm_options(draw: st.DrawFn) -> dict[str, Any]:
    options: dict[str, Any] = dict(REQUIRED)
    if draw(st.booleans()):
        options["max_size"] = {"Ref": "MaxSize"}
        options["min_size"] = draw(st.one_of(st.integers(0, 10), st.just({"Ref": "MinSize"})))
    else:
        options["max_size"] = draw(st.integers(0, spec("max_size").accepts.high))
        options["min_size"] = draw(st.integers(0, options["max_size"]))
    options["scaling_mode"] = draw(valid_values(spec("scaling_mode")))
    optional = ["autoscaling_role_arn", "scale_out_step", "scale_out_cooldown", "scale_in_cooldown",
                "scale_out_period", "scale_in_idle_minutes", "target_latency", "typical_job_duration", "concurrency",
                "cluster", "error_threshold", "alarm_periods", "dead_letter_alarm", "dashboard", "structured_logging",
                "reduce", "prefix"]
    for name in optional:
        if draw(st.booleans()):
            options[name] = draw(valid_values(spec(name)))
    if options.get("alarm_periods", 0) * spec("alarm_period").default > MAX_ALARM_WINDOW:
        del options["alarm_periods"]  # the window rule is tested in test_options.py
    if draw(st.booleans()):
        options.pop("notification_email")
        options["notification_topic"] = "arn:aws:sns:us-east-1:123456789012:ops"
    kind = draw(st.sampled_from(["standard", "webhook", "fifo", "fargate"]))
    if kind == "webhook":
        options["webhook"] = True
    elif kind == "fifo":
        options["fifo"] = True
    elif kind == "fargate":
        options.update(FARGATE)
    return options


def check_template(template: dict[str, Any], options: dict[str, Any]) -> None:
    resources = template["Resources"]
    kinds = {logical_id: resource["Type"] for logical_id, resource in resources.items()}
    assert not [k for k in kinds.values() if k.startswith(FORBIDDEN_PREFIXES)]
    assert "Transform" not in template
    prefix = options.get("prefix", "Watchbot")
    # alarm -> policy -> target, in every configuration
    for direction in ("Out", "In"):
        alarm = resources[f"{prefix}Scale{direction}Alarm"]["Properties"]
        assert alarm["AlarmActions"] == [{"Ref": f"{prefix}Scale{direction}Policy"}]
        policy = resources[f"{prefix}Scale{direction}Policy"]["Properties"]
        assert policy["ScalingTargetId"] == {"Ref": f"{prefix}ScalingTarget"}
    if options["scaling_mode"] == "backlog-per-task":
        assert any("Expression" in q for q in resources[f"{prefix}ScaleOutAlarm"]["Properties"]["Metrics"])
    assert kinds[f"{prefix}ScalingTarget"] == "AWS::ApplicationAutoScaling::ScalableTarget"
    assert (f"{prefix}ScalingRole" in kinds) == ("autoscaling_role_arn" not in options)
    alarms = [k for k in kinds if k.endswith("Alarm") and not k.startswith(f"{prefix}Scale")]
    assert len(alarms) == (5 if options.get("dead_letter_alarm", True) else 4)
    assert (f"{prefix}Dashboard" in kinds) == options.get("dashboard", True)
    assert (f"{prefix}ProgressTable" in kinds) == options.get("reduce", False)
    # every reference points at something the template defines
    defined = set(resources) | set(template.get("Parameters", {}))
    for value in walk(template):
        if isinstance(value, dict) and "Ref" in value and not value["Ref"].startswith("AWS::"):
            assert value["Ref"] in defined, value
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            assert value["Fn::GetAtt"][0] in resources, value


@given(scaling_and_alarm_options())
def test_no_lambda_no_events_rule_no_custom_resource_and_scaling_is_wired(options):
    check_template(render(options), options)


FULL: dict[str, dict[str, Any]] = {
    "queue-depth, email, reduce provisioned": {"max_size": 50, "min_size": 1, "reduce": True,
                                                "read_capacity_units": 5, "write_capacity_units": 5},
    "backlog, intrinsics, webhook": {"scaling_mode": "backlog-per-task", "max_size": {"Ref": "MaxSize"},
                                     "min_size": {"Ref": "MinSize"}, "cluster": {"Ref": "Cluster"},
                                     "webhook": True, "structured_logging": True},
    "fifo fargate, own topic and role, no dlq alarm, no dashboard": {
        **FARGATE, "fifo": True, "notification_email": None,
        "notification_topic": "arn:aws:sns:us-east-1:123456789012:ops",
        "autoscaling_role_arn": "arn:aws:iam::123456789012:role/scaler", "dead_letter_alarm": False,
        "dashboard": False, "reduce": True},
}


@pytest.mark.parametrize("extra", list(FULL.values()), ids=list(FULL))
def test_full_featured_configurations_lint_clean(extra):
    options = {key: value for key, value in {**REQUIRED, **extra}.items() if value is not None}
    template = render(options)
    check_template(template, options | {"scaling_mode": options.get("scaling_mode", "queue-depth")})
    assert [str(f) for f in lint(template) if f.level in ("error", "warning")] == []
