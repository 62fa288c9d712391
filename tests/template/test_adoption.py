"""Adoption options: a system keeps the logical ids, names, subscription form and exports of a stack it takes over."""

from __future__ import annotations

import json

import pytest

from tests.support.templates import FARGATE, REQUIRED
from watchbot_cfn import template
from watchbot_cfn.errors import OptionsError
from watchbot_cfn.lint import lint

ADOPTED = {
    "logical_ids": {"queue": "WatchbotQueueC59E21BC", "dead_letter_queue": "WatchbotDeadLetterQueue70F53B08",
                    "queue_policy": "WatchbotQueuePolicy15E07733", "topic": "WatchbotTopic37DD0D00",
                    "subscription": "WatchbotQueueMyStackWatchbotTopicE979EEE08E81285D",
                    "log_group": "WatchbotLogGroup", "progress_table": "ProgressTable"},
    "resource_names": {"topic": "my-stack-WatchbotTopic", "progress_table": "my-stack-watchbot-progress"},
    "topic_subscription": "resource",
    "exports": [{"name": "${AWS::StackName}-topic", "value": "topic", "output": "WatchbotTopicOutput96825070"}],
}


def _render(**overrides: object) -> dict:
    return json.loads(template(**{**REQUIRED, **FARGATE, **overrides}).to_json())


def test_kept_logical_ids_replace_the_derived_ones_and_every_reference_follows():
    body = _render(reduce=True, **ADOPTED)
    resources = body["Resources"]
    for kept in ADOPTED["logical_ids"].values():
        assert kept in resources
    for derived in ("WatchbotQueue", "WatchbotDeadLetterQueue", "WatchbotTopic", "WatchbotQueuePolicy"):
        assert derived not in resources
    text = json.dumps(body)
    # no reference is left dangling on a derived id
    assert '"WatchbotQueue"' not in text and '"WatchbotTopic"' not in text
    redrive = resources["WatchbotQueueC59E21BC"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["WatchbotDeadLetterQueue70F53B08", "Arn"]}


def test_kept_names_are_literal_or_a_sub_when_they_name_a_pseudo_parameter():
    body = _render(reduce=True, resource_names={"topic": "my-stack-WatchbotTopic",
                                                "progress_table": "${AWS::StackName}-watchbot-progress"})
    resources = body["Resources"]
    assert resources["WatchbotTopic"]["Properties"]["TopicName"] == "my-stack-WatchbotTopic"
    assert resources["WatchbotProgressTable"]["Properties"]["TableName"] == {
        "Fn::Sub": "${AWS::StackName}-watchbot-progress"}


def test_generated_names_leave_the_name_out_and_the_redrive_allow_policy_that_spells_it():
    body = _render(reduce=True, generated_names=["queue", "dead_letter_queue", "log_group", "progress_table"])
    resources = body["Resources"]
    assert "QueueName" not in resources["WatchbotQueue"]["Properties"]
    assert "QueueName" not in resources["WatchbotDeadLetterQueue"]["Properties"]
    assert "RedriveAllowPolicy" not in resources["WatchbotDeadLetterQueue"]["Properties"]
    assert "LogGroupName" not in resources["WatchbotLogGroup"]["Properties"]
    assert "TableName" not in resources["WatchbotProgressTable"]["Properties"]


def test_the_topic_has_no_name_unless_one_is_kept():
    assert "TopicName" not in _render()["Resources"]["WatchbotTopic"]["Properties"]


def test_a_subscription_of_its_own_replaces_the_inline_one_and_waits_for_the_queue_policy():
    resources = _render(topic_subscription="resource")["Resources"]
    assert "Subscription" not in resources["WatchbotTopic"]["Properties"]
    subscription = resources["WatchbotTopicSubscription"]
    assert subscription["Type"] == "AWS::SNS::Subscription"
    assert subscription["Properties"] == {"Protocol": "sqs", "TopicArn": {"Ref": "WatchbotTopic"},
                                          "Endpoint": {"Fn::GetAtt": ["WatchbotQueue", "Arn"]}}
    assert subscription["DependsOn"] == ["WatchbotQueuePolicy"]


