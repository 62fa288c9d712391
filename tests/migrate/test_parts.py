"""The parts of migrate on their own: pseudo parameters, the user's resources, writing sources, diff --stack-name."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import pytest
import yaml

from tests.migrate.variants import FIXTURES, source, v10
from watchbot_cfn.cli.main import main
from watchbot_cfn.migrate.adopted import adopted_document, adopted_text, toml_value
from watchbot_cfn.migrate.loading import render_document
from watchbot_cfn.migrate.oldstack import references
from watchbot_cfn.migrate.plan import plan
from watchbot_cfn.migrate.pseudo import StackPlace, resolve

PLACE = StackPlace("Media-Pipeline", "eu-west-1", "210987654321")


@pytest.mark.parametrize(("value", "expected"), [
    ({"Fn::Sub": "${AWS::StackName}-${AWS::Region}-thumbs"}, "Media-Pipeline-eu-west-1-thumbs"),
    ({"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, "Queue"]]}, "Media-Pipeline-Queue"),
    ({"Fn::Sub": "arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:${Q.QueueName}"},
     {"Fn::Sub": "arn:aws:sqs:eu-west-1:210987654321:${Q.QueueName}"}),
    ({"Fn::Sub": "${AWS::StackName}-${!Literal}"}, "Media-Pipeline-${Literal}"),
    ({"Ref": "AWS::Partition"}, {"Fn::Sub": "${AWS::Partition}"}),
    ({"Fn::Sub": ["${Name}-q", {"Name": {"Ref": "AWS::StackName"}}]}, "Media-Pipeline-q"),
])
def test_pseudo_parameters_resolve_as_cloudformation_would(value, expected):
    assert resolve(value, PLACE) == expected


def test_an_unknown_account_stays_symbolic():
    place = StackPlace("s", "us-east-1")
    assert resolve({"Fn::Sub": "${AWS::AccountId}-${AWS::StackName}"}, place) == {"Fn::Sub": "${AWS::AccountId}-s"}


def test_references_are_found_through_every_intrinsic():
    value = {"A": {"Ref": "Queue"}, "B": {"Fn::GetAtt": ["Topic", "Arn"]}, "C": {"Fn::GetAtt": "Table.Arn"},
             "D": {"Fn::Sub": "${Group}-${AWS::Region}-${Role.Arn}-${!Not}"}, "DependsOn": ["Policy"],
             "E": {"Fn::Sub": ["${Local}-${Bucket}", {"Local": {"Ref": "Param"}}]}}
    assert references(value) == {"Queue", "Topic", "Table", "Group", "Role", "Policy", "Bucket", "Param"}


def _with_user_resources() -> dict[str, Any]:
    old = v10("minimal")
    resources = old["Resources"]
    topic = next(key for key, item in resources.items() if item["Type"] == "AWS::SNS::Topic")
    service = next(key for key, item in resources.items() if item["Type"] == "AWS::ECS::Service")
    resources["UploadsBucket0A1B2C3D"] = {
        "Type": "AWS::S3::Bucket", "Metadata": {"aws:cdk:path": "MyStack/Uploads/Resource"},
        "Properties": {"NotificationConfiguration": {"TopicConfigurations": [
            {"Event": "s3:ObjectCreated:*", "Topic": {"Ref": topic}}]}}}
    resources["ServiceAlarm1A2B3C4D"] = {
        "Type": "AWS::CloudWatch::Alarm", "Metadata": {"aws:cdk:path": "MyStack/ServiceAlarm/Resource"},
        "Properties": {"MetricName": "CPUUtilization", "Namespace": "AWS/ECS", "Statistic": "Average",
                       "Period": 60, "EvaluationPeriods": 1, "Threshold": 90,
                       "ComparisonOperator": "GreaterThanThreshold",
                       "Dimensions": [{"Name": "ServiceName", "Value": {"Fn::GetAtt": [service, "Name"]}}]}}
    return old


def test_user_resources_outside_the_construct_are_kept_verbatim_or_explained():
    data = tomllib.loads(source("minimal"))
    old = _with_user_resources()
    result = plan(data, "stack.toml", old, StackPlace("my-stack", "us-east-1"), render_document)
    assert result.safe
    assert result.kept == ["UploadsBucket0A1B2C3D"]
    assert result.document["Resources"]["UploadsBucket0A1B2C3D"] == old["Resources"]["UploadsBucket0A1B2C3D"]
    [note] = result.notes
    assert note.startswith("ServiceAlarm1A2B3C4D (AWS::CloudWatch::Alarm) is yours and refers to "
                           "WatchbotServiceQueueProcessingFargateService893459BC")
    assert "ServiceAlarm1A2B3C4D" not in result.document["Resources"]
    # the bucket still points at the topic, which keeps its logical id
    assert result.document["logical_ids"]["topic"] == "WatchbotTopic37DD0D00"


def test_the_toml_writer_keeps_the_users_lines_and_says_exactly_the_adopted_data():
    original = "# my system\n" + source("minimal") + "\n[Outputs.Mine]\nValue = \"x\"\n"
    data = tomllib.loads(original)
    document = adopted_document(data, {"logical_ids": {"queue": "Q1"}, "exports": [{"name": "a", "value": "topic"}]},
                                {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": [
                                    {"Key": "a\"b", "Value": {"Fn::Sub": "${AWS::StackName}"}}]}}}, {})
    text = adopted_text("stack.toml", original, data, document)
    assert text.startswith("# my system\n")
    assert tomllib.loads(text) == document
    assert text.index("logical_ids") < text.index("[Outputs.Mine]")


def test_the_toml_writer_replaces_options_the_source_already_had():
    original = source("minimal") + 'logical_ids = { queue = "Old" }\n'
    data = tomllib.loads(original)
    document = adopted_document(data, {"logical_ids": {"queue": "New"}}, {}, {})
    text = adopted_text("stack.toml", original, data, document)
    assert tomllib.loads(text)["logical_ids"] == {"queue": "New"}
    assert text.count("logical_ids") == 1


@pytest.mark.parametrize(("value", "text"), [
    (True, "true"), (3, "3"), ("a\"b", '"a\\"b"'), ([1, "x"], '[1, "x"]'), ({}, "{}"),
    ({"Fn::Sub": "x"}, '{ "Fn::Sub" = "x" }'),
])
def test_toml_values_are_written_on_one_line(value, text):
    assert toml_value(value) == text


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_yaml_and_json_sources_are_written_back_whole(tmp_path, capsys, suffix):
    data = tomllib.loads(source("minimal"))
    src = tmp_path / f"stack{suffix}"
    src.write_text(json.dumps(data) if suffix == ".json" else yaml.safe_dump(data))
    old = tmp_path / "old.json"
    old.write_text(json.dumps(v10("minimal")))
    out = tmp_path / f"adopted{suffix}"
    assert main(["migrate", str(src), "--template", str(old), "--stack-name", "my-stack", "--region", "us-east-1",
                 "-o", str(out)]) == 0
    written = yaml.safe_load(out.read_text())
    assert written["topic_subscription"] == "resource"
    assert written["cluster"] == "processing"


def test_diff_with_a_stack_name_compares_literal_and_sub_names_as_equal(tmp_path, capsys):
    old = tmp_path / "old.json"
    old.write_text(json.dumps(v10("minimal")))
    src = tmp_path / "stack.toml"
    src.write_text(source("minimal"))
    assert main(["diff", str(old), str(src), "--json"]) == 0
    plain = {json.loads(line)["logical_id"]: json.loads(line) for line in capsys.readouterr().out.splitlines()}
    assert plain["WatchbotLogGroup"]["change"] == "replaced"  # a literal name against ${AWS::StackName}-...
    assert main(["diff", str(old), str(src), "--json", "--stack-name", "my-stack", "--region", "us-east-1"]) == 0
    resolved = {json.loads(line)["logical_id"]: json.loads(line) for line in capsys.readouterr().out.splitlines()}
    assert resolved["WatchbotLogGroup"]["change"] == "modified"
    assert main(["diff", str(old), str(src), "--stack-name", "other-stack", "--region", "us-east-1",
                 "--json"]) == 0
    other = {json.loads(line)["logical_id"]: json.loads(line) for line in capsys.readouterr().out.splitlines()}
    assert other["WatchbotLogGroup"]["change"] == "replaced"  # another stack's name is another name


def test_diff_refuses_an_account_without_a_stack_name(tmp_path, capsys):
    old = tmp_path / "old.json"
    old.write_text(json.dumps(v10("minimal")))
    assert main(["diff", str(old), str(old), "--account", "123456789012"]) == 1
    assert "--account resolves AWS::AccountId only together with --stack-name" in capsys.readouterr().err


def test_a_watchbot_9_users_resource_that_refers_to_an_id_the_render_keeps_stays():
    old = json.loads((FIXTURES / "watchbot-v9" / "minimal.template.json").read_text())
    old["Resources"]["BacklogAlarm"] = {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {"MetricName": "ApproximateNumberOfMessagesVisible", "Namespace": "AWS/SQS",
                       "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1000,
                       "ComparisonOperator": "GreaterThanThreshold",
                       "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["WatchbotQueue", "QueueName"]}}]}}
    data = tomllib.loads((FIXTURES.parent.parent / "examples" / "minimal.toml").read_text())
    result = plan(data, "stack.toml", old, StackPlace("my-stack", "us-east-1"), render_document)
    assert result.safe
    assert result.kept == ["BacklogAlarm"]
    assert result.notes == []
