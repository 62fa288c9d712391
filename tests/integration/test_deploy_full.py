"""Deploy a full-featured template (scaling, alarms, metric filters, dashboard, reduce
table, webhook) to a moto server with CloudFormation ``create_stack``.

moto's CloudFormation skips resource types it does not implement (with a
warning) and still reports CREATE_COMPLETE. ``MOTO_SKIPS`` lists the ones this
template uses; the test asserts they really are skipped, so it fails (and the
list must shrink) once moto learns them. Those resources are then created
through their own service APIs from the rendered properties, with intrinsics
resolved against what the stack created, so they are still checked against
something real: the scaling target's resource id must name the service moto
created, and alarm actions must name the policies' ARNs.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

import watchbot_cfn

pytestmark = pytest.mark.integration

STACK = "watchbot-full"
CLUSTER = "full-cluster"
REGION = "us-east-1"

#: Resource types of this template that moto's CloudFormation does not create.
MOTO_SKIPS = {
    "AWS::CloudWatch::Alarm",
    "AWS::Logs::MetricFilter",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription",
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::ApiKey",
    "AWS::ApiGateway::UsagePlan",
    "AWS::ApiGateway::UsagePlanKey",
}

OPTIONS: dict[str, Any] = {
    "cluster": CLUSTER,
    "service": "full-worker",
    "service_version": "0123abcd",
    "command": "python -m worker",
    "notification_email": "ops@example.com",
    "max_size": 20,
    "min_size": 1,
    "reduce": True,
    "dashboard": True,
    "webhook": True,
}


@pytest.fixture(scope="module")
def stack(moto_server):
    """(template dict, {logical id: physical id}) of the deployed stack."""
    moto_server.client("ecs").create_cluster(clusterName=CLUSTER)
    template = watchbot_cfn.template(**OPTIONS).to_dict()
    cloudformation = moto_server.client("cloudformation")
    cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(template),
                                Capabilities=["CAPABILITY_IAM"])
    status = wait(cloudformation, STACK)
    assert status == "CREATE_COMPLETE"
    created = {r["LogicalResourceId"]: r.get("PhysicalResourceId")
               for r in cloudformation.describe_stack_resources(StackName=STACK)["StackResources"]
               if "LogicalResourceId" in r}
    yield template, created
    cloudformation.delete_stack(StackName=STACK)


def wait(cloudformation: Any, name: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if not status.endswith("IN_PROGRESS") or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {i: r["Properties"] for i, r in template["Resources"].items() if r["Type"] == kind}


class Resolver:
    """Resolves the intrinsics of a rendered resource against the deployed stack."""

    def __init__(self, server: Any, template: dict[str, Any], created: dict[str, str]) -> None:
        self.server = server
        self.template = template
        self.physical = dict(created)
        self.pseudo = {"AWS::StackName": STACK, "AWS::Region": REGION, "AWS::AccountId": "123456789012",
                       "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(key, argument)] = value.items()
            if key == "Ref":
                return self.pseudo.get(argument) or self.physical[argument]
            if key == "Fn::GetAtt":
                return self.attribute(*argument)
            if key == "Fn::Join":
                return argument[0].join(str(self(v)) for v in argument[1])
            if key == "Fn::Select":
                return self(argument[1])[argument[0]]
            if key == "Fn::Split":
                return self(argument[1]).split(argument[0])
            if key == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                values = {**self.pseudo, **{k: self(v) for k, v in variables.items()}}
                for name, resolved in values.items():
                    text = text.replace("${" + name + "}", str(resolved))
                # what is left names resources: ${Id} is a Ref, ${Id.Attribute} a GetAtt
                text = re.sub(r"\$\{([A-Za-z0-9]+)(?:\.([A-Za-z.]+))?\}", lambda found: str(
                    self.attribute(found.group(1), found.group(2)) if found.group(2)
                    else self({"Ref": found.group(1)})), text)
                assert "${" not in text, text
                return text
        return {k: self(v) for k, v in value.items()}

    def attribute(self, logical_id: str, name: str) -> str:
        kind = self.template["Resources"][logical_id]["Type"]
        physical = self.physical[logical_id]
        if kind == "AWS::SQS::Queue" and name == "QueueName":
            return physical.rsplit("/", 1)[-1]
        if kind == "AWS::ECS::Service" and name == "Name":
            return physical.rsplit("/", 1)[-1]
        if kind == "AWS::IAM::Role" and name == "Arn":
            return self.server.client("iam").get_role(RoleName=physical)["Role"]["Arn"]
        raise NotImplementedError(f"GetAtt {kind}.{name}")


def test_the_full_template_deploys(stack):
    template, created = stack
    skipped = {r["Type"] for i, r in template["Resources"].items() if i not in created}
    assert skipped == MOTO_SKIPS & {r["Type"] for r in template["Resources"].values()}


def test_the_progress_table_is_keyed_by_id_and_on_demand(stack, moto_server):
    _, created = stack
    table = moto_server.client("dynamodb").describe_table(TableName=created["WatchbotProgressTable"])["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    role = created["WatchbotTaskRole"]
    document = moto_server.client("iam").get_role_policy(RoleName=role, PolicyName="Watchbot-progress-table")
    [statement] = document["PolicyDocument"]["Statement"]
    assert statement["Resource"] == [table["TableArn"]]
    assert "dynamodb:UpdateItem" in statement["Action"]


def test_the_dashboard_names_the_deployed_queue_and_service(stack, moto_server):
    _, created = stack
    cloudwatch = moto_server.client("cloudwatch")
    [entry] = [d for d in cloudwatch.list_dashboards()["DashboardEntries"]
               if d["DashboardName"] == f"{STACK}-{REGION}-Watchbot"]
    body = json.loads(cloudwatch.get_dashboard(DashboardName=entry["DashboardName"])["DashboardBody"])
    lines = [line for widget in body["widgets"] for line in widget["properties"]["metrics"]]
    queue_name = created["WatchbotQueue"].rsplit("/", 1)[-1]
    service_name = created["WatchbotService"].rsplit("/", 1)[-1]
    assert ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue_name] in [line[:4] for line in lines]
    assert any(service_name in line and CLUSTER in line for line in lines)
    assert any(line[1] == f"WorkerErrors-{STACK}-Watchbot" for line in lines)


def test_the_webhook_api_and_its_post_method_exist(stack, moto_server):
    _, created = stack
    apigateway = moto_server.client("apigateway")
    api_id = created["WatchbotWebhookApi"]
    root = next(r["id"] for r in apigateway.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    method = apigateway.get_method(restApiId=api_id, resourceId=root, httpMethod="POST")
    assert method["apiKeyRequired"] is True


def test_scaling_alarms_and_metric_filters_are_accepted_by_their_apis(stack, moto_server):
    template, created = stack
    resolve = Resolver(moto_server, template, created)
    scaling = moto_server.client("application-autoscaling")
    cloudwatch = moto_server.client("cloudwatch")
    logs = moto_server.client("logs")

    [(target_id, target)] = of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget").items()
    target = resolve(target)
    scaling.register_scalable_target(**{k: target[k] for k in ("ServiceNamespace", "ResourceId",
                                                              "ScalableDimension", "MinCapacity",
                                                              "MaxCapacity", "RoleARN")})
    resolve.physical[target_id] = target["ResourceId"]
    for policy_id, policy in of_type(template, "AWS::ApplicationAutoScaling::ScalingPolicy").items():
        assert policy["ScalingTargetId"] == {"Ref": target_id}
        answer = scaling.put_scaling_policy(
            PolicyName=policy["PolicyName"], ServiceNamespace=target["ServiceNamespace"],
            ResourceId=target["ResourceId"], ScalableDimension=target["ScalableDimension"],
            PolicyType=policy["PolicyType"],
            StepScalingPolicyConfiguration=resolve(policy["StepScalingPolicyConfiguration"]))
        resolve.physical[policy_id] = answer["PolicyARN"]
    for alarm_id, alarm in of_type(template, "AWS::CloudWatch::Alarm").items():
        cloudwatch.put_metric_alarm(AlarmName=f"{STACK}-{alarm_id}", **resolve(alarm))
    for filter_id, metric_filter in of_type(template, "AWS::Logs::MetricFilter").items():
        resolved = resolve(metric_filter)
        logs.put_metric_filter(
            logGroupName=resolved["LogGroupName"], filterName=filter_id, filterPattern=resolved["FilterPattern"],
            metricTransformations=[{key[0].lower() + key[1:]: value for key, value in t.items()}
                                   for t in resolved["MetricTransformations"]])

    [registered] = scaling.describe_scalable_targets(ServiceNamespace="ecs",
                                                     ResourceIds=[target["ResourceId"]])["ScalableTargets"]
    service_name = created["WatchbotService"].rsplit("/", 1)[-1]
    assert registered["ResourceId"] == f"service/{CLUSTER}/{service_name}"
    assert (registered["MinCapacity"], registered["MaxCapacity"]) == (1, 20)
    policies = scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=target["ResourceId"])
    arns = {p["PolicyName"]: p["PolicyARN"] for p in policies["ScalingPolicies"]}
    assert set(arns) == {"Watchbot-scale-out", "Watchbot-scale-in"}

    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNamePrefix=f"{STACK}-")["MetricAlarms"]}
    assert alarms[f"{STACK}-WatchbotScaleOutAlarm"]["AlarmActions"] == [arns["Watchbot-scale-out"]]
    assert alarms[f"{STACK}-WatchbotScaleInAlarm"]["AlarmActions"] == [arns["Watchbot-scale-in"]]
    idle = {m["Id"]: m for m in alarms[f"{STACK}-WatchbotScaleInAlarm"]["Metrics"]}
    assert idle["idle"]["Expression"] == "visible + inflight"
    topic = created["WatchbotNotificationTopic"]
    for name in ("WorkerErrors", "QueueSize", "DeadLetterQueueSize", "MemoryUtilization", "CpuUtilization"):
        assert alarms[f"{STACK}-Watchbot{name}Alarm"]["AlarmActions"] == [topic]

    filters = logs.describe_metric_filters(logGroupName=created["WatchbotLogGroup"])["metricFilters"]
    assert sorted(f["metricTransformations"][0]["metricName"] for f in filters) == sorted(
        f"{metric}-{STACK}-Watchbot" for metric in ("WorkerErrors", "WorkerDuration", "MessageReceives",
                                                   "ResponseDuration"))
