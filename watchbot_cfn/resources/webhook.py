"""Webhook: accept messages by HTTP POST and publish them to the work topic.

API Gateway calls SNS ``Publish`` directly (an AWS service integration with a
role that may publish to this topic only): no Lambda function. The endpoint
requires an API key (header ``x-api-key``), attached through a usage plan.
The body is JSON ``{"message": "...", "subject": "..."}`` (subject optional),
as in the original Watchbot's webhook. Standard queues only: FIFO systems
have no topic (options.py refuses ``webhook`` with ``fifo``).
"""

from __future__ import annotations

import json
from typing import Any

import awacs.sns
from awacs.aws import Allow, Statement
from troposphere import GetAtt, Output, Ref, Sub
from troposphere.apigateway import (
    ApiKey,
    ApiStage,
    Deployment,
    EndpointConfiguration,
    Integration,
    IntegrationResponse,
    Method,
    MethodResponse,
    RestApi,
    Stage,
    UsagePlan,
    UsagePlanKey,
)
from troposphere.iam import Policy, Role

from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options
from watchbot_cfn.resources import keys, policies
from watchbot_cfn.resources.scanner import API_ACCESS_LOGS, API_CACHE, API_TRACING, skip

__all__ = ["REQUEST_TEMPLATE", "STAGE", "build"]

STAGE = "v1"

#: Body -> SNS Publish query (form encoded). ``${TopicArn}`` is filled by Fn::Sub;
#: ``$input`` and ``$util`` belong to API Gateway's template language.
REQUEST_TEMPLATE = (
    "#set($message = $input.path('$.message'))\n"
    "#set($subject = $input.path('$.subject'))\n"
    "Action=Publish&TopicArn=$util.urlEncode('${TopicArn}')&Message=$util.urlEncode($message)"
    "#if(\"$!subject\" != \"\")&Subject=$util.urlEncode($subject)#end"
)
ACCEPTED = '{"message_id": "$input.path(\'$.PublishResponse.PublishResult.MessageId\')"}'
REJECTED = ('{"error": "not published: send a JSON body {\\"message\\": \\"...\\", \\"subject\\": \\"...\\"} '
            'whose message is a non-empty string"}')
FAILED = '{"error": "SNS did not accept the message; try again"}'


def build(options: Options, names: Names) -> list[Any]:
    if not options.webhook:
        return []
    method = _method(names)
    deployment = Deployment(
        # A new logical id whenever the method changes, so CloudFormation deploys the change.
        names.webhook("Deployment" + _digest(method)),
        RestApiId=Ref(names.webhook("Api")),
        Description=f"Watchbot {names.prefix} webhook",
        DependsOn=[method.title],
    )
    return [
        RestApi(
            names.webhook("Api"),
            Name=names.webhook_api_name,
            Description=f"Watchbot {names.prefix}: POST a message to the work topic",
            EndpointConfiguration=EndpointConfiguration(Types=["REGIONAL"]),
        ),
        _role(options, names),
        method,
        deployment,
        Stage(names.webhook("Stage"), StageName=STAGE, RestApiId=Ref(names.webhook("Api")),
              DeploymentId=Ref(deployment.title), Metadata=skip(API_TRACING, API_ACCESS_LOGS, API_CACHE)),
        ApiKey(names.webhook("Key"), Enabled=True, Description=f"Watchbot {names.prefix} webhook key"),
        UsagePlan(
            names.webhook("UsagePlan"),
            Description=f"Watchbot {names.prefix} webhook callers",
            ApiStages=[ApiStage(ApiId=Ref(names.webhook("Api")), Stage=Ref(names.webhook("Stage")))],
        ),
        UsagePlanKey(names.webhook("UsagePlanKey"), KeyId=Ref(names.webhook("Key")), KeyType="API_KEY",
                     UsagePlanId=Ref(names.webhook("UsagePlan"))),
        Output(names.webhook("Url"), Description="POST {\"message\": ..., \"subject\": ...} here, "
               "with header x-api-key",
               Value=Sub(f"https://${{Api}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{STAGE}",
                         Api=Ref(names.webhook("Api")))),
        Output(names.webhook("ApiKeyId"), Description="Id of the webhook's API key; read its value with "
               "aws apigateway get-api-key --include-value --api-key <id>", Value=Ref(names.webhook("Key"))),
    ]


def _method(names: Names) -> Method:
    return Method(
        names.webhook("Method"),
        RestApiId=Ref(names.webhook("Api")),
        ResourceId=GetAtt(names.webhook("Api"), "RootResourceId"),
        HttpMethod="POST",
        AuthorizationType="NONE",
        ApiKeyRequired=True,
        Integration=Integration(
            Type="AWS",
            IntegrationHttpMethod="POST",
            Uri=Sub("arn:${AWS::Partition}:apigateway:${AWS::Region}:sns:path//"),
            Credentials=GetAtt(names.webhook("Role"), "Arn"),
            PassthroughBehavior="NEVER",
            RequestParameters={
                "integration.request.header.Content-Type": "'application/x-www-form-urlencoded'",
                "integration.request.header.Accept": "'application/json'",
            },
            RequestTemplates={"application/json": Sub(REQUEST_TEMPLATE, TopicArn=Ref(names.topic))},
            IntegrationResponses=[
                IntegrationResponse(StatusCode="200", ResponseTemplates={"application/json": ACCEPTED}),
                IntegrationResponse(StatusCode="400", SelectionPattern=r"4\d{2}",
                                    ResponseTemplates={"application/json": REJECTED}),
                IntegrationResponse(StatusCode="500", SelectionPattern=r"5\d{2}",
                                    ResponseTemplates={"application/json": FAILED}),
            ],
        ),
        MethodResponses=[MethodResponse(StatusCode=code) for code in ("200", "400", "500")],
    )


def _role(options: Options, names: Names) -> Role:
    return Role(
        names.webhook("Role"),
        Description=f"Watchbot {names.prefix}: lets the webhook publish to the work topic",
        AssumeRolePolicyDocument=policies.trusted_by(policies.APIGATEWAY),
        Policies=[Policy(
            PolicyName="publish",
            PolicyDocument=policies.document([
                Statement(Sid="WorkTopic", Effect=Allow, Action=[awacs.sns.Publish], Resource=[Ref(names.topic)]),
                *[found for found in (keys.topic_key(options, names),) if found],
            ]),
        )],
    )


def _digest(method: Method) -> str:
    text = json.dumps(method.to_dict(), sort_keys=True, default=str)
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:8].upper()
