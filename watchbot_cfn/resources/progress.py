"""Reduce mode: the DynamoDB progress table and the worker's right to use it.

Keyed by ``id`` (string). On-demand billing by default, because progress
traffic comes in bursts that follow the queue; provisioned when both capacity
options are given. The permission is a separate ``AWS::IAM::Policy`` attached
to the task role, so the core role definition stays the same in every mode.
With ``progress_table_kms_key`` the table is encrypted with that key and the
policy lets the worker use it through DynamoDB for this table only.
The container gets the table's ARN as ``ProgressTable`` (see task.py), as the
original's progress clients expect, and the
service waits for the policy (see service.py) so the first jobs are not denied.
"""

from __future__ import annotations

from typing import Any

import awacs.dynamodb
from awacs.aws import Allow, Statement
from troposphere import GetAtt, Ref
from troposphere.dynamodb import (
    AttributeDefinition,
    KeySchema,
    PointInTimeRecoverySpecification,
    ProvisionedThroughput,
    SSESpecification,
    Table,
)
from troposphere.iam import PolicyType

from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options
from watchbot_cfn.resources import keys, policies, retention
from watchbot_cfn.resources.scanner import DYNAMODB_OWNED_KEY, skip

__all__ = ["ACTIONS", "KEY", "build"]

KEY = "id"
#: status reads; set-total, set-metadata, complete-part and fail-job write with conditions.
ACTIONS = (awacs.dynamodb.GetItem, awacs.dynamodb.PutItem, awacs.dynamodb.UpdateItem)


def build(options: Options, names: Names) -> list[Any]:
    if not options.reduce:
        return []
    # No name when an adopted stack's table has a generated one: leaving it out keeps it.
    named = {} if names.progress_table_name is None else {"TableName": names.progress_table_name}
    table = Table(
        names.progress_table,
        **named,
        AttributeDefinitions=[AttributeDefinition(AttributeName=KEY, AttributeType="S")],
        KeySchema=[KeySchema(AttributeName=KEY, KeyType="HASH")],
        # Progress of multi-part jobs is state a bad deploy or script must not lose.
        PointInTimeRecoverySpecification=PointInTimeRecoverySpecification(PointInTimeRecoveryEnabled=True),
    )
    if options.progress_table_kms_key is not None:
        table.SSESpecification = SSESpecification(SSEEnabled=True, SSEType="KMS",
                                                  KMSMasterKeyId=options.progress_table_kms_key)
    else:
        table.Metadata = skip(DYNAMODB_OWNED_KEY)
    if options.read_capacity_units is None:
        table.BillingMode = "PAY_PER_REQUEST"
    else:
        table.BillingMode = "PROVISIONED"
        table.ProvisionedThroughput = ProvisionedThroughput(ReadCapacityUnits=options.read_capacity_units,
                                                            WriteCapacityUnits=options.write_capacity_units)
    retention.apply(table, "progress_table", options)
    policy = PolicyType(
        names.progress_table_policy,
        PolicyName=names.progress_table_policy_name,
        Roles=[Ref(names.task_role)],
        PolicyDocument=policies.document([
            Statement(Sid="ProgressTable", Effect=Allow, Action=list(ACTIONS),
                      Resource=[GetAtt(names.progress_table, "Arn")]),
            *[found for found in (keys.table_key(options, names),) if found],
        ]),
    )
    return [table, policy]