def test_exports_keep_their_name_and_output_id_and_a_fifo_topic_exports_an_empty_value():
    standard = _render(exports=ADOPTED["exports"])["Outputs"]["WatchbotTopicOutput96825070"]
    assert standard["Value"] == {"Ref": "WatchbotTopic"}
    assert standard["Export"] == {"Name": {"Fn::Sub": "${AWS::StackName}-topic"}}
    fifo = _render(fifo=True, exports=[{"name": "my-stack-topic", "value": "topic"}])["Outputs"]
    assert fifo["WatchbotExport1"]["Value"] == ""
    assert fifo["WatchbotExport1"]["Export"] == {"Name": "my-stack-topic"}


@pytest.mark.parametrize(("overrides", "option", "says"), [
    ({"logical_ids": {"queue": "Bad-Id"}}, "logical_ids", "letters and digits"),
    ({"logical_ids": {"queues": "X"}}, "logical_ids", "unknown keys ['queues']"),
    ({"logical_ids": {"queue": "Same", "topic": "Same"}}, "logical_ids", "gives Same to both queue and topic"),
    ({"resource_names": {"service": "x"}}, "resource_names", "unknown keys ['service']"),
    ({"generated_names": ["table"]}, "generated_names", "'progress_table'"),
    ({"generated_names": ["queue"], "resource_names": {"queue": "q"}}, "generated_names", "names queue"),
    ({"topic_subscription": "nested"}, "topic_subscription", "'inline', 'resource'"),
    ({"exports": [{"name": "x", "value": "cluster"}]}, "exports", "'topic'"),
    ({"exports": [{"value": "topic"}]}, "exports", "name, value"),
    ({"exports": [{"name": "x", "value": "progress_table"}]}, "exports", "set reduce = true"),
    ({"exports": [{"name": "x", "value": "topic"}, {"name": "x", "value": "queue_url"}]}, "exports", "twice"),
])
def test_bad_adoption_options_name_the_option_the_value_and_what_is_allowed(overrides, option, says):
    with pytest.raises(OptionsError) as raised:
        template(**{**REQUIRED, **overrides})
    assert raised.value.option == option
    assert says in str(raised.value)


def test_an_adopted_render_lints_clean():
    body = template(**{**REQUIRED, **FARGATE, "reduce": True, **ADOPTED})
    findings = [str(f) for f in lint(body.to_json()) if f.level != "informational"]
    assert findings == []


def test_an_adopted_fifo_render_with_an_empty_export_lints_clean():
    body = template(**{**REQUIRED, **FARGATE, "fifo": True,
                       "exports": [{"name": "my-stack-topic", "value": "topic"}],
                       "generated_names": ["log_group"]})
    assert [str(f) for f in lint(body.to_json()) if f.level != "informational"] == []


@pytest.mark.parametrize(("fifo", "role", "name", "need"), [
    (True, "dead_letter_queue", "jobs-dead", "must end in .fifo"),
    (False, "queue", "jobs.fifo", "must not end in .fifo"),
])
def test_a_queue_name_sqs_would_refuse_for_the_queue_kind_names_the_option(fifo, role, name, need):
    with pytest.raises(OptionsError) as error:
        template(**REQUIRED, fifo=fifo, resource_names={role: name})
    text = str(error.value)
    assert "resource_names" in text and f"{role} is named {name!r}" in text and need in text


def test_fifo_queue_names_that_end_in_fifo_are_kept():
    body = json.loads(template(**REQUIRED, fifo=True, resource_names={"queue": "jobs.fifo"}).to_json())
    assert body["Resources"]["WatchbotQueue"]["Properties"]["QueueName"] == "jobs.fifo"
