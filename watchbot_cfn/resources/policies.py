"""IAM policy documents: the one policy version and the service trust policies.

Every role here is assumed by an AWS service (ECS tasks, Application Auto
Scaling, API Gateway). :func:`trusted_by` writes that trust once, with the
confused-deputy guard (``aws:SourceAccount``) wherever the service sends it.
"""

from __future__ import annotations

from typing import Any

from awacs.aws import Allow, Condition, PolicyDocument, Principal, Statement, StringEquals
from awacs.sts import AssumeRole
from troposphere import Ref

__all__ = ["APIGATEWAY", "AUTOSCALING", "ECS_TASKS", "POLICY_VERSION", "SNS", "document", "trusted_by"]

POLICY_VERSION = "2012-10-17"

ECS_TASKS = "ecs-tasks.amazonaws.com"
AUTOSCALING = "application-autoscaling.amazonaws.com"
APIGATEWAY = "apigateway.amazonaws.com"
SNS = "sns.amazonaws.com"


def document(statements: list[Any]) -> PolicyDocument:
    """A policy document in the one version every policy here uses."""
    return PolicyDocument(Version=POLICY_VERSION, Statement=statements)


def trusted_by(service: str, same_account_only: bool = True) -> PolicyDocument:
    """A role's trust policy: ``service`` may assume it, acting for this account only when asked."""
    statement = Statement(Effect=Allow, Principal=Principal("Service", [service]), Action=[AssumeRole])
    if same_account_only:
        # Confused-deputy guard: only the service acting for this account may assume the role.
        statement.Condition = Condition(StringEquals("aws:SourceAccount", Ref("AWS::AccountId")))
    return document([statement])
