"""IAM policy documents: the one policy version, the service trust policies and the TLS-only guard.

Every role here is assumed by an AWS service (ECS tasks, Application Auto
Scaling, API Gateway). :func:`trusted_by` writes that trust once, with the
confused-deputy guard (``aws:SourceAccount``) wherever the service sends it.
:func:`deny_insecure_transport` is the statement every queue and topic policy
starts with: no principal may use the resource over plain HTTP.
"""

from __future__ import annotations

from typing import Any

from awacs.aws import Action, Allow, Bool, Condition, Deny, PolicyDocument, Principal, Statement, StringEquals
from awacs.sts import AssumeRole
from troposphere import Ref, Sub

__all__ = ["APIGATEWAY", "AUTOSCALING", "CLOUDWATCH", "DENY_INSECURE_TRANSPORT", "ECS_TASKS", "POLICY_VERSION",
           "SNS", "TRUST", "deny_insecure_transport", "document", "this_account", "trusted_by", "via_service"]

POLICY_VERSION = "2012-10-17"

ECS_TASKS = "ecs-tasks.amazonaws.com"
AUTOSCALING = "application-autoscaling.amazonaws.com"
APIGATEWAY = "apigateway.amazonaws.com"
SNS = "sns.amazonaws.com"
CLOUDWATCH = "cloudwatch.amazonaws.com"

#: Sid of every role's trust statement.
TRUST = "AssumeRole"
#: Sid of the statement that opens every queue and topic policy.
DENY_INSECURE_TRANSPORT = "DenyInsecureTransport"


def document(statements: list[Any]) -> PolicyDocument:
    """A policy document in the one version every policy here uses."""
    return PolicyDocument(Version=POLICY_VERSION, Statement=statements)


def trusted_by(service: str, same_account_only: bool = True) -> PolicyDocument:
    """A role's trust policy: ``service`` may assume it, acting for this account only when asked."""
    statement = Statement(Sid=TRUST, Effect=Allow, Principal=Principal("Service", [service]), Action=[AssumeRole])
    if same_account_only:
        # Confused-deputy guard: only the service acting for this account may assume the role.
        statement.Condition = this_account()
    return document([statement])


def this_account() -> Condition:
    """Requests an AWS service makes on behalf of this account only (``aws:SourceAccount``)."""
    return Condition(StringEquals("aws:SourceAccount", Ref("AWS::AccountId")))


def deny_insecure_transport(resource: Any, actions: list[Action]) -> Statement:
    """Deny ``actions`` on ``resource`` to every principal when the request did not use TLS.

    ``Bool`` (not ``BoolIfExists``): a request that carries no ``aws:SecureTransport``
    at all, such as a delivery inside AWS, is not denied; every request over HTTP
    carries it as false.
    """
    return Statement(Sid=DENY_INSECURE_TRANSPORT, Effect=Deny, Principal=Principal("*"), Action=actions,
                     Resource=[resource], Condition=Condition(Bool("aws:SecureTransport", "false")))


def via_service(service: str) -> Sub:
    """The ``kms:ViaService`` value of requests ``service`` makes to KMS in this region for a caller."""
    return Sub(f"{service}.${{AWS::Region}}.${{AWS::URLSuffix}}")
