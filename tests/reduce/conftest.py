"""Reduce mode's unit tests: progress tables in moto's in-process mock.

One mock per module (starting it costs a few tenths of a second); each test
gets a table of its own.
"""

from __future__ import annotations

import uuid

import boto3
import pytest
from moto import mock_aws

REGION = "us-east-1"


def create_table(client, name: str) -> str:
    """A table keyed by ``id`` like the template's; returns its ARN."""
    answer = client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                                 AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                                 KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    return answer["TableDescription"]["TableArn"]


@pytest.fixture(scope="module")
def mocked_aws():
    """moto's in-process mock, with no endpoint variable that would send calls elsewhere."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SNS", "AWS_ENDPOINT_URL_SQS",
                     "DynamoDbEndpoint", "ProgressTable", "WorkTopic", "QueueUrl", "Fifo", "MessageFile", "Message",
                     "Subject", "MessageId"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        with mock_aws():
            yield


@pytest.fixture
def table_name(mocked_aws) -> str:
    return f"stack-{uuid.uuid4().hex[:8]}-Watchbot-progress"


@pytest.fixture
def dynamodb(table_name):
    client = boto3.client("dynamodb", region_name=REGION)
    create_table(client, table_name)
    return client


@pytest.fixture
def arn(dynamodb, table_name) -> str:
    return dynamodb.describe_table(TableName=table_name)["Table"]["TableArn"]
