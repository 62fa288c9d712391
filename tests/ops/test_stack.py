"""Finding a stack's systems from its resources: this project's stacks and the original's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from watchbot_cfn.naming import Names
from watchbot_cfn.ops.stack import PrefixNeeded, StackError, System, choose_system, systems_from_resources

#: Logical ids and types of every resource in four stacks the JavaScript Watchbot v9 rendered.
ORIGINAL = json.loads((Path(__file__).parent / "original_stacks.json").read_text())["stacks"]


def summaries(resources: dict[str, str]) -> list[dict]:
    """ListStackResources summaries for logical id -> type, with readable physical ids."""
    return [{"LogicalResourceId": key, "ResourceType": kind, "PhysicalResourceId": f"physical-{key}",
             "ResourceStatus": "CREATE_COMPLETE"} for key, kind in resources.items()]


ORIGINAL_SYSTEMS = {"minimal": ["Watchbot"], "fifo": ["Watchbot"], "reduce": ["Watchbot"],
                    "fargate-two-systems": ["Resize", "Thumbs"]}


@pytest.mark.parametrize(("name", "prefixes"), sorted(ORIGINAL_SYSTEMS.items()))
def test_stacks_built_by_the_original_are_found_by_logical_id(name, prefixes):
    assert len(ORIGINAL[name]) > 20, "the whole stack, not just its queues"
    systems = systems_from_resources(summaries(dict(ORIGINAL[name])))
    assert [system.prefix for system in systems] == prefixes
    for system in systems:
        assert system == System(system.prefix, f"physical-{system.prefix}Queue",
                                f"physical-{system.prefix}DeadLetterQueue", f"physical-{system.prefix}LogGroup")


def test_this_projects_logical_ids_pair_the_same_way():
    names = Names("Resize")
    resources = {names.queue: "AWS::SQS::Queue", names.dead_letter_queue: "AWS::SQS::Queue",
                 names.log_group: "AWS::Logs::LogGroup", names.topic: "AWS::SNS::Topic"}
    assert systems_from_resources(summaries(resources)) == [
        System("Resize", f"physical-{names.queue}", f"physical-{names.dead_letter_queue}",
               f"physical-{names.log_group}")]


def test_queues_that_are_not_a_pair_and_deleted_resources_are_not_systems():
    resources = summaries({"UploadsQueue": "AWS::SQS::Queue", "OrphanDeadLetterQueue": "AWS::SQS::Queue",
                           "WatchbotQueue": "AWS::SQS::Queue", "WatchbotDeadLetterQueue": "AWS::SQS::Queue"})
    resources.append({"LogicalResourceId": "OldQueue", "ResourceType": "AWS::SQS::Queue",
                      "PhysicalResourceId": "x", "ResourceStatus": "DELETE_COMPLETE"})
    resources.append({"LogicalResourceId": "OldDeadLetterQueue", "ResourceType": "AWS::SQS::Queue",
                      "PhysicalResourceId": "y", "ResourceStatus": "DELETE_COMPLETE"})
    [system] = systems_from_resources(resources)
    assert (system.prefix, system.log_group) == ("Watchbot", None)


SYSTEMS = [System("Resize", "q1", "d1"), System("Thumbs", "q2.fifo", "d2.fifo")]


def test_the_prefix_picks_a_system():
    assert choose_system(SYSTEMS, "Thumbs", None).fifo is True


def test_an_unknown_prefix_names_the_ones_there_are():
    with pytest.raises(StackError, match=r"--prefix 'Thumb' names no Watchbot system .* holds: Resize, Thumbs"):
        choose_system(SYSTEMS, "Thumb", None)


def test_one_system_needs_no_prefix():
    assert choose_system(SYSTEMS[:1], None, None).prefix == "Resize"


def test_several_systems_are_asked_about_or_need_the_prefix():
    assert choose_system(SYSTEMS, None, lambda systems: systems[1]).prefix == "Thumbs"
    with pytest.raises(PrefixNeeded, match=r"holds 2 Watchbot systems \(Resize, Thumbs\): pass --prefix"):
        choose_system(SYSTEMS, None, None)
