"""Deploy rendered templates to a real moto server with CloudFormation, then use them.

moto's CloudFormation creates most types this project emits, and silently skips
the ones it has no model for (the stack still reaches CREATE_COMPLETE). Nothing
is dropped silently here: every resource moto skipped must have a type listed
in MOTO_CANNOT_CREATE, and is then created through its own service API from
the template's properties ("replayed"), with the intrinsics resolved against
the stack. botocore validates those calls' parameters, so a replayed resource
with a malformed property still fails the test.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from watchbot_cfn.naming import Names
from watchbot_cfn.sources.load import load_source
from watchbot_cfn.sources.output import render_text

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
ACCOUNT = "123456789012"

#: Types moto 5.x's CloudFormation has no model for (checked against moto's
#: CloudFormationModel subclasses); stacks skip them without an error.
MOTO_CANNOT_CREATE = frozenset({
    "AWS::SNS::Subscription",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::Logs::MetricFilter",
    "AWS::CloudWatch::Alarm",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::ApiGateway::ApiKey",
    "AWS::ApiGateway::UsagePlan",
    "AWS::ApiGateway::UsagePlanKey",
    "AWS::ApiGateway::Stage",
})

TEST_CLUSTER = "watchbot-test"


# --- intrinsics -------------------------------------------------------------------

@dataclass
class Stack:
    """A deployed stack: its template, the physical ids and the clients to look inside."""

    name: str
    template: dict[str, Any]
    parameters: dict[str, str]
    physical: dict[str, str]  # logical id -> Ref value
    server: Any
    replayed: dict[str, str] = field(default_factory=dict)  # logical id -> type

    def client(self, service: str):
        return self.server.client(service)

    def resource_type(self, logical_id: str) -> str:
        return self.template["Resources"][logical_id]["Type"]

    def of_type(self, resource_type: str) -> list[str]:
        return [key for key, value in self.template["Resources"].items() if value["Type"] == resource_type]

    # -- resolution
    def ref(self, name: str) -> str:
        pseudo = {"AWS::StackName": self.name, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                  "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": None,
                  "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{self.name}/1"}
        if name in pseudo:
            return pseudo[name]  # type: ignore[return-value]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.template.get("Parameters", {}) and "Default" in self.template["Parameters"][name]:
            return str(self.template["Parameters"][name]["Default"])
        if name in self.physical:
            return self.physical[name]
        raise Unresolved(name)

    def get_att(self, name: str, attribute: str) -> Any:
        value = self.ref(name)
        kind = self.resource_type(name)
        if kind == "AWS::SQS::Queue":
            if attribute == "QueueName":
                return value.rsplit("/", 1)[-1]
            if attribute == "Arn":
                return self.client("sqs").get_queue_attributes(
                    QueueUrl=value, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            if attribute == "QueueUrl":
                return value
        if kind == "AWS::SNS::Topic" and attribute == "TopicArn":
            return value
        if kind == "AWS::SNS::Topic" and attribute == "TopicName":
            return value.rsplit(":", 1)[-1]
        if kind == "AWS::IAM::Role" and attribute == "Arn":
            return self.client("iam").get_role(RoleName=value)["Role"]["Arn"]
        if kind == "AWS::Logs::LogGroup" and attribute == "Arn":
            return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{value}:*"
        if kind == "AWS::ECS::Service" and attribute == "Name":
            return value.rsplit("/", 1)[-1]
        if kind == "AWS::DynamoDB::Table" and attribute == "Arn":
            return self.client("dynamodb").describe_table(TableName=value)["Table"]["TableArn"]
        if kind == "AWS::DynamoDB::Table" and attribute == "StreamArn":
            return self.client("dynamodb").describe_table(TableName=value)["Table"]["LatestStreamArn"]
        raise AssertionError(f"the test's resolver does not know GetAtt {kind}.{attribute}; add it")

    def resolve(self, value: Any) -> Any:
        """Resolve Ref, GetAtt, Sub, Join, Split, Select and If (conditions must be literal) recursively."""
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not None]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::GetAtt":
                name, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.get_att(name, attribute)
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::Join":
                return argument[0].join(str(part) for part in self.resolve(argument[1]))
            if key == "Fn::Split":
                return str(self.resolve(argument[1])).split(argument[0])
            if key == "Fn::Select":
                return self.resolve(argument[1])[int(self.resolve(argument[0]))]
            if key == "Fn::If":
                raise AssertionError("conditions are not resolved by this test; deploy a template without them")
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in value.items()) if v is not None}

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        resolved = {key: self.resolve(val) for key, val in variables.items()}

        def replace(match: re.Match) -> str:
            name = match[1]
            if name in resolved:
                return str(resolved[name])
            if "." in name and not name.startswith("AWS::"):
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}!]+)\}", replace, text)


class Unresolved(Exception):
    """A Ref to a resource that does not exist (yet)."""


# --- replaying what moto skipped ------------------------------------------------

def _metric_transformation(item: dict[str, Any]) -> dict[str, Any]:
    out = {"metricName": item["MetricName"], "metricNamespace": item["MetricNamespace"],
           "metricValue": item["MetricValue"]}
    if "DefaultValue" in item:
        out["defaultValue"] = float(item["DefaultValue"])
    if "Unit" in item:
        out["unit"] = item["Unit"]
    if "Dimensions" in item:
        out["dimensions"] = {d["Key"]: d["Value"] for d in item["Dimensions"]}
    return out


def replay_subscription(stack: Stack, logical_id: str, props: dict[str, Any]) -> str:
    attributes = {key: (json.dumps(props[key]) if isinstance(props[key], dict) else str(props[key]).lower()
                        if isinstance(props[key], bool) else str(props[key]))
                  for key in ("RawMessageDelivery", "FilterPolicy", "RedrivePolicy") if key in props}
    answer = stack.client("sns").subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"],
                                           Endpoint=props["Endpoint"], Attributes=attributes,
                                           ReturnSubscriptionArn=True)
    return answer["SubscriptionArn"]


def replay_queue_policy(stack: Stack, logical_id: str, props: dict[str, Any]) -> str:
    for url in props["Queues"]:
        stack.client("sqs").set_queue_attributes(QueueUrl=url,
                                                 Attributes={"Policy": json.dumps(props["PolicyDocument"])})
    return logical_id


def replay_topic_policy(stack: Stack, logical_id: str, props: dict[str, Any]) -> str:
    for arn in props["Topics"]:
        stack.client("sns").set_topic_attributes(TopicArn=arn, AttributeName="Policy",
                                                 AttributeValue=json.dumps(props["PolicyDocument"]))
    return logical_id


def replay_metric_filter(stack: Stack, logical_id: str, props: dict[str, Any]) -> str:
    name = props.get("FilterName", f"{stack.name}-{logical_id}")
    stack.client("logs").put_metric_filter(
        logGroupName=props["LogGroupName"], filterName=name, filterPattern=props["FilterPattern"],
        metricTransformations=[_metric_transformation(m) for m in props["MetricTransformations"]])
    return name


def replay_alarm(stack: Stack, logical_id: str, props: dict[str, Any]) -> str:
    arguments = dict(props)
    arguments.setdefault("AlarmName", f"{stack.name}-{logical_id}")
    stack.client("cloudwatch").put_metric_alarm(**arguments)
    return arguments["AlarmName"]


def replay_scalable_target(stack: Stack, logical_id: str, props: dict[str, Any]) -> str:
    arguments = {key: props[key] for key in ("ServiceNamespace", "ResourceId", "ScalableDimension",
                                             "MinCapacity", "MaxCapacity", "RoleARN", "SuspendedState")
                 if key in props}
    arguments["MinCapacity"] = int(arguments["MinCapacity"])
    arguments["MaxCapacity"] = int(arguments["MaxCapacity"])
    stack.client("application-autoscaling").register_scalable_target(**arguments)
    return f"{props['ResourceId']}|{props['ScalableDimension']}|{props['ServiceNamespace']}"


def replay_scaling_policy(stack: Stack, logical_id: str, props: dict[str, Any]) -> str:
    arguments = dict(props)
    if "ScalingTargetId" in arguments:
        resource_id, dimension, namespace = arguments.pop("ScalingTargetId").split("|")
        arguments.update(ResourceId=resource_id, ScalableDimension=dimension, ServiceNamespace=namespace)
    answer = stack.client("application-autoscaling").put_scaling_policy(**arguments)
    return answer["PolicyARN"]


REPLAY: dict[str, Callable[[Stack, str, dict[str, Any]], str]] = {
    "AWS::SNS::Subscription": replay_subscription,
    "AWS::SQS::QueuePolicy": replay_queue_policy,
    "AWS::SNS::TopicPolicy": replay_topic_policy,
    "AWS::Logs::MetricFilter": replay_metric_filter,
    "AWS::CloudWatch::Alarm": replay_alarm,
    "AWS::ApplicationAutoScaling::ScalableTarget": replay_scalable_target,
    "AWS::ApplicationAutoScaling::ScalingPolicy": replay_scaling_policy,
}


def replay_skipped(stack: Stack, skipped: list[str]) -> None:
    """Create skipped resources in dependency order (a Ref to a later one is retried)."""
    pending = list(skipped)
    while pending:
        progressed = False
        for logical_id in list(pending):
            kind = stack.resource_type(logical_id)
            if kind not in REPLAY:
                raise AssertionError(f"moto skipped {logical_id} ({kind}) and the test cannot create it either; "
                                     "add a replay for it")
            try:
                props = stack.resolve(stack.template["Resources"][logical_id].get("Properties", {}))
            except Unresolved:
                continue
            stack.physical[logical_id] = REPLAY[kind](stack, logical_id, props)
            stack.replayed[logical_id] = kind
            pending.remove(logical_id)
            progressed = True
        if not progressed:
            raise AssertionError(f"cannot resolve references of {pending}")


# --- deploying --------------------------------------------------------------------

def render(source: str) -> dict[str, Any]:
    return json.loads(render_text(load_source(str(REPO / source))))


def parameter_values(template: dict[str, Any], given: dict[str, str] | None = None) -> dict[str, str]:
    """Values for parameters without defaults: as given, the test cluster for the cluster, else a placeholder."""
    values = dict(given or {})
    for name, spec in template.get("Parameters", {}).items():
        if "Default" in spec or name in values:
            continue
        if "cluster" in name.lower():
            values[name] = TEST_CLUSTER
        elif spec["Type"] == "Number":
            values[name] = "1"
        elif spec["Type"] == "String":
            values[name] = f"test-{name.lower()}"
        else:
            raise AssertionError(f"give the test a value for parameter {name} ({spec['Type']})")
    return values


def deploy(server, template: dict[str, Any], timeout: float = 60.0, given: dict[str, str] | None = None) -> Stack:
    """create_stack, wait for CREATE_COMPLETE, check every resource exists (replaying moto's gaps)."""
    parameters = parameter_values(template, given)
    name = f"wb-{uuid.uuid4().hex[:10]}"
    for service in template["Resources"].values():
        if service["Type"] == "AWS::ECS::Service":
            cluster = service["Properties"].get("Cluster")
            cluster_name = parameters.get(cluster["Ref"]) if isinstance(cluster, dict) and "Ref" in cluster \
                else cluster
            server.client("ecs").create_cluster(clusterName=str(cluster_name).rsplit("/", 1)[-1])
    cfn = server.client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template),
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
                     Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"])
    deadline = time.monotonic() + timeout
    while True:
        status = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if status["StackStatus"] == "CREATE_COMPLETE":
            break
        assert not status["StackStatus"].endswith(("FAILED", "ROLLBACK_COMPLETE")), status
        assert time.monotonic() < deadline, f"stack {name} still {status['StackStatus']}"
        time.sleep(0.2)
    summaries = cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
    physical = {s["LogicalResourceId"]: s["PhysicalResourceId"] for s in summaries if s.get("PhysicalResourceId")}
    stack = Stack(name, template, parameters, physical, server)
    skipped = [key for key in template["Resources"] if key not in physical]
    unexpected = {key: stack.resource_type(key) for key in skipped
                  if stack.resource_type(key) not in MOTO_CANNOT_CREATE}
    assert unexpected == {}, f"moto failed to create resources of types it supports: {unexpected}"
    replay_skipped(stack, skipped)
    return stack


