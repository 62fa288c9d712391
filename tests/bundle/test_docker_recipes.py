"""The Dockerfile recipes in examples/docker/, checked without a Docker engine.

What can be checked here: every file a recipe copies exists in the build
context (the repository root), stages are named before ``COPY --from`` uses
them, the ``watchbot-cfn build-watcher`` and pip lines ask for what this
repository provides, the worker image runs ``watchbot listen``, and
docs/runtime.md shows each recipe as it is. The builder steps themselves (the
build, the runtime wheel) are run by the tests of the executable and of the
runtime-only package.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from watchbot_cfn.cli.main import build_parser

REPO = Path(__file__).resolve().parents[2]
RECIPES = sorted((REPO / "examples" / "docker").glob("*.Dockerfile"))


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def stages(path: Path) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions(path):
        if keyword == "FROM":
            result.append([])
        result[-1].append((keyword, rest))
    return result


def test_there_is_a_recipe_for_each_way_in():
    assert {path.name for path in RECIPES} == {"python.Dockerfile", "any-image.Dockerfile", "alpine.Dockerfile"}


@pytest.mark.parametrize("path", RECIPES, ids=lambda path: path.name)
def test_every_copied_file_is_in_the_build_context_and_every_stage_is_named_first(path):
    named: set[str] = set()
    for stage in stages(path):
        for keyword, rest in stage:
            if keyword == "FROM":
                words = rest.split()
                if len(words) == 3 and words[1].upper() == "AS":
                    named.add(words[2])
            elif keyword == "COPY":
                words = shlex.split(rest)
                source = [word for word in words if word.startswith("--from=")]
                if source:
                    assert source[0].split("=", 1)[1] in named
                else:
                    for name in words[:-1]:
                        assert (REPO / name).exists(), f"{path.name} copies {name}, which is not in the repository"
    assert len(stages(path)) >= 2, "a builder stage and the worker image"


@pytest.mark.parametrize("path", RECIPES, ids=lambda path: path.name)
def test_the_worker_image_runs_the_watcher(path):
    last = stages(path)[-1]
    (command,) = [json.loads(rest) for keyword, rest in last if keyword == "CMD"]
    assert Path(command[0]).name == "watchbot" and command[1] == "listen" and len(command) == 3
    assert not [rest for keyword, rest in last if keyword == "RUN" and "pip" in rest], "no pip in the worker image"


@pytest.mark.parametrize("path", RECIPES, ids=lambda path: path.name)
def test_build_and_install_lines_ask_for_what_the_repository_provides(path):
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    parser = build_parser()
    runs = " && ".join(rest for keyword, rest in instructions(path) if keyword == "RUN")
    for step in runs.split("&&"):
        words = shlex.split(step)
        if words[:1] == ["watchbot-cfn"]:
            arguments = parser.parse_args(words[1:])  # exits (fails the test) on an unknown flag
            assert arguments.command == "build-watcher"
            assert arguments.static == (path.name == "alpine.Dockerfile")
        for word in words:
            extra = re.fullmatch(r"/src\[(\w+)\]", word)
            if extra:
                assert extra.group(1) in extras
        if "wheel" in words:
            assert words[-1] == "/src/runtime-package"


def test_the_docs_show_each_recipe_as_it_is():
    runtime_doc = (REPO / "docs" / "runtime.md").read_text()
    blocks = re.findall(r"^```dockerfile\n(.*?)^```", runtime_doc, re.M | re.S)
    for path in RECIPES:
        assert path.read_text() in blocks, f"docs/runtime.md does not show {path.name} as it is"
