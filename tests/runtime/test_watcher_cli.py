"""`watchbot listen`: bad configuration exits 2 with one line."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from watchbot_cfn.runtime.cli import build_parser


def watchbot() -> list[str]:
    script = pathlib.Path(sys.executable).parent / "watchbot"
    if script.exists():
        return [str(script)]
    found = shutil.which("watchbot")
    return [found] if found else [sys.executable, "-m", "watchbot_cfn.runtime.cli"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"QueueUrl", "maxJobDuration", "concurrency"}}
    env.update(extra)
    return env


@pytest.mark.parametrize("extra, words", [
    ({}, "QueueUrl is not set"),
    ({"QueueUrl": "https://sqs.us-east-1.amazonaws.com/1/q", "maxJobDuration": "soon"},
     "maxJobDuration must be a number"),
    ({"QueueUrl": "https://sqs.us-east-1.amazonaws.com/1/q", "concurrency": "many"},
     "concurrency must be a whole number"),
])
def test_bad_configuration_exits_2_with_one_line(extra, words):
    result = subprocess.run(watchbot() + ["listen", "echo", "hi"], env=clean_env(**extra),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and words in result.stderr


def test_no_command_is_a_configuration_error():
    result = subprocess.run(watchbot() + ["listen"], env=clean_env(QueueUrl="https://sqs.us-east-1.amazonaws.com/1/q"),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "no command" in result.stderr


def test_words_after_listen_are_joined_like_the_original():
    args = build_parser().parse_args(["listen", "node", "worker.js", "--flag"])
    assert " ".join(args.command) == "node worker.js --flag"
