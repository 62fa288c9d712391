"""Reading the scaling set-up from rendered templates: this project's, CDK's, hand-written ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from watchbot_cfn.simulate import SimulationError, read_setup
from watchbot_cfn.simulate.policies import StepPolicy, TargetTrackingPolicy
from watchbot_cfn.sources.templatefile import load_template

from .builders import alarm, queue_metric, step_policy, target_tracking, template

REPO = Path(__file__).resolve().parents[2]
CDK = Path(__file__).resolve().parents[1] / "fixtures" / "cdk-queue-processing" / "stack.template.json"
TRACES = REPO / "examples" / "traces"

OUT = {"Out": step_policy("ChangeInCapacity", [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]),
       "OutAlarm": alarm("Out", "GreaterThanThreshold", 0)}


def test_queue_depth_template():
    setup = read_setup(load_template(str(TRACES / "queue-depth.toml")))
    assert (setup.target, setup.min_capacity, setup.max_capacity) == ("WatchbotScalingTarget", 0, 50)
    assert {alarm.name for alarm in setup.alarms} == {"WatchbotScaleOutAlarm", "WatchbotScaleInAlarm"}
    out = setup.policies["WatchbotScaleOutPolicy"]
    assert isinstance(out, StepPolicy) and out.steps[0].adjustment == 5 and out.cooldown == 300
    assert (setup.concurrency, setup.watcher, setup.drain_seconds) == (1, True, 25.0)
    assert setup.protection is True  # the container's taskProtection variable, on by default
    assert setup.visibility_timeout == 180


def test_backlog_template_reads_its_metric_math_and_container_insights():
    setup = read_setup(load_template(str(TRACES / "backlog-per-task.toml")))
    [out] = [alarm for alarm in setup.alarms if alarm.name == "WatchbotScaleOutAlarm"]
    assert {q.signal for q in out.queries if q.signal} == {"visible", "running_tasks"}
    assert [q.query_id for q in out.queries if q.returned] == ["missing"]
    assert len(setup.policies["WatchbotScaleOutPolicy"].steps) == 6


def test_cdk_template_step_and_target_tracking_policies():
    setup = read_setup(json.loads(CDK.read_text()))
    kinds = sorted(type(policy).__name__ for policy in setup.policies.values())
    assert kinds == ["StepPolicy", "StepPolicy", "TargetTrackingPolicy"]
    tracking = next(p for p in setup.policies.values() if isinstance(p, TargetTrackingPolicy))
    assert tracking.target == 50 and tracking.scale_in_cooldown == 300
    upper = next(p for p in setup.policies.values() if isinstance(p, StepPolicy) and p.steps[0].adjustment > 0)
    assert upper.cooldown == 300  # not in the template: Application Auto Scaling's ECS default
    assert (setup.concurrency, setup.watcher, setup.protection, setup.visibility_timeout) == (1, False, False, 30)
    assert setup.concurrency_source == "the template does not say"
    assert sorted(a.period_seconds for a in setup.alarms) == [60, 60, 300, 300]


def test_protection_from_the_role_the_environment_or_the_command_line():
    assert read_setup(template(0, 2, OUT)).protection is False
    by_role = read_setup(template(0, 2, OUT, role_actions=["ecs:UpdateTaskProtection"]))
    assert by_role.protection is True and "task role" in by_role.protection_source
    assert read_setup(template(0, 2, OUT, role_actions=["ecs:*"])).protection is True
    by_variable = read_setup(template(0, 2, OUT, environment={"taskProtection": "true"}))
    assert by_variable.protection is True and "taskProtection" in by_variable.protection_source
    switched_off = template(0, 2, OUT, environment={"taskProtection": "false"},
                            role_actions=["ecs:UpdateTaskProtection"])
    assert read_setup(switched_off).protection is False
    assert read_setup(switched_off, protection=True).protection_source == "--protection"


def test_protection_from_a_separate_iam_policy_attached_to_the_role():
    body = template(0, 2, OUT)
    body["Resources"]["Extra"] = {"Type": "AWS::IAM::Policy", "Properties": {
        "PolicyName": "p", "Roles": [{"Ref": "TaskRole"}],
        "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "ecs:UpdateTaskProtection",
                                          "Resource": "*"}]}}}
    assert read_setup(body).protection is True


def test_concurrency_from_the_container_or_the_command_line():
    body = template(0, 2, OUT, environment={"concurrency": "4"})
    assert read_setup(body).concurrency == 4
    assert read_setup(body, concurrency=2).concurrency == 2
    assert read_setup(template(0, 2, OUT)).concurrency == 1


def test_parameters_resolve_to_defaults_or_given_values():
    body = template({"Ref": "Max"}, {"Ref": "Max"}, OUT, parameters={"Max": {"Type": "Number", "Default": 7}})
    assert read_setup(body).max_capacity == 7
    assert read_setup(body, parameters={"Max": "3"}).max_capacity == 3


def test_alarms_on_the_dead_letter_queue_read_zero():
    body = template(0, 2, {**OUT, "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {}},
                           "DlqAlarm": alarm("Out", "GreaterThanThreshold", 0, metric=queue_metric(queue="Dlq"))})
    body["Resources"]["Queue"]["Properties"]["RedrivePolicy"] = {
        "deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}, "maxReceiveCount": 3}
    signals = {alarm.name: alarm.queries[0].signal for alarm in read_setup(body).alarms}
    assert signals == {"OutAlarm": "visible", "DlqAlarm": "zero"}


def test_alarms_without_scaling_actions_are_ignored():
    notify = alarm("Out", "GreaterThanThreshold", 0)
    notify["Properties"]["AlarmActions"] = [{"Ref": "SomeTopic"}]
    setup = read_setup(template(0, 2, {**OUT, "Notify": notify}))
    assert [a.name for a in setup.alarms] == ["OutAlarm"]


@pytest.mark.parametrize(("change", "fragments"), [
    (lambda b: b["Resources"].pop("Target"), ["no AWS::ApplicationAutoScaling::ScalableTarget"]),
    (lambda b: b["Resources"].update(Other=b["Resources"]["Target"]), ["2 ECS services", "--target"]),
    (lambda b: b["Resources"]["Target"]["Properties"].update(MaxCapacity={"Ref": "Max"}),
     ["MaxCapacity", "no Default", "--parameter Max=VALUE"]),
    (lambda b: b["Resources"]["Target"]["Properties"].update(MaxCapacity={"Fn::If": ["c", 1, 2]}),
     ["Target.Properties.MaxCapacity", "Fn::If"]),
    (lambda b: b["Resources"]["Target"]["Properties"].update(MinCapacity=5, MaxCapacity=2),
     ["MaxCapacity 2 is below MinCapacity 5"]),
    (lambda b: b["Resources"]["OutAlarm"]["Properties"].update(MetricName="NumberOfEmptyReceives"),
     ["OutAlarm", "NumberOfEmptyReceives is not simulated"]),
    (lambda b: b["Resources"]["OutAlarm"]["Properties"].update(Statistic="p90"),
     ["OutAlarm", "statistic 'p90'"]),
    (lambda b: b["Resources"]["OutAlarm"]["Properties"].update(ComparisonOperator="LessThanLowerThreshold"),
     ["ComparisonOperator", "LessThanLowerThreshold"]),
    (lambda b: b["Resources"]["Out"]["Properties"]["StepScalingPolicyConfiguration"].update(
        AdjustmentType="Double"), ["Out.Properties.StepScalingPolicyConfiguration.AdjustmentType", "'Double'"]),
    (lambda b: b["Resources"].update(Tt=target_tracking(100, "ALBRequestCountPerTarget")),
     ["ALBRequestCountPerTarget", "not simulated"]),
    (lambda b: b.pop("Resources"), ["no Resources"]),
])
def test_what_cannot_be_simulated_is_named(change, fragments):
    body = template(0, 2, dict(OUT), parameters={"Max": {"Type": "Number"}})
    change(body)
    with pytest.raises(SimulationError) as caught:
        read_setup(body)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_metric_math_errors_name_the_alarm_query():
    metrics = [{"Id": "v", "MetricStat": {"Metric": queue_metric(), "Period": 60, "Stat": "Maximum"},
                "ReturnData": False},
               {"Id": "e", "Expression": "RATE(v)", "ReturnData": True}]
    body = template(0, 2, {**OUT, "OutAlarm": alarm("Out", "GreaterThanThreshold", 0, metrics=metrics)})
    with pytest.raises(SimulationError, match=r"OutAlarm.Properties.Metrics\[1\].Expression: .*RATE"):
        read_setup(body)


def test_unknown_target_and_parameter_are_named():
    with pytest.raises(SimulationError, match="--target Nope: .*Target"):
        read_setup(template(0, 2, OUT), target="Nope")
    with pytest.raises(SimulationError, match="--parameter Nope"):
        read_setup(template(0, 2, OUT), parameters={"Nope": "1"})


def test_an_action_may_name_the_policy_by_its_arn_attribute():
    body = template(0, 2, OUT)
    body["Resources"]["OutAlarm"]["Properties"]["AlarmActions"] = [{"Fn::GetAtt": ["Out", "Arn"]}]
    assert [a.actions for a in read_setup(body).alarms] == [{"ALARM": ("Out",)}]
