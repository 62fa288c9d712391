"""Every file in examples/ renders through the CLI loader and lints clean.

Each example is rendered and linted once per module (lint costs about a
second); the behaviour tests below read the same rendered dicts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from watchbot_cfn.lint import lint
from watchbot_cfn.sources.load import load_source

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_FILES = sorted(p.name for p in EXAMPLES.iterdir() if p.suffix in {".toml", ".yaml", ".yml", ".json", ".py"})
REQUIRED_EXAMPLES = {"minimal.toml", "fargate-spot.toml", "fifo.toml", "two-systems.toml", "s3-worker.toml"}


@pytest.fixture(scope="module")
def rendered() -> dict[str, dict[str, Any]]:
    """name -> template dict, rendered once per module."""
    return {name: json.loads(load_source(str(EXAMPLES / name)).to_json()) for name in EXAMPLE_FILES}


@pytest.fixture(scope="module")
def findings(rendered) -> dict[str, list[str]]:
    """name -> every finding cfn-lint reports, informational rules included, linted once per module."""
    return {name: [str(f) for f in lint(body, informational=True)] for name, body in rendered.items()}


def resources_of(body: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {key: value for key, value in body["Resources"].items() if value["Type"] == kind}


def test_the_documented_examples_exist():
    assert REQUIRED_EXAMPLES <= set(EXAMPLE_FILES)


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_example_lints_without_errors_warnings_or_informational_findings(name, findings):
    assert findings[name] == []


def test_minimal_example_is_one_standard_system_on_ec2(rendered):
    body = rendered["minimal.toml"]
    [service] = resources_of(body, "AWS::ECS::Service").values()
    # no launch type: the cluster's default capacity provider strategy applies, as in the original
    assert "LaunchType" not in service["Properties"] and "CapacityProviderStrategy" not in service["Properties"]
    assert set(resources_of(body, "AWS::SNS::Topic")) >= {"WatchbotTopic"}


def test_fargate_spot_example_wires_its_parameters(rendered):
    body = rendered["fargate-spot.toml"]
    service = body["Resources"]["WatchbotService"]["Properties"]
    assert service["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"] == {"Ref": "Subnets"}
    task = body["Resources"]["WatchbotTaskDefinition"]["Properties"]
    assert task["RuntimePlatform"]["CpuArchitecture"] == "ARM64"
    assert {"GitSha", "Subnets", "SecurityGroup"} <= set(body["Parameters"])


def test_fifo_example_has_fifo_queues_and_no_work_topic(rendered):
    body = rendered["fifo.toml"]
    assert body["Resources"]["WatchbotQueue"]["Properties"]["FifoQueue"] is True
    assert "WatchbotTopic" not in body["Resources"]
    assert "WatchbotTopicArn" not in body["Outputs"]


def test_two_systems_example_holds_both_prefixes_side_by_side(rendered):
    body = rendered["two-systems.toml"]
    services = resources_of(body, "AWS::ECS::Service")
    assert set(services) == {"ResizeService", "TranscodeService"}
    assert {"ResizeQueueUrl", "TranscodeQueueUrl"} <= set(body["Outputs"])
    assert set(body["Metadata"]["WatchbotCfn"]) == {"Resize", "Transcode"}


def test_s3_worker_example_reads_the_bucket_from_its_own_resources(rendered):
    body = rendered["s3-worker.toml"]
    assert body["Resources"]["Uploads"]["Type"] == "AWS::S3::Bucket"
    role = body["Resources"]["WatchbotTaskRole"]["Properties"]
    [worker] = [p["PolicyDocument"]["Statement"] for p in role["Policies"] if p["PolicyName"] == "worker"]
    assert [s["Resource"] for s in worker] == [{"Fn::Sub": "${Uploads.Arn}/*"}, {"Fn::GetAtt": ["Uploads", "Arn"]}]
    [container] = body["Resources"]["WatchbotTaskDefinition"]["Properties"]["ContainerDefinitions"]
    assert {"Name": "BUCKET", "Value": {"Ref": "Uploads"}} in container["Environment"]


def test_ec2_placement_example_pins_tasks_and_mounts_the_host_cache(rendered):
    body = rendered["ec2-placement.yaml"]
    service = body["Resources"]["WatchbotService"]["Properties"]
    assert [c["Type"] for c in service["PlacementConstraints"]] == ["distinctInstance", "memberOf"]
    volumes = body["Resources"]["WatchbotTaskDefinition"]["Properties"]["Volumes"]
    assert {"Name": "models", "Host": {"SourcePath": "/var/cache/models"}} in volumes
    role = body["Resources"]["WatchbotExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    assert "Secrets" not in [s["Sid"] for s in role["Statement"]]  # an SSM parameter, not a secret


def test_hardened_example_uses_its_own_keys_everywhere_and_lets_eventbridge_publish(rendered):
    body = rendered["hardened.toml"]
    resources = body["Resources"]
    keys = {"LedgerQueue": resources["LedgerQueue"]["Properties"]["KmsMasterKeyId"],
            "LedgerTopic": resources["LedgerTopic"]["Properties"]["KmsMasterKeyId"],
            "LedgerLogGroup": resources["LedgerLogGroup"]["Properties"]["KmsKeyId"],
            "LedgerProgressTable": resources["LedgerProgressTable"]["Properties"]["SSESpecification"]
            ["KMSMasterKeyId"]}
    assert keys == {"LedgerQueue": {"Ref": "MessageKeyArn"}, "LedgerTopic": {"Ref": "MessageKeyArn"},
                    "LedgerLogGroup": {"Ref": "LogKeyArn"}, "LedgerProgressTable": {"Ref": "TableKeyArn"}}
    assert not [key for key, value in resources.items() if "checkov" in value.get("Metadata", {})]
    [allowed] = [s for s in resources["LedgerTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
                 if s["Effect"] == "Allow"]
    assert allowed["Principal"] == {"Service": ["events.amazonaws.com"]}
    assert set(body["Metadata"]["WatchbotCfn"]["Ledger"]["KeyPolicy"]) == {
        "message_kms_key", "log_kms_key", "progress_table_kms_key"}
