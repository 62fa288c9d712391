"""The pieces of ``local`` and ``send`` that need no process: the watcher's environment, volumes, counting, input."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from watchbot_cfn import contract
from watchbot_cfn.analysis.resolve import StackResolver, Unresolvable
from watchbot_cfn.cli.send import SendError, read_messages
from watchbot_cfn.local.deploy import placeholder_parameters
from watchbot_cfn.local.endpoint import LocalError
from watchbot_cfn.local.watcher import JobCounts, map_volumes, outcome_of, watcher_spec
from watchbot_cfn.sources.templatefile import load_template

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"


def resolver_for(example: str, **parameters: str) -> StackResolver:
    template = load_template(str(REPO / "examples" / example))
    physical = {key: f"phys-{key}" for key in template["Resources"]}
    physical.update({key: f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/st-{key}"
                     for key, body in template["Resources"].items() if body["Type"] == "AWS::SQS::Queue"})
    values, _ = placeholder_parameters(template, parameters)
    return StackResolver(template=template, stack_name="st", region="us-east-1", account=ACCOUNT,
                         parameters=values, physical=physical)


def test_watcher_gets_the_task_definitions_command_and_settings():
    spec = watcher_spec(resolver_for("fifo.toml"), "Watchbot")
    assert spec.command == "python -m ledger.apply"
    environment = spec.environment
    assert environment[contract.ENV_QUEUE_URL] == f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/st-WatchbotQueue"
    assert environment[contract.ENV_FIFO] == "true"
    assert environment[contract.ENV_VISIBILITY_TIMEOUT] == str(contract.DEFAULT_VISIBILITY_TIMEOUT)
    assert spec.volumes == ["/tmp"]
    assert spec.secrets == ("DATABASE_URL",)
    assert spec.dead_letter_queue_url.endswith("st-WatchbotDeadLetterQueue")


def test_each_system_of_a_stack_gets_its_own_watcher_settings():
    resolver = resolver_for("two-systems.toml")
    resize, transcode = (watcher_spec(resolver, prefix) for prefix in ("Resize", "Transcode"))
    assert resize.environment[contract.ENV_QUEUE_URL].endswith("st-ResizeQueue")
    assert transcode.volumes == ["/tmp", "/scratch"]
    assert resize.environment[contract.ENV_WORK_TOPIC] == "phys-ResizeTopic"


def test_a_system_without_a_task_definition_is_a_clear_error():
    with pytest.raises(LocalError, match="no task definition NopeTaskDefinition"):
        watcher_spec(resolver_for("minimal.toml"), "Nope")


def test_volumes_map_into_the_run_directory_never_onto_the_machine(tmp_path):
    mapped, tmpdir = map_volumes(["/tmp", "/scratch/cache"], tmp_path)
    assert mapped == [("/tmp", tmp_path / "tmp"), ("/scratch/cache", tmp_path / "scratch_cache")]
    assert tmpdir == tmp_path / "tmp"
    assert all(path.is_dir() and tmp_path in path.parents for _, path in mapped)
    _, fallback = map_volumes([], tmp_path / "none")
    assert fallback.is_dir() and (tmp_path / "none") in fallback.parents


def test_outcomes_are_read_from_the_watchers_own_summary_lines():
    for outcome in ("success", "rejected", "failure", "noop"):
        summary = contract.JobSummary(outcome=outcome, exit_code=0, duration=12, receives=2, response_duration=40)
        plain = contract.plain_line(contract.SOURCE_WATCHER, "m-1", contract.plain_summary_text(summary))
        structured = contract.structured_result_line("m-1", summary)
        assert outcome_of(plain) == outcome
        assert outcome_of(structured) == outcome
    # a worker printing look-alike text is not counted
    fake = contract.plain_line(contract.SOURCE_WORKER, "m-1", "completed in 1 ms after 1 receives, outcome success")
    assert outcome_of(fake) is None
    assert outcome_of(json.dumps({"event": "log", "outcome": "success"})) is None
    forged = contract.structured_worker_line("m-1", '{"name": "watcher", "worker_event": "success", "outcome": "x"}')
    assert outcome_of(forged) is None


def test_rejections_count_as_failed_jobs():
    counts = JobCounts()
    for outcome in ("success", "failure", "rejected", "noop", "failure"):
        counts.add(outcome)
    assert (counts.succeeded, counts.failed, counts.rejected) == (1, 3, 1)


def test_resolver_evaluates_the_intrinsics_templates_use():
    template = {"Parameters": {"Env": {"Type": "String", "Default": "dev"},
                               "Nets": {"Type": "CommaDelimitedList"}},
                "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
                "Mappings": {"Sizes": {"dev": {"Memory": 256}}},
                "Resources": {"Q": {"Type": "AWS::SQS::Queue"}, "T": {"Type": "AWS::DynamoDB::Table"}}}
    resolver = StackResolver(template=template, stack_name="st", region="eu-west-1", account=ACCOUNT,
                             parameters={"Nets": "a, b"},
                             physical={"Q": "https://sqs.eu-west-1.amazonaws.com/1/st-Q", "T": "st-T"})
    value = {"A": {"Fn::Sub": "${AWS::StackName}-${Q.QueueName}-${!Keep}"},
             "B": {"Fn::If": ["IsProd", "big", {"Ref": "AWS::NoValue"}]},
             "C": {"Fn::Join": ["/", [{"Fn::Select": [1, {"Ref": "Nets"}]}, {"Fn::GetAtt": ["T", "Arn"]}]]},
             "D": {"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Memory"]}}
    assert resolver.resolve(value) == {"A": "st-st-Q-${Keep}",
                                       "C": f"b/arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/st-T", "D": 256}
    with pytest.raises(Unresolvable, match="Fn::ImportValue"):
        resolver.resolve({"Fn::ImportValue": "x"})
    with pytest.raises(Unresolvable, match="Ref Missing"):
        resolver.resolve({"Ref": "Missing"})


def test_placeholders_only_for_parameters_without_a_value():
    template = {"Parameters": {"GitSha": {"Type": "String"}, "Max": {"Type": "Number"},
                               "Given": {"Type": "String"}, "Defaulted": {"Type": "String", "Default": "x"}}}
    values, filled = placeholder_parameters(template, {"Given": "mine"})
    assert values == {"Given": "mine", "GitSha": "local", "Max": "1"}
    assert filled == ["GitSha", "Max"]


def test_send_reads_arguments_files_and_standard_input(tmp_path):
    assert [m.body for m in read_messages(["a", " ", "b"], None, io.StringIO())] == ["a", "b"]
    listing = tmp_path / "jobs.txt"
    listing.write_text("one\r\n\ntwo\n")
    assert [(m.origin, m.body) for m in read_messages([], str(listing), io.StringIO())] == [
        (f"line 1 of {listing}", "one"), (f"line 3 of {listing}", "two")]
    assert [m.body for m in read_messages(["-"], None, io.StringIO("x\ny\n"))] == ["x", "y"]
    with pytest.raises(SendError, match="one of them"):
        read_messages(["a"], str(listing), io.StringIO())
    with pytest.raises(SendError, match="no messages"):
        read_messages([], None, io.StringIO())
    with pytest.raises(SendError, match="--file: .*absent"):
        read_messages([], str(tmp_path / "absent"), io.StringIO())


def test_readme_try_it_locally_uses_the_defaults_and_the_demo_example():
    from watchbot_cfn.cli.local import DEFAULT_PORT, DEFAULT_STACK

    readme = (REPO / "README.md").read_text()
    section = readme.split("## Try it locally", 1)[1].split("\n## ", 1)[0]
    blocks = [block.strip() for block in re.findall(r"^```sh\n(.*?)^```", section, re.M | re.S)]
    assert blocks[0] == "pip install '.[local]' && watchbot-cfn local examples/local-demo.toml"
    assert blocks[1].startswith(f"watchbot-cfn send --stack-name {DEFAULT_STACK} "
                                f"--endpoint-url http://127.0.0.1:{DEFAULT_PORT} ")
    assert (REPO / "examples" / "local-demo.toml").is_file()
    assert "local = [\"moto[server]" in (REPO / "pyproject.toml").read_text()


@pytest.mark.parametrize("command,text", [
    ("deploy", "change set"), ("local", "TMPDIR"), ("send", "--group-id"), ("graph", "Mermaid")])
def test_every_new_command_has_help(command, text):
    result = subprocess.run([sys.executable, "-m", "watchbot_cfn.cli.main", command, "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and text in result.stdout


def test_status_line_redraws_on_a_terminal_and_stays_quiet_in_a_log():
    from watchbot_cfn.statusline import StatusLine

    terminal, log = io.StringIO(), io.StringIO()
    for stream, live in ((terminal, True), (log, False)):
        view = StatusLine(stream, live=live)
        view.update("[1/3] 0:01")
        view.print("event one")
        view.update("[2/3] 0:02")
        view.clear()
    assert log.getvalue() == "event one\n"
    assert terminal.getvalue() == ("\r\x1b[2K[1/3] 0:01" "\r\x1b[2Kevent one\n[1/3] 0:01" "\r\x1b[2K[2/3] 0:02"
                                   "\r\x1b[2K")


def test_local_refuses_a_port_in_use_and_says_how_to_get_moto(tmp_path, monkeypatch):
    import importlib.util
    import socket

    from watchbot_cfn.local import endpoint as motoprocess

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(LocalError, match=f"--port: {port} is in use"):
            motoprocess.LocalEndpoint(port, tmp_path / "log").start()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "moto" else real(name))
    with pytest.raises(LocalError, match=re.escape("pip install 'watchbot-cfn[local]'")):
        motoprocess.require_moto()


@pytest.mark.parametrize("structured", [False, True])
@pytest.mark.parametrize(("outcome", "receives", "threshold", "expected"), [
    ("success", 1, 3, None),
    ("rejected", 1, 3, None),
    ("failure", 1, 3, "message m-1: failure on receive 1 of 3: returned, visible again in about 2 s"),
    ("noop", 2, 3, "message m-1: noop on receive 2 of 3: returned, visible again in about 4 s"),
    ("failure", 3, 3, "message m-1: failure on receive 3 of 3: SQS moves it to the dead-letter queue when it is "
                      "due back (in about 8 s)"),
    ("failure", 20, None, "message m-1: failure on receive 20: returned, visible again in about 43,200 s"),
])
def test_local_says_what_happens_next_to_a_message_the_job_did_not_settle(structured, outcome, receives, threshold,
                                                                         expected):
    from watchbot_cfn.local.watcher import result_note, result_of

    summary = contract.JobSummary(outcome=outcome, exit_code=1, duration=5, receives=receives, response_duration=9)
    lines = ([contract.structured_result_line("m-1", summary)] if structured
             else contract.plain_result_lines("m-1", summary))
    [result] = [found for found in map(result_of, lines) if found]
    assert (result.message_id, result.outcome, result.receives) == ("m-1", outcome, receives)
    assert result_note(result, threshold) == expected


def test_lines_that_are_not_a_summary_have_no_result():
    from watchbot_cfn.local.watcher import result_of

    assert result_of("[2024-01-01T00:00:00.000Z] [worker] [m-1] completed in 5 ms after 1 receives, outcome x") is None
    assert result_of('{"name": "worker", "outcome": "failure", "receives": 1}') is None
    assert result_of("not json {") is None
