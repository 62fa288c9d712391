"""SNS topic, its SQS subscription and its topic policy (the TLS guard itself: test_tls.py)."""

from __future__ import annotations

import pytest

from tests.support.templates import REQUIRED, rendered, walk
from watchbot_cfn import template
from watchbot_cfn.errors import OptionsError
from watchbot_cfn.resources import topic


def test_fifo_systems_have_no_topic_subscription_or_topic_policy():
    assert rendered(topic.build, fifo=True) == {}


def test_topic_feeds_the_work_queue_through_an_inline_sqs_subscription_as_the_original_did():
    built = rendered(topic.build, prefix="Thumbs")
    assert built["ThumbsTopic"]["Type"] == "AWS::SNS::Topic"
    # inline on the topic, exactly as Watchbot 9 declared it, so an upgrade never unsubscribes the queue
    assert built["ThumbsTopic"]["Properties"]["Subscription"] == [
        {"Protocol": "sqs", "Endpoint": {"Fn::GetAtt": ["ThumbsQueue", "Arn"]}}]
    assert not [r for r in built.values() if r["Type"] == "AWS::SNS::Subscription"]


def test_subscription_keeps_the_sns_envelope_the_watcher_unwraps():
    [subscription] = rendered(topic.build)["WatchbotTopic"]["Properties"]["Subscription"]
    assert subscription.get("RawMessageDelivery", False) is False


def test_without_publishers_the_topic_policy_allows_nothing():
    # principals of this account publish through their own IAM policies; a topic policy cannot take that away
    policy = rendered(topic.build)["WatchbotTopicPolicy"]["Properties"]
    assert policy["Topics"] == [{"Ref": "WatchbotTopic"}]
    assert [s["Effect"] for s in policy["PolicyDocument"]["Statement"]] == ["Deny"]


def test_topic_publishers_may_publish_for_this_account_only():
    policy = rendered(topic.build, topic_publishers=["s3.amazonaws.com", "events.amazonaws.com",
                                                     "s3.amazonaws.com"])["WatchbotTopicPolicy"]["Properties"]
    [allowed] = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allowed == {
        "Sid": "ServicesOfThisAccountPublish", "Effect": "Allow",
        "Principal": {"Service": ["s3.amazonaws.com", "events.amazonaws.com"]},
        "Action": ["sns:Publish"], "Resource": [{"Ref": "WatchbotTopic"}],
        "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
    }


def test_topic_publishers_are_refused_for_fifo_systems():
    with pytest.raises(OptionsError, match="topic_publishers.*FIFO systems have no SNS topic"):
        template(**REQUIRED, fifo=True, topic_publishers=["events.amazonaws.com"])


def test_a_topic_publisher_must_be_a_service_principal():
    with pytest.raises(OptionsError, match="topic_publishers.*service principals such as s3.amazonaws.com"):
        template(**REQUIRED, topic_publishers=["arn:aws:iam::123456789012:root"])


def test_no_allow_statement_names_an_aws_principal_or_a_wildcard():
    built = rendered(topic.build, topic_publishers=["events.amazonaws.com"])
    statements = [node for node in walk(built) if isinstance(node, dict) and "Principal" in node]
    assert statements
    for statement in statements:
        if statement["Effect"] == "Allow":
            assert statement["Principal"] != "*"
            assert set(statement["Principal"]) == {"Service"}
