"""Reduce mode: the progress table and the worker's permission to use it."""

from __future__ import annotations

from tests.support.templates import rendered
from watchbot_cfn.resources import progress


def test_no_table_without_reduce_mode():
    assert rendered(progress.build) == {}


def test_table_is_keyed_by_string_id_and_on_demand_by_default():
    table = rendered(progress.build, reduce=True, prefix="Thumbs")["ThumbsProgressTable"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    properties = table["Properties"]
    assert properties["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert properties["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in properties


def test_capacity_options_make_the_table_provisioned():
    properties = rendered(progress.build, reduce=True, read_capacity_units=5,
                          write_capacity_units=7)["WatchbotProgressTable"]["Properties"]
    assert properties["BillingMode"] == "PROVISIONED"
    assert properties["ProvisionedThroughput"] == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 7}


def test_the_task_role_may_read_and_write_items_of_this_table_only():
    policy = rendered(progress.build, reduce=True, prefix="Thumbs")["ThumbsProgressTablePolicy"]
    assert policy["Type"] == "AWS::IAM::Policy"
    properties = policy["Properties"]
    assert properties["Roles"] == [{"Ref": "ThumbsTaskRole"}]
    [statement] = properties["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    assert statement["Resource"] == [{"Fn::GetAtt": ["ThumbsProgressTable", "Arn"]}]


def test_the_progress_table_keeps_point_in_time_recovery():
    from tests.support.templates import REQUIRED as BASE
    from watchbot_cfn import template

    table = template(**BASE, reduce=True).to_dict()["Resources"]["WatchbotProgressTable"]["Properties"]
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
