"""Stack outputs."""

from __future__ import annotations

from tests.support.templates import rendered
from watchbot_cfn.resources import outputs


def test_outputs_say_where_the_queues_logs_and_topic_are():
    built = rendered(outputs.build, prefix="Thumbs", cluster="arn:aws:ecs:us-east-1:123456789012:cluster/x")
    assert {key: value["Value"] for key, value in built.items()} == {
        "ThumbsClusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/x",
        "ThumbsQueueUrl": {"Ref": "ThumbsQueue"},
        "ThumbsDeadLetterQueueUrl": {"Ref": "ThumbsDeadLetterQueue"},
        "ThumbsLogGroupName": {"Ref": "ThumbsLogGroup"},
        "ThumbsTopicArn": {"Ref": "ThumbsTopic"},
    }
    assert all(value["Description"] for value in built.values())


def test_fifo_systems_output_no_topic():
    assert "WatchbotTopicArn" not in rendered(outputs.build, fifo=True)


def test_two_prefixes_share_no_output_id():
    assert not set(rendered(outputs.build, prefix="Alpha")) & set(rendered(outputs.build, prefix="Beta"))


def test_cluster_output_passes_an_intrinsic_through():
    assert rendered(outputs.build, cluster={"Ref": "Cluster"})["WatchbotClusterArn"]["Value"] == {"Ref": "Cluster"}
