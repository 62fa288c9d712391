"""``watchbot-cfn diff``: replacements judged from create-only properties, spellings that mean the same string."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from watchbot_cfn.cli.main import main
from watchbot_cfn.templatediff import MODIFIED, REMOVED, REPLACED, canonical, compare

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "reduce.toml"


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    from watchbot_cfn.sources.templatefile import load_template

    return load_template(str(EXAMPLE))


def write(tmp_path: Path, name: str, template: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(template))
    return str(path)


def test_identical_templates_change_nothing_and_pass(rendered, tmp_path, capsys):
    old = write(tmp_path, "old.json", rendered)
    assert main(["diff", old, str(EXAMPLE), "--fail-on-replace"]) == 0
    assert capsys.readouterr().out == "no resource changes\n"


def test_a_renamed_log_group_is_a_stateful_replacement_and_fails(rendered, tmp_path, capsys):
    old = copy.deepcopy(rendered)
    old["Resources"]["WatchbotLogGroup"]["Properties"]["LogGroupName"] = {
        "Fn::Sub": "${AWS::StackName}-${AWS::Region}-Watchbot"}
    [change] = compare(old, rendered)
    assert (change.logical_id, change.kind, change.replaced_by) == ("WatchbotLogGroup", REPLACED, ("LogGroupName",))
    assert change.loses_state
    path = write(tmp_path, "old.json", old)
    assert main(["diff", path, str(EXAMPLE)]) == 0  # reported, not failing, without the flag
    assert main(["diff", path, str(EXAMPLE), "--fail-on-replace"]) == 1
    out = capsys.readouterr().out
    assert ("! WatchbotLogGroup (AWS::Logs::LogGroup) replaced because LogGroupName changed  "
            "[STATEFUL: its data goes]") in out


def test_a_removed_table_is_a_stateful_deletion_and_fails(rendered, tmp_path):
    new = copy.deepcopy(rendered)
    del new["Resources"]["WatchbotProgressTable"]
    changes = {change.logical_id: change for change in compare(rendered, new)}
    assert changes["WatchbotProgressTable"].kind == REMOVED and changes["WatchbotProgressTable"].loses_state
    assert main(["diff", write(tmp_path, "old.json", rendered), write(tmp_path, "new.json", new),
                 "--fail-on-replace"]) == 1


def test_a_retained_table_still_counts_but_says_it_is_kept(rendered):
    old = copy.deepcopy(rendered)
    old["Resources"]["WatchbotProgressTable"]["DeletionPolicy"] = "Retain"
    new = copy.deepcopy(rendered)
    del new["Resources"]["WatchbotProgressTable"]
    [change] = [c for c in compare(old, new) if c.logical_id == "WatchbotProgressTable"]
    assert change.retained and change.loses_state


def test_join_and_sub_spellings_of_one_name_are_the_same_name(rendered):
    old = copy.deepcopy(rendered)
    old["Resources"]["WatchbotQueue"]["Properties"]["QueueName"] = {
        "Fn::Join": ["", [{"Ref": "AWS::StackName"}, "-", "WatchbotQueue"]]}
    old["Resources"]["WatchbotLogGroup"]["Properties"]["LogGroupName"] = {
        "Fn::Join": ["-", [{"Ref": "AWS::StackName"}, {"Ref": "AWS::Region"}, "watchbot"]]}
    old["Resources"]["WatchbotProgressTable"]["Properties"]["TableName"] = {
        "Fn::Sub": ["${Stack}-Watchbot-progress", {"Stack": {"Ref": "AWS::StackName"}}]}
    assert compare(old, rendered) == []


@pytest.mark.parametrize("left, right", [
    ({"Fn::Join": ["", ["a-", {"Ref": "X"}]]}, {"Fn::Sub": "a-${X}"}),
    ({"Fn::GetAtt": ["Q", "Arn"]}, {"Fn::Sub": "${Q.Arn}"}),
    ({"Fn::GetAtt": "Q.Arn"}, {"Fn::GetAtt": ["Q", "Arn"]}),
    (1209600, "1209600"),
    (True, "true"),
    ({"Fn::Join": ["", ["${literal}"]]}, {"Fn::Sub": "${!literal}"}),
])
def test_spellings_of_one_value_compare_equal(left, right):
    assert canonical(left) == canonical(right)


@pytest.mark.parametrize("left, right", [
    ({"Fn::Join": ["", ["a-", {"Ref": "X"}]]}, {"Fn::Sub": "a-${Y}"}),
    ({"Fn::Sub": "${AWS::StackName}-Watchbot"}, {"Fn::Sub": "${AWS::StackName}-watchbot"}),
    ({"Fn::Join": ["", ["${literal}"]]}, {"Fn::Sub": "${literal}"}),
])
def test_different_values_stay_different(left, right):
    assert canonical(left) != canonical(right)


def test_a_changed_type_is_a_replacement_and_updatable_properties_are_modifications(rendered):
    new = copy.deepcopy(rendered)
    new["Resources"]["WatchbotQueue"]["Properties"]["VisibilityTimeout"] = 900
    new["Resources"]["WatchbotDashboard"]["Type"] = "AWS::CloudWatch::CompositeAlarm"
    changes = {change.logical_id: change for change in compare(rendered, new)}
    assert changes["WatchbotQueue"].kind == MODIFIED and changes["WatchbotQueue"].properties == (
        "VisibilityTimeout",) and not changes["WatchbotQueue"].loses_state
    assert changes["WatchbotDashboard"].kind == REPLACED and changes["WatchbotDashboard"].replaced_by == ("Type",)


def test_a_nested_create_only_property_forces_a_replacement():
    old = {"Resources": {"T": {"Type": "AWS::DynamoDB::Table", "Properties": {
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "TableName": "t"}}}}
    new = copy.deepcopy(old)
    new["Resources"]["T"]["Properties"]["TableName"] = "u"
    [change] = compare(old, new)
    assert change.kind == REPLACED and change.loses_state


def test_json_lines_name_every_change(rendered, tmp_path, capsys):
    new = copy.deepcopy(rendered)
    del new["Resources"]["WatchbotDashboard"]
    assert main(["diff", write(tmp_path, "old.json", rendered), write(tmp_path, "new.json", new), "--json"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line) == {"logical_id": "WatchbotDashboard", "change": "removed",
                                "type": "AWS::CloudWatch::Dashboard", "properties": [], "replaced_by": [],
                                "stateful": False, "loses_state": False, "retained": False}


def test_a_missing_file_is_one_line(tmp_path, capsys):
    assert main(["diff", str(tmp_path / "nope.json"), str(EXAMPLE)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.json" in err
