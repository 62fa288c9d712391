"""`watchbot-cfn migrate` on Watchbot 10 templates (the fixtures and variants of them), then `diff` of the result.

Given an old template and the source of the system that takes it over, when migrate writes the adopted source,
then diff of OLD against it (pseudo parameters resolved) replaces or deletes no stateful resource, the render
lints clean, no physical name sits under two logical ids and the export is kept.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.migrate.variants import FIXTURES, other_flags, source, v10, variant
from watchbot_cfn.cli.main import main
from watchbot_cfn.lint import lint
from watchbot_cfn.migrate.checks import name_clashes, physical_names
from watchbot_cfn.migrate.loading import load_source, render_document
from watchbot_cfn.migrate.pseudo import StackPlace, resolved_template

#: (fixture, stack name, region, prefix, construct id, parent path in the app)
CASES = [
    ("minimal", "my-stack", "us-east-1", "Watchbot", "Watchbot", ""),
    ("reduce", "my-stack", "us-east-1", "Watchbot", "Watchbot", ""),
    ("fifo", "my-stack", "us-east-1", "Watchbot", "Watchbot", ""),
    ("minimal", "Media-Pipeline", "eu-west-1", "Thumbs", "Thumbnailer", ""),
    ("reduce", "MapReduceStack", "ap-southeast-2", "WordCount", "Counter", "Team/"),
    ("fifo", "Orders-PROD", "us-west-2", "Orders", "OrderWorker", "Nested/Deeper/"),
    ("reduce", "Flags-Stack", "eu-central-1", "Watchbot", "Worker", ""),  # other CDK feature flags too
]


def _old(case: tuple[str, ...]) -> dict[str, Any]:
    name, stack, region, prefix, construct, parent = case
    if stack == "Flags-Stack":
        return other_flags(variant(name, stack=stack, region=region, prefix=prefix, construct=construct,
                                   parent=parent))
    if (stack, prefix, construct) == ("my-stack", "Watchbot", "Watchbot"):
        return v10(name)
    return variant(name, stack=stack, region=region, prefix=prefix, construct=construct, parent=parent)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _stateful_losses(err: str) -> int:
    found = re.search(r"(\d+) stateful resource\(s\) replaced or deleted", err)
    assert found, err
    return int(found.group(1))


@pytest.fixture
def migrated(request: pytest.FixtureRequest, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    case = request.param
    name, stack, region, prefix = case[:4]
    old_path = tmp_path / "old.json"
    old_path.write_text(json.dumps(_old(case)))
    source_path = tmp_path / "stack.toml"
    source_path.write_text(source(name, prefix))
    adopted_path = tmp_path / "adopted.toml"
    code, out, err = _run(capsys, "migrate", str(source_path), "--template", str(old_path), "--stack-name", stack,
                          "--region", region, "-o", str(adopted_path))
    assert code == 0, err
    return {"case": case, "old": old_path, "source": source_path, "adopted": adopted_path, "err": err,
            "place": StackPlace(stack, region)}


@pytest.mark.parametrize("migrated", CASES, indirect=True, ids=["-".join(c[:2]) + c[3] for c in CASES])
def test_diff_of_the_old_template_and_the_adopted_source_loses_no_stateful_resource(migrated, capsys):
    stack, region = migrated["case"][1], migrated["case"][2]
    before = _run(capsys, "diff", str(migrated["old"]), str(migrated["source"]), "--stack-name", stack,
                  "--region", region)
    assert _stateful_losses(before[2]) > 0  # the plain render would lose some: the check can fail
    code, out, err = _run(capsys, "diff", str(migrated["old"]), str(migrated["adopted"]), "--fail-on-replace",
                          "--stack-name", stack, "--region", region)
    assert code == 0, out
    assert _stateful_losses(err) == 0
    assert "STATEFUL" not in out


@pytest.mark.parametrize("migrated", CASES[:3] + CASES[4:5], indirect=True,
                         ids=["-".join(c[:2]) + c[3] for c in CASES[:3] + CASES[4:5]])
def test_the_adopted_render_lints_clean_and_names_each_resource_once(migrated):
    data, _ = load_source(str(migrated["adopted"]))
    rendered = render_document(data, "adopted")
    findings = [str(f) for f in lint(rendered, regions=(migrated["place"].region,)) if f.level != "informational"]
    assert findings == []
    old = resolved_template(json.loads(migrated["old"].read_text()), migrated["place"])
    new = resolved_template(rendered, migrated["place"])
    assert name_clashes(old, new) == []
    names = [(kind, name) for kind, name, _ in physical_names(new)]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("migrated", CASES, indirect=True, ids=["-".join(c[:2]) + c[3] for c in CASES])
def test_the_topic_export_is_kept_under_its_name_and_output_id(migrated):
    name, stack = migrated["case"][:2]
    old = json.loads(migrated["old"].read_text())
    [(old_output, exported)] = [(key, item) for key, item in old["Outputs"].items() if "Export" in item]
    data, _ = load_source(str(migrated["adopted"]))
    outputs = render_document(data, "adopted")["Outputs"]
    assert outputs[old_output]["Export"] == {"Name": f"{stack}-topic"}
    if name == "fifo":
        assert outputs[old_output]["Value"] == ""
    else:
        assert outputs[old_output]["Value"] == exported["Value"]  # the same topic, by the same logical id


@pytest.mark.parametrize("migrated", [CASES[1], CASES[4]], indirect=True, ids=["reduce", "reduce-variant"])
def test_reduce_keeps_the_lowercased_table_name_and_its_capacity(migrated):
    stack, prefix = migrated["case"][1], migrated["case"][3]
    data, _ = load_source(str(migrated["adopted"]))
    assert data["resource_names"]["progress_table"] == f"{stack}-{prefix}-progress".lower()
    assert data["logical_ids"]["progress_table"] == "ProgressTable"
    assert (data["read_capacity_units"], data["write_capacity_units"]) == (30, 30)


@pytest.mark.parametrize("migrated", CASES[:1], indirect=True, ids=["minimal"])
def test_migrate_lists_what_it_drops(migrated):
    err = migrated["err"]
    old = v10("minimal")
    for key, item in old["Resources"].items():
        if item["Type"] in ("AWS::Lambda::Function", "AWS::Events::Rule", "AWS::CDK::Metadata",
                            "AWS::ECS::Service"):
            assert f"drops {key} ({item['Type']})" in err
    assert "drops BootstrapVersion (parameter)" in err
    assert "drops CheckBootstrapVersion (rule)" in err
    assert "stateful resources replaced or deleted: 4 before, 0 after adoption" in err


def test_without_o_migrate_prints_a_diff_of_the_source_and_leaves_it_alone(tmp_path, capsys):
    old = tmp_path / "old.json"
    old.write_text(json.dumps(v10("minimal")))
    src = tmp_path / "stack.toml"
    src.write_text(source("minimal"))
    code, out, _ = _run(capsys, "migrate", str(src), "--template", str(old), "--stack-name", "my-stack",
                        "--region", "us-east-1")
    assert code == 0
    assert src.read_text() == source("minimal")
    assert out.startswith(f"--- {src}\n+++ {src} (adopted)\n")
    assert '+topic_subscription = "resource"\n' in out


def test_running_migrate_again_on_the_adopted_source_has_nothing_more_to_adopt(tmp_path, capsys):
    old = tmp_path / "old.json"
    old.write_text(json.dumps(v10("reduce")))
    src = tmp_path / "stack.toml"
    src.write_text(source("reduce"))
    argv = ["--template", str(old), "--stack-name", "my-stack", "--region", "us-east-1"]
    assert _run(capsys, "migrate", str(src), *argv, "-o", str(src))[0] == 0
    adopted = src.read_text()
    code, out, err = _run(capsys, "migrate", str(src), *argv)
    assert code == 0
    assert out == ""  # no change to the source
    assert src.read_text() == adopted


def test_a_watchbot_9_template_has_nothing_to_adopt(tmp_path, capsys):
    src = tmp_path / "stack.toml"
    src.write_text((Path(__file__).resolve().parents[2] / "examples" / "minimal.toml").read_text())
    code, out, err = _run(capsys, "migrate", str(src), "--template",
                          str(FIXTURES / "watchbot-v9" / "minimal.template.json"), "--stack-name", "my-stack",
                          "--region", "us-east-1")
    assert code == 0
    assert "nothing to adopt" in err
    assert out == ""


def test_a_generated_name_stack_keeps_its_generated_names_and_the_user_resources(tmp_path, capsys):
    src = tmp_path / "stack.toml"
    src.write_text('cluster = { Ref = "ClusterEB0386A7" }\nservice = "worker"\nservice_version = "1"\n'
                   'command = "echo hi"\ncapacity = "FARGATE"\nnotification_email = "ops@example.com"\n'
                   'fargate_subnets = [{ Ref = "VpcPrivateSubnet1Subnet536B997A" }, '
                   '{ Ref = "VpcPrivateSubnet2Subnet3788AAA1" }]\n')
    old = FIXTURES / "cdk-queue-processing" / "stack.template.json"
    adopted = tmp_path / "adopted.toml"
    argv = ["--stack-name", "QueueStack", "--region", "us-east-1"]
    code, _, err = _run(capsys, "migrate", str(src), "--template", str(old), *argv, "-o", str(adopted))
    assert code == 0, err
    data, _ = load_source(str(adopted))
    assert sorted(data["generated_names"]) == ["dead_letter_queue", "log_group", "queue"]
    assert data["logical_ids"]["queue"] == "WorkerEcsProcessingQueue96AA4E1D"
    assert "ClusterEB0386A7" in data["Resources"] and "Vpc8378EB38" in data["Resources"]
    assert "WorkerQueueProcessingFargateServiceC55E51B1" not in data["Resources"]
    code, out, err = _run(capsys, "diff", str(old), str(adopted), "--fail-on-replace", *argv)
    assert code == 0, out
    assert _stateful_losses(err) == 0
    rendered = render_document(data, "adopted")
    # the user's VPC hard-codes the zones CDK synthesised (W3010), as it did before: the rest is clean
    findings = [str(f) for f in lint(rendered) if f.level != "informational"]
    assert [f for f in findings if "W3010 at Resources/Vpc" not in f] == []


@pytest.mark.parametrize("custom", ["team-worker-logs", "my-stack-us-east-1-custom"])
def test_a_custom_log_group_name_and_retention_are_kept(tmp_path, capsys, custom):
    old = v10("minimal")
    group = old["Resources"]["WatchbotLogGroup"]["Properties"]
    group["LogGroupName"], group["RetentionInDays"] = custom, 365  # v10's logGroupName, logGroupRetentionDays
    old_path = tmp_path / "old.json"
    old_path.write_text(json.dumps(old))
    src = tmp_path / "stack.toml"
    src.write_text(source("minimal"))
    argv = ["--stack-name", "my-stack", "--region", "us-east-1"]
    code, _, err = _run(capsys, "migrate", str(src), "--template", str(old_path), *argv, "-o", str(src))
    assert code == 0, err
    data, _ = load_source(str(src))
    assert data["resource_names"]["log_group"] == custom
    assert data["log_retention_days"] == 365  # 14 would delete the older logs
    code, out, err = _run(capsys, "diff", str(old_path), str(src), "--fail-on-replace", *argv)
    assert code == 0 and _stateful_losses(err) == 0, out


def test_a_retention_the_source_sets_is_not_overridden(tmp_path, capsys):
    old = v10("minimal")
    old["Resources"]["WatchbotLogGroup"]["Properties"]["RetentionInDays"] = 365
    old_path = tmp_path / "old.json"
    old_path.write_text(json.dumps(old))
    src = tmp_path / "stack.toml"
    src.write_text(source("minimal") + "log_retention_days = 30\n")
    code, _, err = _run(capsys, "migrate", str(src), "--template", str(old_path), "--stack-name", "my-stack",
                        "--region", "us-east-1", "-o", str(src))
    assert code == 0, err
    assert load_source(str(src))[0]["log_retention_days"] == 30


@pytest.mark.parametrize("name", ["minimal", "reduce", "fifo"])
def test_every_single_system_watchbot_9_template_has_nothing_to_adopt(tmp_path, capsys, name):
    from watchbot_cfn.options import option_specs

    snake = {spec.legacy: spec.name for spec in option_specs() if spec.legacy}
    given = json.loads((FIXTURES / "watchbot-v9" / f"{name}.options.json").read_text())
    document = {snake[key]: value for key, value in given["options"].items()}
    document.update(given["extra"] or {})
    src = tmp_path / "stack.json"
    src.write_text(json.dumps(document))
    code, out, err = _run(capsys, "migrate", str(src), "--template",
                          str(FIXTURES / "watchbot-v9" / f"{name}.template.json"), "--stack-name", "my-stack",
                          "--region", "us-east-1")
    assert code == 0, err
    assert "nothing to adopt" in err
    assert out == ""
    assert "stateful resources replaced or deleted: 0 before, 0 after adoption" in err
