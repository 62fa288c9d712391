"""Documented exceptions for the security scanner (checkov), kept next to the resource.

A skipped check must say why the flagged pattern is the right one here, so a
reviewer can disagree with a reason rather than with silence.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SNS_AWS_MANAGED_KEY", "SQS_MANAGED_ENCRYPTION", "LOGS_DEFAULT_ENCRYPTION", "skip"]

#: CKV_AWS_27 only accepts KmsMasterKeyId; SNS cannot deliver to a queue under alias/aws/sqs.
SQS_MANAGED_ENCRYPTION = ("CKV_AWS_27", "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled); the AWS managed "
                                        "KMS key alias/aws/sqs would stop SNS from delivering to the queue")
#: CKV_AWS_26: producers such as S3 event notifications and CloudWatch cannot use alias/aws/sns.
SNS_AWS_MANAGED_KEY = ("CKV_AWS_26", "Producers such as S3 event notifications, EventBridge and CloudWatch "
                                     "cannot publish to a topic under the AWS managed key alias/aws/sns")
#: CKV_AWS_158: CloudWatch Logs encrypts every log group at rest already.
LOGS_DEFAULT_ENCRYPTION = ("CKV_AWS_158", "CloudWatch Logs encrypts log groups at rest by default; a customer "
                                          "managed key would need a key policy this template cannot assume")


def skip(*checks: tuple[str, str]) -> dict[str, Any]:
    """Resource Metadata telling checkov which checks do not apply, and why."""
    return {"checkov": {"skip": [{"id": check, "comment": reason} for check, reason in checks]}}
