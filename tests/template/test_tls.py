"""Every queue and topic a template creates denies requests without TLS, to every principal.

Checked on every example and on option sets that cover each kind of policy: each queue and topic has exactly
one policy, it opens with the deny, the deny names that resource and every action its policy may name, and it
is evaluated here the way IAM evaluates ``Bool``: a request over HTTP is denied, one over HTTPS is not, and a
delivery that carries no ``aws:SecureTransport`` (SNS to SQS, alarms to SNS, inside AWS) is not either.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.templates import FARGATE, REQUIRED
from watchbot_cfn import template
from watchbot_cfn.resources.topic import TOPIC_ACTIONS
from watchbot_cfn.sources.load import load_source

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OPTION_SETS = {
    "standard": {},
    "fifo": {"fifo": True},
    "keys, publishers, webhook": {"message_kms_key": KEY, "topic_publishers": ["events.amazonaws.com"],
                                  "webhook": True, "reduce": True, **FARGATE},
    "alarms to the user's topic": {"notification_email": None, "notification_topic": "arn:aws:sns:us-east-1:"
                                   "123456789012:oncall"},
}
POLICY_TARGETS = {"AWS::SQS::QueuePolicy": ("Queues", "AWS::SQS::Queue"),
                  "AWS::SNS::TopicPolicy": ("Topics", "AWS::SNS::Topic")}


def rendered_templates() -> dict[str, dict[str, Any]]:
    found = {f"example {p.name}": json.loads(load_source(str(p)).to_json()) for p in sorted(EXAMPLES.iterdir())
             if p.suffix in {".toml", ".yaml", ".py"}}
    for name, overrides in OPTION_SETS.items():
        found[f"options: {name}"] = template(**{**REQUIRED, **overrides}).to_dict()
    return found


TEMPLATES = rendered_templates()


def arn_of(resource_type: str, logical_id: str) -> dict[str, Any]:
    """How a policy names the resource: a queue by GetAtt Arn, a topic by Ref (its ARN)."""
    return {"Fn::GetAtt": [logical_id, "Arn"]} if resource_type == "AWS::SQS::Queue" else {"Ref": logical_id}


def policies_by_target(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Logical id of each queue and topic -> the policy documents that apply to it."""
    found: dict[str, list[dict[str, Any]]] = {key: [] for key, value in body["Resources"].items()
                                              if value["Type"] in ("AWS::SQS::Queue", "AWS::SNS::Topic")}
    for value in body["Resources"].values():
        if value["Type"] in POLICY_TARGETS:
            field, _ = POLICY_TARGETS[value["Type"]]
            for target in value["Properties"][field]:
                found[target["Ref"]].append(value["Properties"]["PolicyDocument"])
    return found


def denied(document: dict[str, Any], action: str, resource: Any, context: dict[str, str]) -> bool:
    """Whether an explicit Deny of ``document`` matches, with IAM's meaning of ``Bool`` (absent key: no match)."""
    for statement in document["Statement"]:
        if statement["Effect"] != "Deny" or statement["Principal"] != "*":
            continue
        if not any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in statement["Action"]):
            continue
        if resource not in statement["Resource"]:
            continue
        conditions = statement.get("Condition", {})
        assert set(conditions) <= {"Bool"}, conditions
        if all(key in context and context[key] == expected for key, expected in conditions.get("Bool", {}).items()):
            return True
    return False


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_queue_and_topic_has_one_policy_that_opens_with_the_tls_deny(name):
    body = TEMPLATES[name]
    targets = policies_by_target(body)
    assert targets, name
    for logical_id, documents in targets.items():
        resource_type = body["Resources"][logical_id]["Type"]
        assert len(documents) == 1, f"{name}: {logical_id} has {len(documents)} policies"
        [document] = documents
        deny = document["Statement"][0]
        assert deny["Sid"] == "DenyInsecureTransport"
        assert (deny["Effect"], deny["Principal"]) == ("Deny", "*")
        assert deny["Resource"] == [arn_of(resource_type, logical_id)]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        expected = ["sqs:*"] if resource_type == "AWS::SQS::Queue" else [a.JSONrepr() for a in TOPIC_ACTIONS]
        assert deny["Action"] == expected


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_requests_over_http_are_denied_and_over_https_or_inside_aws_are_not(name):
    body = TEMPLATES[name]
    for logical_id, [document] in policies_by_target(body).items():
        resource_type = body["Resources"][logical_id]["Type"]
        arn = arn_of(resource_type, logical_id)
        actions = ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:PurgeQueue"] \
            if resource_type == "AWS::SQS::Queue" else ["sns:Publish", "sns:Subscribe", "sns:SetTopicAttributes"]
        for action in actions:
            assert denied(document, action, arn, {"aws:SecureTransport": "false"}), (name, logical_id, action)
            assert not denied(document, action, arn, {"aws:SecureTransport": "true"}), (name, logical_id, action)
            assert not denied(document, action, arn, {}), (name, logical_id, action)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_no_allow_in_a_queue_or_topic_policy_trusts_every_principal(name):
    for documents in policies_by_target(TEMPLATES[name]).values():
        for statement in documents[0]["Statement"]:
            if statement["Effect"] == "Allow":
                assert statement["Principal"] != "*" and set(statement["Principal"]) == {"Service"}
                assert "Condition" in statement  # a source (topic, account, alarm) always narrows it


def test_the_alarm_topic_lets_alarms_of_this_account_and_region_publish():
    # a topic policy replaces SNS's default one, which is what let alarms publish before
    body = template(**REQUIRED).to_dict()
    [allowed] = [s for s in body["Resources"]["WatchbotNotificationTopicPolicy"]["Properties"]["PolicyDocument"]
                 ["Statement"] if s["Effect"] == "Allow"]
    assert allowed["Principal"] == {"Service": ["cloudwatch.amazonaws.com"]}
    assert allowed["Action"] == ["sns:Publish"]
    assert allowed["Condition"] == {
        "ArnLike": {"aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:"
                                                 "${AWS::AccountId}:alarm:*"}},
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_a_topic_the_user_gives_for_alarms_gets_no_policy_from_here():
    body = template(**{**REQUIRED, **OPTION_SETS["alarms to the user's topic"]}).to_dict()
    assert "WatchbotNotificationTopicPolicy" not in body["Resources"]
    assert [key for key, value in body["Resources"].items() if value["Type"] == "AWS::SNS::TopicPolicy"] == [
        "WatchbotTopicPolicy"]
