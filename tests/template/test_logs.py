"""The log group."""

from __future__ import annotations

from tests.support.templates import rendered
from watchbot_cfn.resources import logs


def test_log_group_name_comes_from_names_and_keeps_events_for_the_retention():
    built = rendered(logs.build, prefix="Thumbs", log_retention_days=90)
    assert list(built) == ["ThumbsLogGroup"]
    assert built["ThumbsLogGroup"]["Type"] == "AWS::Logs::LogGroup"
    assert built["ThumbsLogGroup"]["Properties"] == {
        "LogGroupName": {"Fn::Sub": "${AWS::StackName}-${AWS::Region}-thumbs"}, "RetentionInDays": 90}


def test_default_retention_is_two_weeks():
    assert rendered(logs.build)["WatchbotLogGroup"]["Properties"]["RetentionInDays"] == 14
