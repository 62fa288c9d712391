"""Webhook: API Gateway -> SNS Publish with an API key, and no Lambda function."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.templates import options, rendered, walk
from watchbot_cfn.errors import OptionsError
from watchbot_cfn.resources import webhook


def built(**overrides: Any) -> dict[str, dict[str, Any]]:
    return rendered(webhook.build, webhook=True, prefix="Thumbs", **overrides)


def of_type(resources: dict[str, dict[str, Any]], kind: str) -> dict[str, Any]:
    [found] = [r for r in resources.values() if r.get("Type") == kind]
    return found["Properties"]


def test_nothing_without_the_option():
    assert rendered(webhook.build) == {}


def test_fifo_systems_cannot_have_a_webhook():
    with pytest.raises(OptionsError) as raised:
        options(fifo=True, webhook=True)
    assert raised.value.option == "webhook"


def test_post_requires_an_api_key_and_calls_sns_publish_directly():
    method = of_type(built(), "AWS::ApiGateway::Method")
    assert (method["HttpMethod"], method["ApiKeyRequired"], method["AuthorizationType"]) == ("POST", True, "NONE")
    assert method["ResourceId"] == {"Fn::GetAtt": ["ThumbsWebhookApi", "RootResourceId"]}
    integration = method["Integration"]
    assert (integration["Type"], integration["IntegrationHttpMethod"]) == ("AWS", "POST")
    assert integration["Uri"] == {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:sns:path//"}
    assert integration["Credentials"] == {"Fn::GetAtt": ["ThumbsWebhookRole", "Arn"]}
    template, variables = integration["RequestTemplates"]["application/json"]["Fn::Sub"]
    assert "Action=Publish" in template and "TopicArn=$util.urlEncode('${TopicArn}')" in template
    assert variables == {"TopicArn": {"Ref": "ThumbsTopic"}}
    assert integration["PassthroughBehavior"] == "NEVER"


def test_the_webhook_role_may_only_publish_to_the_work_topic():
    role = built()["ThumbsWebhookRole"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["apigateway.amazonaws.com"]}
    [policy] = role["Policies"]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert (statement["Action"], statement["Resource"]) == (["sns:Publish"], [{"Ref": "ThumbsTopic"}])


def test_the_key_is_attached_to_the_stage_through_a_usage_plan():
    resources = built()
    plan = of_type(resources, "AWS::ApiGateway::UsagePlan")
    assert plan["ApiStages"] == [{"ApiId": {"Ref": "ThumbsWebhookApi"}, "Stage": {"Ref": "ThumbsWebhookStage"}}]
    key = of_type(resources, "AWS::ApiGateway::UsagePlanKey")
    assert key == {"KeyId": {"Ref": "ThumbsWebhookKey"}, "KeyType": "API_KEY",
                   "UsagePlanId": {"Ref": "ThumbsWebhookUsagePlan"}}
    stage = of_type(resources, "AWS::ApiGateway::Stage")
    [deployment_id] = [i for i, r in resources.items() if r.get("Type") == "AWS::ApiGateway::Deployment"]
    assert stage["DeploymentId"] == {"Ref": deployment_id}
    assert resources[deployment_id]["DependsOn"] == ["ThumbsWebhookMethod"]


def test_a_changed_method_gets_a_new_deployment():
    def deployment(**overrides: Any) -> str:
        return next(i for i, r in rendered(webhook.build, webhook=True, **overrides).items()
                    if r.get("Type") == "AWS::ApiGateway::Deployment")

    assert deployment(prefix="One").startswith("OneWebhookDeployment")
    assert deployment(prefix="One").removeprefix("One") != deployment(prefix="Two").removeprefix("Two")
    assert deployment(prefix="One") == deployment(prefix="One")


def test_outputs_give_the_url_and_the_key_id():
    resources = built()
    url = resources["ThumbsWebhookUrl"]["Value"]
    assert url == {"Fn::Sub": ["https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/v1",
                               {"Api": {"Ref": "ThumbsWebhookApi"}}]}
    assert resources["ThumbsWebhookApiKeyId"]["Value"] == {"Ref": "ThumbsWebhookKey"}


def test_no_lambda_anywhere_in_the_webhook():
    text = str(list(walk(built())))
    assert "lambda" not in text.lower()
