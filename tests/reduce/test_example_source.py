"""examples/map-reduce/wordcount.toml: the system the word-count worker needs, and nothing broken."""

from __future__ import annotations

import json
from pathlib import Path

from watchbot_cfn.sources.load import load_source

SOURCE = Path(__file__).resolve().parents[2] / "examples" / "map-reduce" / "wordcount.toml"


def test_the_example_system_gives_the_worker_its_table_topic_and_bucket():
    template = json.loads(load_source(str(SOURCE)).to_json())
    resources = template["Resources"]
    [container] = resources["WatchbotTaskDefinition"]["Properties"]["ContainerDefinitions"]
    environment = {item["Name"]: item["Value"] for item in container["Environment"]}
    assert {"ProgressTable", "WorkTopic", "RESULTS_BUCKET"} <= set(environment)
    assert resources["WatchbotProgressTable"]["Type"] == "AWS::DynamoDB::Table"
    assert environment["RESULTS_BUCKET"] == {"Ref": "Results"}
    assert container["Command"][-1].endswith("python wordcount.py")
