"""References outside the template are checked before any change set, and named when they are missing.

The ECS, KMS, EC2 and SNS clients here answer as AWS does (DescribeClusters
lists a missing cluster under ``failures``; the others raise their NotFound
codes). The same check against a moto server process is in
tests/integration/test_cli_deploy.py.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws.test_deployer import CHANGES, STACK, ScriptedCloudFormation, aws_with, event
from watchbot_cfn.aws.clients import AwsError
from watchbot_cfn.aws.deployer import DeployRequest, deploy
from watchbot_cfn.aws.preflight import Reference, external_references, parameter_values
from watchbot_cfn.statusline import StatusLine

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC = "arn:aws:sns:us-east-1:123456789012:ops-alarms"


def template(cluster: Any = "processing", **extra: Any) -> dict[str, Any]:
    service: dict[str, Any] = {"Cluster": cluster, "TaskDefinition": {"Ref": "Task"}}
    if "subnets" in extra:
        service["NetworkConfiguration"] = {"AwsvpcConfiguration": {"Subnets": extra["subnets"],
                                                                   "SecurityGroups": extra.get("groups", [])}}
    resources: dict[str, Any] = {
        "Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {}},
        "Service": {"Type": "AWS::ECS::Service", "Properties": service},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"KmsMasterKeyId": {"Ref": "MessageKey"}}},
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"AlarmActions": [TOPIC, {"Ref": "Topic"}]}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
    }
    return {"Parameters": {"MessageKey": {"Type": "String", "Default": KEY},
                           "ClusterName": {"Type": "String"}}, "Resources": resources}


def not_found(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "does not exist"}}, operation)


class Ecs:
    def __init__(self, clusters: dict[str, str], denied: bool = False) -> None:
        self.clusters = clusters  # name -> status
        self.denied = denied
        self.asked: list[str] = []

    def describe_clusters(self, clusters: list[str]) -> dict[str, Any]:
        self.asked.extend(clusters)
        if self.denied:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeClusters")
        name = clusters[0].rsplit("/", 1)[-1]
        if name in self.clusters:
            return {"clusters": [{"clusterName": name, "status": self.clusters[name]}], "failures": []}
        return {"clusters": [], "failures": [{"arn": f"arn:aws:ecs:us-east-1:123456789012:cluster/{name}",
                                              "reason": "MISSING"}]}


class Kms:
    def __init__(self, keys: dict[str, str]) -> None:
        self.keys = keys  # key id -> KeyState

    def describe_key(self, KeyId: str) -> dict[str, Any]:
        if KeyId not in self.keys:
            raise not_found("NotFoundException", "DescribeKey")
        return {"KeyMetadata": {"KeyId": KeyId, "KeyState": self.keys[KeyId]}}


class Sns:
    def __init__(self, topics: set[str]) -> None:
        self.topics = topics

    def get_topic_attributes(self, TopicArn: str) -> dict[str, Any]:
        if TopicArn not in self.topics:
            raise not_found("NotFound", "GetTopicAttributes")
        return {"Attributes": {}}


class Ec2:
    def __init__(self, subnets: set[str], groups: set[str]) -> None:
        self.subnets, self.groups = subnets, groups

    def describe_subnets(self, SubnetIds: list[str]) -> dict[str, Any]:
        if not set(SubnetIds) <= self.subnets:
            raise not_found("InvalidSubnetID.NotFound", "DescribeSubnets")
        return {"Subnets": []}

    def describe_security_groups(self, GroupIds: list[str]) -> dict[str, Any]:
        if not set(GroupIds) <= self.groups:
            raise not_found("InvalidGroup.NotFound", "DescribeSecurityGroups")
        return {"SecurityGroups": []}


def run(body: dict[str, Any], parameters: dict[str, str] | None = None, **clients: Any) -> tuple[Any, Any, str]:
    cfn = ScriptedCloudFormation([[event(2, STACK, "UPDATE_IN_PROGRESS"), event(3, STACK, "UPDATE_COMPLETE")]],
                                 CHANGES)
    defaults = {"ecs": Ecs({"processing": "ACTIVE"}), "kms": Kms({KEY: "Enabled"}), "sns": Sns({TOPIC}),
                "ec2": Ec2(set(), set())}
    output = io.StringIO()
    request = DeployRequest(STACK, body, parameters or {"ClusterName": "x"}, yes=True, poll_interval=0.0)
    outcome = deploy(aws_with(cfn, **{**defaults, **clients}), request, StatusLine(output, live=False))
    return outcome, cfn, output.getvalue()


def test_a_missing_cluster_is_named_with_the_region_and_what_to_do_before_any_change_set():
    ecs = Ecs({})
    cfn = ScriptedCloudFormation([], CHANGES)
    defaults = {"kms": Kms({KEY: "Enabled"}), "sns": Sns({TOPIC}), "ec2": Ec2(set(), set())}
    request = DeployRequest(STACK, template(), {"ClusterName": "x"}, yes=True, poll_interval=0.0)
    with pytest.raises(AwsError) as raised:
        deploy(aws_with(cfn, ecs=ecs, **defaults), request, StatusLine(io.StringIO(), live=False))
    line = str(raised.value)
    assert "\n" not in line
    assert "Service (Cluster): the ECS cluster 'processing' does not exist in region us-east-1" in line
    assert "aws ecs create-cluster --cluster-name processing" in line and "nothing was changed" in line
    assert ecs.asked == ["processing"]
    assert cfn.calls == [], "no change set was created"


def test_a_cluster_given_as_a_parameter_is_checked_by_its_value_and_an_inactive_one_is_refused():
    ecs = Ecs({"old": "INACTIVE"})
    with pytest.raises(AwsError, match="the ECS cluster 'old' was deleted \\(INACTIVE\\)"):
        run(template(cluster={"Ref": "ClusterName"}), {"ClusterName": "old"}, ecs=ecs)
    assert ecs.asked == ["old"]


def test_an_existing_cluster_and_references_that_resolve_let_the_deploy_go_on():
    outcome, cfn, _ = run(template())
    assert outcome.ok and [name for name, _ in cfn.calls][:1] == ["create_change_set"]


def test_a_check_the_caller_may_not_make_is_skipped():
    outcome, _, _ = run(template(), ecs=Ecs({}, denied=True))
    assert outcome.ok


@pytest.mark.parametrize("clients,fragment", [
    ({"kms": Kms({})}, f"Queue (KmsMasterKeyId): the KMS key '{KEY}' does not exist in region us-east-1"),
    ({"kms": Kms({KEY: "PendingDeletion"})}, f"the KMS key '{KEY}' is PendingDeletion"),
    ({"sns": Sns(set())}, f"Alarm (AlarmActions): the SNS topic '{TOPIC}' for alarms does not exist"),
])
def test_missing_keys_and_topics_are_named(clients, fragment):
    with pytest.raises(AwsError, match=fragment.replace("(", "\\(").replace(")", "\\)")):
        run(template(), **clients)


def test_subnets_and_security_groups_from_a_list_parameter_are_each_checked():
    body = template(subnets={"Ref": "Subnets"}, groups=["sg-1"])
    body["Parameters"]["Subnets"] = {"Type": "List<AWS::EC2::Subnet::Id>"}
    with pytest.raises(AwsError, match="the subnet 'subnet-b' does not exist"):
        run(body, {"ClusterName": "x", "Subnets": "subnet-a, subnet-b"}, ec2=Ec2({"subnet-a"}, {"sg-1"}))
    with pytest.raises(AwsError, match="the security group 'sg-1' does not exist"):
        run(body, {"ClusterName": "x", "Subnets": "subnet-a"}, ec2=Ec2({"subnet-a"}, set()))


def test_values_only_cloudformation_knows_are_left_to_it():
    body = template(cluster={"Fn::Join": ["", ["a", "b"]]})
    body["Resources"]["Queue"]["Properties"]["KmsMasterKeyId"] = "alias/aws/sqs"
    references = external_references(body, parameter_values(body, {}, {}))
    assert references == [Reference("sns-topic", TOPIC, "Alarm (AlarmActions)")]


def test_parameter_values_prefer_given_then_previous_then_default():
    body = {"Parameters": {"A": {"Type": "String", "Default": "a"}, "B": {"Type": "String", "Default": "b"},
                           "C": {"Type": "String", "Default": "c"}, "Secret": {"Type": "String"}}}
    assert parameter_values(body, {"A": "given"}, {"A": "old", "B": "old", "Secret": "****"}) == {
        "A": "given", "B": "old", "C": "c"}


def test_a_loopback_endpoint_is_asked_only_about_the_cluster():
    from tests.aws.test_deployer import ScriptedSession
    from watchbot_cfn.aws.clients import Aws
    from watchbot_cfn.aws.preflight import check_external_references

    ecs = Ecs({"processing": "ACTIVE"})
    local = Aws(session=ScriptedSession({"ecs": ecs, "kms": Kms({}), "sns": Sns(set())}), region="us-east-1",
                endpoint_url="http://127.0.0.1:5000")
    body = template()
    assert check_external_references(local, body, parameter_values(body, {}, {})) == ["cluster"]
    assert ecs.asked == ["processing"]
