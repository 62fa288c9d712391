"""SNS topic, its SQS subscription and the queue policy that lets only it send."""

from __future__ import annotations

from tests.support.templates import rendered, walk
from watchbot_cfn.resources import topic


def test_fifo_systems_have_no_topic_subscription_or_queue_policy():
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


def test_queue_policy_lets_only_the_topic_send_to_only_the_work_queue():
    policy = rendered(topic.build)["WatchbotQueuePolicy"]["Properties"]
    assert policy["Queues"] == [{"Ref": "WatchbotQueue"}]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": ["sns.amazonaws.com"]}
    assert statement["Action"] == ["sqs:SendMessage"]
    assert statement["Resource"] == [{"Fn::GetAtt": ["WatchbotQueue", "Arn"]}]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "WatchbotTopic"}}}


def test_no_statement_names_an_aws_principal_or_a_wildcard():
    for node in walk(rendered(topic.build)):
        if isinstance(node, dict) and "Principal" in node:
            assert node["Principal"] != "*"
            assert "AWS" not in node["Principal"]
