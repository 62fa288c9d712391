"""Finding a stack's systems: this project's stacks, the original's and Watchbot 10's, read the same way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from watchbot_cfn.analysis.systems import System, systems_in_stack
from watchbot_cfn.aws.stacks import PrefixNeeded, StackError, pick_system
from watchbot_cfn.naming import Names

#: Logical ids and types of every resource in four stacks the JavaScript Watchbot v9 rendered.
ORIGINAL = json.loads((Path(__file__).parents[1] / "ops" / "original_stacks.json").read_text())["stacks"]
V10 = Path(__file__).parents[1] / "fixtures" / "watchbot-v10"


def summaries(resources: dict[str, str]) -> list[dict]:
    """ListStackResources summaries for logical id -> type, with readable physical ids."""
    return [{"LogicalResourceId": key, "ResourceType": kind, "PhysicalResourceId": f"physical-{key}",
             "ResourceStatus": "CREATE_COMPLETE"} for key, kind in resources.items()]


ORIGINAL_SYSTEMS = {"minimal": ["Watchbot"], "fifo": ["Watchbot"], "reduce": ["Watchbot"],
                    "fargate-two-systems": ["Resize", "Thumbs"]}


@pytest.mark.parametrize(("name", "prefixes"), sorted(ORIGINAL_SYSTEMS.items()))
def test_stacks_built_by_the_original_are_found_by_logical_id(name, prefixes):
    assert len(ORIGINAL[name]) > 20, "the whole stack, not just its queues"
    systems = systems_in_stack(None, summaries(dict(ORIGINAL[name])))
    assert [system.prefix for system in systems] == prefixes
    for system in systems:
        topic = None if name == "fifo" else f"physical-{system.prefix}Topic"
        assert system == System(system.prefix, f"physical-{system.prefix}Queue",
                                f"physical-{system.prefix}DeadLetterQueue", f"physical-{system.prefix}LogGroup", topic)


def test_this_projects_logical_ids_pair_the_same_way():
    names = Names("Resize")
    resources = {names.queue: "AWS::SQS::Queue", names.dead_letter_queue: "AWS::SQS::Queue",
                 names.log_group: "AWS::Logs::LogGroup", names.topic: "AWS::SNS::Topic"}
    assert systems_in_stack(None, summaries(resources)) == [
        System("Resize", f"physical-{names.queue}", f"physical-{names.dead_letter_queue}",
               f"physical-{names.log_group}", f"physical-{names.topic}")]


def test_queues_that_are_not_a_pair_and_deleted_resources_are_not_systems():
    resources = summaries({"UploadsQueue": "AWS::SQS::Queue", "OrphanDeadLetterQueue": "AWS::SQS::Queue",
                           "WatchbotQueue": "AWS::SQS::Queue", "WatchbotDeadLetterQueue": "AWS::SQS::Queue"})
    resources.append({"LogicalResourceId": "OldQueue", "ResourceType": "AWS::SQS::Queue",
                      "PhysicalResourceId": "x", "ResourceStatus": "DELETE_COMPLETE"})
    resources.append({"LogicalResourceId": "OldDeadLetterQueue", "ResourceType": "AWS::SQS::Queue",
                      "PhysicalResourceId": "y", "ResourceStatus": "DELETE_COMPLETE"})
    [system] = systems_in_stack(None, resources)
    assert (system.prefix, system.log_group) == ("Watchbot", None)


SYSTEMS = [System("Resize", "q1", "d1"), System("Thumbs", "q2.fifo", "d2.fifo")]


def test_the_prefix_picks_a_system():
    assert pick_system(SYSTEMS, "Thumbs", None).fifo is True


def test_an_unknown_prefix_names_the_ones_there_are():
    with pytest.raises(StackError, match=r"--prefix 'Thumb' names no Watchbot system .* holds: Resize, Thumbs"):
        pick_system(SYSTEMS, "Thumb", None)


def test_one_system_needs_no_prefix():
    assert pick_system(SYSTEMS[:1], None, None).prefix == "Resize"


def test_several_systems_are_asked_about_or_need_the_prefix():
    assert pick_system(SYSTEMS, None, lambda systems: systems[1]).prefix == "Thumbs"
    with pytest.raises(PrefixNeeded, match=r"holds 2 Watchbot systems \(Resize, Thumbs\): pass --prefix"):
        pick_system(SYSTEMS, None, None)


def _summaries_of(template: dict, stack: str = "my-stack") -> list[dict]:
    """What ListStackResources answers for a deployed template, with readable physical ids."""
    return [{"LogicalResourceId": key, "ResourceType": value["Type"], "PhysicalResourceId": f"{stack}:{key}",
             "ResourceStatus": "UPDATE_COMPLETE"} for key, value in template["Resources"].items()]


@pytest.mark.parametrize("variant", ["minimal", "reduce", "fifo"])
def test_watchbot_10_stacks_are_found_by_their_cdk_paths(variant):
    template = json.loads((V10 / f"{variant}.template.json").read_text())
    [system] = systems_in_stack(template, _summaries_of(template))
    ids = {value["Metadata"]["aws:cdk:path"]: key for key, value in template["Resources"].items()}
    assert system.prefix == "Watchbot"
    assert system.queue_url == f"my-stack:{ids['MyStack/Watchbot/Queue/Resource']}"
    assert system.dead_letter_url == f"my-stack:{ids['MyStack/Watchbot/DeadLetterQueue/Resource']}"
    assert system.log_group == "my-stack:WatchbotLogGroup"
    topic = ids.get("MyStack/Watchbot/Topic/Resource")
    assert (topic is None) == (variant == "fifo"), "v10 FIFO systems have no work topic"
    assert system.topic_arn == (topic and f"my-stack:{topic}")


def test_watchbot_10_ids_are_read_not_assumed():
    """Another construct id and place in the tree: the prefix and ids follow the template."""
    text = (V10 / "minimal.template.json").read_text()
    template = json.loads(text.replace("MyStack/Watchbot/", "Other/Nested/Jobs/").replace("WatchbotQueueC59E21BC",
                                                                                       "JobsQueue0000AAAA"))
    template["Resources"]["JobsLogGroup"] = template["Resources"].pop("WatchbotLogGroup")
    [system] = systems_in_stack(template, _summaries_of(template, "Capital-Stack"))
    assert (system.prefix, system.queue_url, system.log_group) == (
        "Jobs", "Capital-Stack:JobsQueue0000AAAA", "Capital-Stack:JobsLogGroup")


def test_this_projects_metadata_names_the_systems_even_beside_a_users_queue_pair():
    names = Names("Work")
    template = {"Metadata": {"WatchbotCfn": {"Work": {}}}, "Resources": {
        names.queue: {"Type": "AWS::SQS::Queue"}, names.dead_letter_queue: {"Type": "AWS::SQS::Queue"},
        "UploadsQueue": {"Type": "AWS::SQS::Queue"}, "UploadsDeadLetterQueue": {"Type": "AWS::SQS::Queue"}}}
    assert [system.prefix for system in systems_in_stack(template, _summaries_of(template))] == ["Work"]


def test_a_queue_without_its_dead_letter_queue_deployed_is_no_system():
    template = json.loads((V10 / "minimal.template.json").read_text())
    summaries = [s for s in _summaries_of(template) if not s["LogicalResourceId"].startswith("WatchbotDeadLetter")]
    assert systems_in_stack(template, summaries) == []
