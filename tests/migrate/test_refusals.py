"""Pairing failures: one line each, exit 1, naming the option that would fix it; nothing written."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.migrate.variants import FIXTURES, source, v10, variant
from watchbot_cfn.cli.main import main

CDK = FIXTURES / "cdk-queue-processing" / "stack.template.json"
CDK_SOURCE = ('cluster = { Ref = "ClusterEB0386A7" }\nservice = "worker"\nservice_version = "1"\ncommand = "echo hi"\n'
              'capacity = "FARGATE"\nnotification_email = "ops@example.com"\n'
              'fargate_subnets = ["subnet-0123456789abcdef0"]\n')


def _migrate(tmp_path: Path, capsys: pytest.CaptureFixture[str], old: dict[str, Any], text: str,
             stack: str = "my-stack", region: str = "us-east-1") -> tuple[int, list[str], Path]:
    (tmp_path / "old.json").write_text(json.dumps(old))
    src = tmp_path / "stack.toml"
    src.write_text(text)
    out = tmp_path / "adopted.toml"
    code = main(["migrate", str(src), "--template", str(tmp_path / "old.json"), "--stack-name", stack,
                 "--region", region, "-o", str(out)])
    refusals = [line for line in capsys.readouterr().err.splitlines() if "refused" in line]
    return code, refusals, out


def test_a_renamed_prefix_is_refused_naming_prefix_and_the_old_one(tmp_path, capsys):
    code, refusals, out = _migrate(tmp_path, capsys, v10("minimal"), source("minimal", prefix="Worker"))
    assert code == 1
    assert len(refusals) == 1
    assert refusals[0].startswith("migrate: refused (prefix): ")
    assert 'set prefix = "Watchbot"' in refusals[0]
    assert "my-stack-WatchbotQueue" in refusals[0]
    assert not out.exists()


def test_a_renamed_prefix_in_a_variant_names_that_variants_prefix(tmp_path, capsys):
    old = variant("minimal", stack="Media-Pipeline", region="eu-west-1", prefix="Thumbs", construct="Thumbnailer")
    code, refusals, _ = _migrate(tmp_path, capsys, old, source("minimal"), stack="Media-Pipeline",
                                 region="eu-west-1")
    assert code == 1
    assert len(refusals) == 1 and 'set prefix = "Thumbs"' in refusals[0]


def test_a_table_the_source_would_not_have_is_refused_naming_reduce(tmp_path, capsys):
    code, refusals, out = _migrate(tmp_path, capsys, v10("reduce"), source("minimal"))
    assert code == 1
    assert len(refusals) == 1
    assert refusals[0].startswith("migrate: refused (reduce): ")
    assert "my-stack-watchbot-progress" in refusals[0] and "set reduce = true" in refusals[0]
    assert not out.exists()


def test_fifo_queues_for_a_standard_source_are_refused_naming_fifo(tmp_path, capsys):
    code, refusals, _ = _migrate(tmp_path, capsys, v10("fifo"), source("minimal"))
    assert code == 1
    assert len(refusals) == 1 and refusals[0].startswith("migrate: refused (fifo): ")


def test_two_candidate_work_queues_are_refused_naming_logical_ids(tmp_path, capsys):
    old = json.loads(CDK.read_text())
    resources = old["Resources"]
    resources["WorkerSecondQueueA1B2C3D4"] = copy.deepcopy(resources["WorkerEcsProcessingQueue96AA4E1D"])
    code, refusals, out = _migrate(tmp_path, capsys, old, CDK_SOURCE, stack="QueueStack")
    assert code == 1
    assert len(refusals) == 1
    assert refusals[0].startswith("migrate: refused (logical_ids.queue): 2 candidates for the work queue")
    assert "WorkerEcsProcessingQueue96AA4E1D" in refusals[0] and "WorkerSecondQueueA1B2C3D4" in refusals[0]
    assert not out.exists()


def test_naming_one_of_two_candidates_in_logical_ids_pairs_it(tmp_path, capsys):
    old = json.loads(CDK.read_text())
    resources = old["Resources"]
    second = copy.deepcopy(resources["WorkerEcsProcessingQueue96AA4E1D"])
    second["Metadata"] = {"note": "another team's queue"}
    resources["OtherTeamQueueA1B2C3D4"] = second
    text = CDK_SOURCE + 'logical_ids = { queue = "WorkerEcsProcessingQueue96AA4E1D" }\n'
    code, refusals, out = _migrate(tmp_path, capsys, old, text, stack="QueueStack")
    assert (code, refusals) == (0, [])
    assert 'logical_ids = { queue = "WorkerEcsProcessingQueue96AA4E1D"' in out.read_text()