def receive_one(sqs, url: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=1,
                                       AttributeNames=["All"]).get("Messages", [])
        if messages:
            return messages[0]
    raise AssertionError(f"no message arrived on {url} within {timeout} s")


def queue_attributes(stack: Stack, logical_id: str) -> dict[str, str]:
    return stack.client("sqs").get_queue_attributes(QueueUrl=stack.physical[logical_id],
                                                    AttributeNames=["All"])["Attributes"]


def names(stack: Stack) -> Names:
    """Logical ids of the stack's one Watchbot system, from the prefix its Metadata records."""
    (prefix,) = stack.template["Metadata"]["WatchbotCfn"]
    return Names(prefix)


# --- tests ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def minimal(moto_server) -> Stack:
    return deploy(moto_server, render("examples/minimal.toml"))


@pytest.fixture(scope="module")
def fifo(moto_server) -> Stack:
    return deploy(moto_server, render("examples/fifo.toml"))


def test_minimal_example_deploys_completely(minimal):
    created = set(minimal.physical)
    assert created == set(minimal.template["Resources"])
    assert set(minimal.replayed.values()) <= MOTO_CANNOT_CREATE


def test_minimal_queue_has_the_contract_settings(minimal):
    queue = names(minimal).queue
    dead = names(minimal).dead_letter_queue
    attributes = queue_attributes(minimal, queue)
    assert attributes["VisibilityTimeout"] == "180"
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == queue_attributes(minimal, dead)["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == 10


def test_topic_feeds_the_queue_and_only_the_topic_may_send(minimal):
    topic = minimal.physical[names(minimal).topic]
    url = minimal.physical[names(minimal).queue]
    policy = json.loads(queue_attributes(minimal, names(minimal).queue)["Policy"])
    assert topic in json.dumps(policy["Statement"]), "the queue policy names the work topic as source"
    # when a message is published to the work topic
    minimal.client("sns").publish(TopicArn=topic, Message="resize photo 42", Subject="resize")
    # then it arrives on the work queue in an SNS envelope the watcher unwraps
    envelope = json.loads(receive_one(minimal.client("sqs"), url)["Body"])
    assert envelope["Message"] == "resize photo 42"
    assert envelope["Subject"] == "resize"
    assert envelope["TopicArn"] == topic


def test_service_runs_the_task_definition_with_the_queue_url(minimal):
    service_arn = minimal.physical[names(minimal).service]
    ecs = minimal.client("ecs")
    cluster = minimal.resolve(minimal.template["Resources"][names(minimal).service]
                              ["Properties"]["Cluster"])
    (service,) = ecs.describe_services(cluster=cluster, services=[service_arn])["services"]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    environment = {e["name"]: e["value"] for c in definition["containerDefinitions"] for e in c.get("environment", [])}
    assert environment["QueueUrl"] == minimal.physical[names(minimal).queue]


def test_fifo_example_has_fifo_queues_and_no_topic(fifo):
    assert set(fifo.physical) == set(fifo.template["Resources"])
    queue = names(fifo).queue
    url = fifo.physical[queue]
    assert url.endswith(".fifo")
    assert queue_attributes(fifo, queue)["FifoQueue"] == "true"
    assert names(fifo).topic not in fifo.template["Resources"]
    assert fifo.of_type("AWS::SNS::Topic") == [], "alarms go to the existing topic; nothing else publishes"
    sqs = fifo.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody="first", MessageGroupId="photos",
                     MessageDeduplicationId=uuid.uuid4().hex)
    message = receive_one(sqs, url)
    assert message["Body"] == "first"
    assert message["Attributes"]["MessageGroupId"] == "photos"


