"""Documented exceptions for the security scanner (checkov), kept next to the resource.

A skipped check must say why the flagged pattern is the right one here, so a
reviewer can disagree with a reason rather than with silence. The encryption
skips apply only while no customer managed key is given: with
``message_kms_key``, ``log_kms_key`` or ``progress_table_kms_key`` the check
runs, and passes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["API_ACCESS_LOGS", "API_CACHE", "API_TRACING", "DYNAMODB_OWNED_KEY", "LOGS_DEFAULT_ENCRYPTION",
           "SNS_AWS_MANAGED_KEY", "SQS_MANAGED_ENCRYPTION", "skip"]

#: CKV_AWS_27 only accepts KmsMasterKeyId; SNS cannot deliver to a queue under alias/aws/sqs.
SQS_MANAGED_ENCRYPTION = ("CKV_AWS_27", "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled); the AWS managed "
                                        "KMS key alias/aws/sqs would stop SNS from delivering to the queue. "
                                        "message_kms_key sets a customer managed key")
#: CKV_AWS_26: producers such as S3 event notifications and CloudWatch cannot use alias/aws/sns.
SNS_AWS_MANAGED_KEY = ("CKV_AWS_26", "Producers such as S3 event notifications, EventBridge and CloudWatch "
                                     "cannot publish to a topic under the AWS managed key alias/aws/sns. "
                                     "message_kms_key sets a customer managed key")
#: CKV_AWS_158: CloudWatch Logs encrypts every log group at rest already.
LOGS_DEFAULT_ENCRYPTION = ("CKV_AWS_158", "CloudWatch Logs encrypts log groups at rest by default; a customer "
                                          "managed key needs a key policy that lets CloudWatch Logs use it, so "
                                          "it is opt-in: log_kms_key")

#: CKV_AWS_119: DynamoDB encrypts every table at rest with an AWS owned key already.
DYNAMODB_OWNED_KEY = ("CKV_AWS_119", "DynamoDB encrypts the table at rest with an AWS owned key; a customer "
                                     "managed key adds a key policy and KMS charges, so it is opt-in: "
                                     "progress_table_kms_key")
#: CKV_AWS_73 / CKV_AWS_76 / CKV_AWS_120: the webhook stage.
API_TRACING = ("CKV_AWS_73", "X-Ray tracing is charged per request; the stage makes one call (SNS Publish), "
                             "whose errors and latency API Gateway's own metrics already show")
API_ACCESS_LOGS = ("CKV_AWS_76", "Access logging needs the account-wide API Gateway CloudWatch role, an "
                                 "account setting a single stack must not change for everyone")
API_CACHE = ("CKV_AWS_120", "Every POST publishes a message; answering one from a cache would drop it")


def skip(*checks: tuple[str, str]) -> dict[str, Any]:
    """Resource Metadata telling checkov which checks do not apply, and why."""
    return {"checkov": {"skip": [{"id": check, "comment": reason} for check, reason in checks]}}
