"""``watchbot-progress``: the original's commands, output and exit codes."""

from __future__ import annotations

import json

import pytest

from watchbot_cfn.runtime.progresscli import main


@pytest.fixture
def table(monkeypatch, arn):
    monkeypatch.setenv("ProgressTable", arn)
    return arn


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_a_job_from_set_total_to_done(capsys, table):
    assert run(capsys, "set-total", "job-1", "--total", "3") == (0, "", "")
    assert run(capsys, "complete-part", "job-1", "--part", "1") == (0, "false\n", "")
    assert run(capsys, "complete-part", "job-1", "-p", "1") == (0, "false\n", "")
    assert run(capsys, "complete-part", "job-1", "-p", "3") == (0, "false\n", "")
    code, out, _ = run(capsys, "status", "job-1", "--part", "2")
    assert code == 0 and json.loads(out) == {"progress": 0.66, "partComplete": False}
    assert run(capsys, "complete-part", "job-1", "-p", "2") == (0, "true\n", "")
    assert run(capsys, "complete-part", "job-1", "-p", "2") == (0, "false\n", "")
    assert run(capsys, "reduce-sent", "job-1") == (0, "", "")
    code, out, _ = run(capsys, "status", "job-1")
    assert json.loads(out) == {"progress": 1, "reduceSent": True}


def test_metadata_and_failure_show_in_status(capsys, table):
    run(capsys, "set-total", "job-2", "-t", "2")
    assert run(capsys, "set-metadata", "job-2", "--metadata", '{"name": "tiles", "zoom": 12}')[0] == 0
    assert run(capsys, "fail-job", "job-2", "--reason", "source missing")[0] == 0
    _, out, _ = run(capsys, "status", "job-2")
    assert json.loads(out) == {"progress": 0, "failed": "source missing", "metadata": {"name": "tiles", "zoom": 12}}


def test_the_token_lets_a_retry_learn_done_again(capsys, table):
    run(capsys, "set-total", "job-3", "-t", "1")
    assert run(capsys, "complete-part", "job-3", "-p", "1", "--token", "m-1")[1] == "true\n"
    assert run(capsys, "complete-part", "job-3", "-p", "1", "--token", "m-1")[1] == "true\n"
    assert run(capsys, "complete-part", "job-3", "-p", "1")[1] == "false\n"


def test_the_table_can_be_given_by_name(capsys, dynamodb, table_name, monkeypatch):
    monkeypatch.delenv("ProgressTable", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert run(capsys, "--table", table_name, "set-total", "job-4", "-t", "2") == (0, "", "")
    assert json.loads(run(capsys, "--table", table_name, "status", "job-4")[1]) == {"progress": 0}


def test_a_refused_command_is_one_line_and_exit_1(capsys, table):
    code, out, err = run(capsys, "complete-part", "never-started", "-p", "1")
    assert (code, out) == (1, "")
    assert err == ("watchbot-progress: job 'never-started' has no total: run set-total before completing "
                   "parts\n")


def test_no_table_is_exit_1_naming_the_variable(capsys, monkeypatch, dynamodb):
    monkeypatch.delenv("ProgressTable", raising=False)
    code, _, err = run(capsys, "status", "job")
    assert code == 1
    assert "set ProgressTable to the table's ARN" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(("argv", "complaint"), [
    (["set-total", "job"], "the following arguments are required: --total/-t"),
    (["set-total", "job", "--total", "0"], "argument --total/-t: must be a whole number, 1 or more, got '0'"),
    (["complete-part", "job", "--part", "two"], "argument --part/-p: must be a whole number, 1 or more"),
    (["set-metadata", "job", "--metadata", "{nope"], "argument --metadata/-m: must be JSON"),
    (["fail-job", "job"], "the following arguments are required: --reason/-r"),
    (["status"], "the following arguments are required: JOB_ID"),
    (["explode", "job"], "invalid choice: 'explode'"),
])
def test_usage_errors_exit_2_naming_the_argument(capsys, table, argv, complaint):
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert complaint in err