def test_alarms_notify_the_topic_and_metric_filters_watch_the_log_group(minimal):
    n = names(minimal)
    alarm_ids = minimal.of_type("AWS::CloudWatch::Alarm")
    described = minimal.client("cloudwatch").describe_alarms(
        AlarmNames=[minimal.physical[a] for a in alarm_ids])["MetricAlarms"]
    assert len(described) == len(alarm_ids) >= 5
    notify = minimal.physical[n.notification_topic]
    assert notify in {action for alarm in described for action in alarm.get("AlarmActions", [])}
    filters = minimal.client("logs").describe_metric_filters(
        logGroupName=minimal.physical[n.log_group])["metricFilters"]
    assert len(filters) == len(minimal.of_type("AWS::Logs::MetricFilter")) >= 4


# --- the hardened example: customer managed keys, TLS-only policies ---------------------------------
#
# moto stores key ids and policies but enforces neither resource policies nor KMS key policies, and the tests
# talk plain HTTP to it: these tests show the template deploys, the keys and policies land where they should,
# and that SNS -> SQS -> watcher still runs with them in place. That requests without TLS are denied, and that
# the keys' policies let SNS, CloudWatch and the roles use them, is checked on the rendered statements
# (tests/template/test_tls.py, test_encryption.py), not by execution.

