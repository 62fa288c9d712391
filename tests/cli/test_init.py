"""``watchbot-cfn init``: what it writes renders, lints clean and follows the worker contract; nothing is
overwritten or half-written."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from watchbot_cfn.cli.main import main
from watchbot_cfn.lint import lint
from watchbot_cfn.sources.load import load_source

CHOICES = [([], "worker.sh"), (["--fifo"], "worker.sh"), (["--language", "python"], "worker.py"),
           (["--reduce"], "worker.py"), (["--fifo", "--reduce"], "worker.py"),
           (["--fifo", "--language", "python"], "worker.py")]


def init(directory: Path, *flags: str) -> int:
    return main(["init", str(directory), *flags])


@pytest.mark.parametrize(("flags", "worker"), CHOICES, ids=lambda value: " ".join(value) if isinstance(value, list)
                         else value)
def test_what_init_writes_renders_and_lints_clean(tmp_path, capsys, flags, worker):
    directory = tmp_path / "Image Resizer"
    assert init(directory, *flags) == 0
    assert sorted(path.name for path in directory.iterdir()) == sorted(["watchbot.toml", worker, "Dockerfile"])
    body = json.loads(load_source(str(directory / "watchbot.toml")).to_json())
    findings = [str(finding) for finding in lint(body) if finding.level != "informational"]
    assert findings == []
    resources = body["Resources"]
    [service] = [value for value in resources.values() if value["Type"] == "AWS::ECS::Service"]
    assert "image-resizer" in json.dumps(body["Resources"]["WatchbotTaskDefinition"])
    queue = resources["WatchbotQueue"]["Properties"]
    assert queue.get("FifoQueue", False) is ("--fifo" in flags)
    assert ("WatchbotProgressTable" in resources) is ("--reduce" in flags)
    dockerfile = (directory / "Dockerfile").read_text()
    assert f"COPY {worker} ./" in dockerfile and "WORKDIR /app" in dockerfile
    out = capsys.readouterr().out
    assert "watchbot-cfn local watchbot.toml" in out and "watchbot-cfn deploy watchbot.toml" in out
    assert ("--group-id" in out) is ("--fifo" in flags)


def run_worker(directory: Path, worker: str, body: str, tmp_path: Path) -> subprocess.CompletedProcess:
    message_file = tmp_path / "message"
    message_file.write_text(body)
    command = ["./worker.sh"] if worker == "worker.sh" else [sys.executable, "worker.py"]
    env = {**os.environ, "MessageFile": str(message_file), "Message": body, "TMPDIR": str(tmp_path),
           "ApproximateReceiveCount": "1"}
    return subprocess.run(command, cwd=directory, env=env, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("language", ["sh", "python"])
def test_the_worker_follows_the_exit_code_contract(tmp_path, language):
    directory = tmp_path / "job"
    assert init(directory, "--language", language) == 0
    worker = "worker.sh" if language == "sh" else "worker.py"
    if language == "sh":
        assert (directory / worker).stat().st_mode & stat.S_IXUSR
    outcomes = {body: run_worker(directory, worker, body, tmp_path).returncode
                for body in ("hello", "reject this", "later please", "fail this")}
    assert outcomes["hello"] == 0 and outcomes["reject this"] == 3 and outcomes["later please"] == 4
    assert outcomes["fail this"] not in (0, 3, 4)
    assert "processed: hello" in run_worker(directory, worker, "hello", tmp_path).stdout


def test_existing_files_are_kept_and_nothing_is_written(tmp_path, capsys):
    directory = tmp_path / "mine"
    directory.mkdir()
    (directory / "Dockerfile").write_text("FROM scratch\n")
    assert init(directory) == 1
    assert "Dockerfile already there; nothing written (--force overwrites)" in capsys.readouterr().err
    assert sorted(path.name for path in directory.iterdir()) == ["Dockerfile"]
    assert (directory / "Dockerfile").read_text() == "FROM scratch\n"
    assert init(directory, "--force") == 0
    assert "watchbot listen" in (directory / "Dockerfile").read_text()


def test_a_reduce_worker_in_sh_is_refused_naming_the_option(tmp_path, capsys):
    assert init(tmp_path / "x", "--reduce", "--language", "sh") == 1
    assert "--language: got 'sh'; --reduce writes a Python worker" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_a_name_ecs_refuses_is_refused_before_anything_is_written(tmp_path, capsys):
    assert init(tmp_path / "x", "--name", "Not A Name") == 1
    err = capsys.readouterr().err
    assert "--name" in err and "'Not A Name'" in err and "ECR repository name" in err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(("directory", "name"), [("Image Resizer", "image-resizer"), ("__", "my-worker"),
                                                  ("tiles.v2", "tiles.v2")])
def test_the_service_name_comes_from_the_directory(tmp_path, directory, name):
    assert init(tmp_path / directory) == 0
    assert f'service = "{name}"' in (tmp_path / directory / "watchbot.toml").read_text()
