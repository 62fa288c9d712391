"""Upgrading a stack built by the original Watchbot 9: nothing stateful is replaced or deleted.

Each fixture is a template the original rendered for a set of options (its
camelCase names). The same options, spelled as this project spells them, are
rendered here and compared with ``watchbot_cfn.templatediff`` as an update of
the old stack would go.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import watchbot_cfn
from watchbot_cfn.options import option_specs
from watchbot_cfn.templatediff import STATEFUL_TYPES, canonical, compare

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "watchbot-v9"
NAMES = sorted(path.name.removesuffix(".options.json") for path in FIXTURES.glob("*.options.json"))
SNAKE_CASE = {spec.legacy: spec.name for spec in option_specs() if spec.legacy}


def original_template(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.template.json").read_text())


def rendered_here(name: str) -> dict[str, Any]:
    """This project's template for the fixture's options (and its extra template parts)."""
    given = json.loads((FIXTURES / f"{name}.options.json").read_text())
    systems = [given["options"]] + ([given["second"]] if given["second"] else [])
    templates = [watchbot_cfn.template(**{SNAKE_CASE[key]: value for key, value in system.items()})
                 for system in systems]
    return watchbot_cfn.merge(given["extra"] or {}, *templates).to_dict()


@pytest.fixture(scope="module", params=NAMES)
def upgrade(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any], dict[str, Any]]:
    return request.param, original_template(request.param), rendered_here(request.param)


def test_no_stateful_resource_is_replaced_or_deleted(upgrade):
    name, old, new = upgrade
    losing = [change for change in compare(old, new) if change.loses_state]
    assert losing == [], name


def test_every_stateful_resource_keeps_its_logical_id_type_and_create_only_properties(upgrade):
    name, old, new = upgrade
    stateful = {key: value for key, value in old["Resources"].items() if value["Type"] in STATEFUL_TYPES}
    assert stateful, name
    for logical_id, before in stateful.items():
        after = new["Resources"].get(logical_id)
        assert after is not None and after["Type"] == before["Type"], logical_id
        for key in ("QueueName", "FifoQueue", "LogGroupName", "TableName", "TopicName", "KeySchema"):
            assert canonical(before["Properties"].get(key)) == canonical(after["Properties"].get(key)), (
                logical_id, key)


def test_email_and_queue_subscriptions_stay_as_the_original_declared_them(upgrade):
    # A subscription declared differently is a new one: email would need confirming again, and the queue
    # would miss what the topic publishes meanwhile.
    name, old, new = upgrade
    for logical_id, before in old["Resources"].items():
        if before["Type"] == "AWS::SNS::Topic":
            assert canonical(before["Properties"].get("Subscription")) == canonical(
                new["Resources"][logical_id]["Properties"].get("Subscription")), logical_id


def test_dead_letters_are_kept_fourteen_days_as_the_original_kept_them(upgrade):
    name, old, new = upgrade
    for logical_id, before in old["Resources"].items():
        if logical_id.endswith("DeadLetterQueue"):
            assert new["Resources"][logical_id]["Properties"]["MessageRetentionPeriod"] == \
                before["Properties"]["MessageRetentionPeriod"] == 1_209_600


def test_reduce_mode_workers_get_the_table_arn_as_the_original_gave_it():
    old, new = original_template("reduce"), rendered_here("reduce")

    def progress_table(template: dict[str, Any]) -> Any:
        [task] = [r for r in template["Resources"].values() if r["Type"] == "AWS::ECS::TaskDefinition"]
        [container] = task["Properties"]["ContainerDefinitions"]
        return {pair["Name"]: pair["Value"] for pair in container["Environment"]}.get("ProgressTable")

    original = progress_table(old)
    assert original is not None and ":table/" in json.dumps(original)  # an ARN built from the table's name
    assert canonical(progress_table(new)) == canonical({"Fn::GetAtt": ["WatchbotProgressTable", "Arn"]})