@pytest.fixture(scope="module")
def hardened(moto_server) -> tuple[Stack, dict[str, str]]:
    kms = moto_server.client("kms")
    keys = {name: kms.create_key(Description=f"watchbot test {name}")["KeyMetadata"]["Arn"]
            for name in ("MessageKeyArn", "LogKeyArn", "TableKeyArn")}
    given = {**keys, "Subnets": "subnet-0123abcd", "SecurityGroup": "sg-0123abcd"}
    return deploy(moto_server, render("examples/hardened.toml"), given=given), keys


def test_hardened_example_deploys_with_its_keys_and_tls_only_policies(hardened):
    stack, keys = hardened
    n = names(stack)
    assert set(stack.physical) == set(stack.template["Resources"])
    for queue in (n.queue, n.dead_letter_queue):
        attributes = queue_attributes(stack, queue)
        assert attributes["KmsMasterKeyId"] == keys["MessageKeyArn"]
        [deny] = [s for s in json.loads(attributes["Policy"])["Statement"] if s["Effect"] == "Deny"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert deny["Resource"] == [attributes["QueueArn"]]
    sns = stack.client("sns")
    for topic in (n.topic, n.notification_topic):
        attributes = sns.get_topic_attributes(TopicArn=stack.physical[topic])["Attributes"]
        assert attributes["KmsMasterKeyId"] == keys["MessageKeyArn"]
        statements = json.loads(attributes["Policy"])["Statement"]
        assert [s["Sid"] for s in statements][0] == "DenyInsecureTransport"
        assert all(s["Resource"] == [stack.physical[topic]] for s in statements)
    # moto's CloudFormation drops a log group's KmsKeyId (its model reads kmsKeyId) and a table's SSE settings
    # (it reads SSESpecification.Enabled, CloudFormation says SSEEnabled): for those two, the rendered
    # properties resolved against the stack are what can be checked here
    resources = stack.template["Resources"]
    assert stack.resolve(resources[n.log_group]["Properties"]["KmsKeyId"]) == keys["LogKeyArn"]
    assert stack.resolve(resources[n.progress_table]["Properties"]["SSESpecification"]) == {
        "SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": keys["TableKeyArn"]}


def test_hardened_pipeline_runs_a_job_published_to_the_encrypted_topic(hardened, moto_server):
    from tests.support.watcherproc import WatcherProcess, depth_becomes, summaries

    stack, _ = hardened
    n = names(stack)
    url = stack.physical[n.queue]
    stack.client("sns").publish(TopicArn=stack.physical[n.topic], Message="settle 42", Subject="ledger")
    with WatcherProcess(moto_server, url, 'echo "got=$Message/$Subject"') as watcher:
        lines = watcher.wait_for(lambda lines: len(summaries(lines)) >= 1, 30)
        watcher.signal()
        assert watcher.wait(15) == 0
    assert any("got=settle 42/ledger" in line for line in lines)
    assert "outcome success" in summaries(lines)[0]
    assert depth_becomes(moto_server, url, (0, 0)) == (0, 0)
