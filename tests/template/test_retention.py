"""Every stateful resource says what deleting the stack or replacing it does: Delete, or Retain when asked."""

from __future__ import annotations

import json

import pytest

from tests.support.templates import REQUIRED
from watchbot_cfn import template
from watchbot_cfn.errors import OptionsError
from watchbot_cfn.lint import lint

STATEFUL = {"AWS::SQS::Queue", "AWS::Logs::LogGroup", "AWS::DynamoDB::Table"}
KIND = {"WatchbotQueue": "queue", "WatchbotDeadLetterQueue": "dead_letter_queue", "WatchbotLogGroup": "log_group",
        "WatchbotProgressTable": "progress_table"}


def policies(**overrides) -> dict[str, tuple[str, str]]:
    body = json.loads(template(**{**REQUIRED, "reduce": True, **overrides}).to_json())
    return {key: (value.get("DeletionPolicy"), value.get("UpdateReplacePolicy"))
            for key, value in body["Resources"].items() if value["Type"] in STATEFUL}


def test_by_default_the_progress_table_is_kept_and_the_rest_say_delete():
    assert policies() == {"WatchbotQueue": ("Delete", "Delete"), "WatchbotDeadLetterQueue": ("Delete", "Delete"),
                          "WatchbotLogGroup": ("Delete", "Delete"), "WatchbotProgressTable": ("Retain", "Retain")}


@pytest.mark.parametrize("kept", [[], ["queue", "dead_letter_queue"], ["log_group"],
                                  ["queue", "dead_letter_queue", "log_group", "progress_table"]])
def test_retain_names_exactly_what_is_kept(kept):
    found = policies(retain=kept)
    assert set(found) == set(KIND)
    for logical_id, kind in KIND.items():
        expected = "Retain" if kind in kept else "Delete"
        assert found[logical_id] == (expected, expected), logical_id


def test_an_unknown_kind_names_the_option_the_value_and_what_is_allowed():
    with pytest.raises(OptionsError) as error:
        template(**REQUIRED, retain=["table"])
    text = str(error.value)
    assert "retain" in text and "'table'" in text and "progress_table" in text and "dead_letter_queue" in text


def test_no_stateful_resource_is_left_to_the_default_by_cfn_lint():
    body = template(**REQUIRED, reduce=True, retain=["queue"]).to_json()
    assert [finding for finding in lint(body, informational=True) if finding.rule == "I3011"] == []
