"""Hostile sources: files built to exhaust a renderer's time, memory or stack.

Each case writes its file(s) into a directory and returns the SOURCE argument
for ``watchbot-cfn render``, with fragments the one-line error must contain.
The tests run them as real processes under a memory limit and a timeout;
``benchmarks/hostile.py`` prints how long each takes and how much memory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEEP", "HOSTILE", "OPTIONS_JSON", "OPTIONS_TOML", "OPTIONS_YAML", "SYSTEM", "Hostile", "laughs"]

#: Nesting far beyond any bound: what overflowed Python's stack before.
DEEP = 100_000

#: One valid system, for cases that hide something next to it (so only the hostile part can fail).
SYSTEM = {"cluster": "processing", "service": "worker", "service_version": "abc123",
          "command": "python -m worker", "notification_email": "ops@example.com"}
OPTIONS_JSON = json.dumps(SYSTEM)[1:-1]
OPTIONS_TOML = "".join(f'{key} = "{value}"\n' for key, value in SYSTEM.items())
OPTIONS_YAML = """\
cluster: processing
service: worker
service_version: abc123
command: python -m worker
notification_email: ops@example.com
"""


@dataclass(frozen=True)
class Hostile:
    name: str
    write: Callable[[Path], str]
    expect: tuple[str, ...]


def laughs(levels: int = 9, width: int = 10, indent: str = "  ") -> str:
    """A YAML flow list whose aliases expand to width ** levels strings ("billion laughs")."""
    parts = [f"&l0 [{', '.join(['lol'] * width)}]"]
    parts += [f"&l{level} [{', '.join([f'*l{level - 1}'] * width)}]" for level in range(1, levels)]
    return "[\n" + ",\n".join(indent + part for part in parts) + "\n" + indent[:-2] + "]"


def _file(name: str, make: Callable[[], str | bytes]) -> Callable[[Path], str]:
    """A writer of one file whose content is made only when written (some are megabytes)."""

    def write(directory: Path) -> str:
        path = directory / name
        text = make()
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def _fifo(directory: Path) -> str:
    path = directory / "pipe.json"
    os.mkfifo(path)
    return str(path)


def _merge_key_bomb() -> str:
    lines = ["base0: &m0 {" + ", ".join(f"k{i}: lol" for i in range(10)) + "}"]
    for level in range(1, 9):
        merged = ", ".join([f"*m{level - 1}"] * 10)
        lines.append(f"base{level}: &m{level} {{<<: [{merged}], own{level}: x}}")
    return "Metadata:\n" + "\n".join("  " + line for line in lines) + "\n" + OPTIONS_YAML


def _systems(count: int) -> str:
    return json.dumps({"systems": [{**SYSTEM, "prefix": f"Worker{index}"} for index in range(count)]})


def _toml_systems(count: int) -> str:
    table = ('[[systems]]\nprefix = "Worker{}"\ncluster = "processing"\nservice = "worker"\n'
             'service_version = "abc123"\ncommand = "python -m worker"\nnotification_email = "ops@example.com"\n')
    return "".join(table.format(index) for index in range(count))


_SIZE = "nested more than 100 levels deep"
_VALUES = "more than 250,000 values"

HOSTILE: tuple[Hostile, ...] = (
    Hostile("yaml-laughs-in-metadata",
            _file("laughs.yaml", lambda: f"{OPTIONS_YAML}Metadata:\n  Laughs: {laughs(indent='    ')}\n"),
            ("aliases expand to more than 250,000 values", "line ")),
    Hostile("yaml-laughs-as-option-value",
            _file("laughs-option.yaml",
                  lambda: OPTIONS_YAML.replace("command: python -m worker\n", "") + f"command: {laughs()}\n"),
            ("aliases expand to more than 250,000 values",)),
    Hostile("yaml-laughs-in-systems",
            _file("laughs-systems.yaml",
                  lambda: f"systems:\n  - environment:\n      LAUGHS: {laughs(indent='        ')}\n"),
            ("aliases expand to more than 250,000 values",)),
    Hostile("yaml-merge-key-bomb", _file("merge.yaml", _merge_key_bomb), ("aliases expand to more than",)),
    Hostile("yaml-recursive-alias",
            _file("recursive.yaml", lambda: OPTIONS_YAML + "Metadata: &loop {again: *loop}\n"),
            ("recursive alias", "line 6")),
    Hostile("yaml-alias-text",
            _file("text.yaml", lambda: f"{OPTIONS_YAML}Metadata:\n  big: &big {'x' * 1_000_000}\n"
                                       f"  copies: [{', '.join(['*big'] * 1000)}]\n"),
            ("characters of text",)),
    Hostile("yaml-deep-flow", _file("deep.yaml", lambda: "[" * DEEP + "]" * DEEP), (_SIZE, "line 1, column 101")),
    Hostile("yaml-deep-block", _file("deep-block.yaml", lambda: "- " * DEEP + "x\n"), (_SIZE,)),
    Hostile("yaml-deep-through-aliases",
            _file("deep-alias.yaml", lambda: f"a: &a {'[' * 60}{']' * 60}\nb: {'[' * 60}*a{']' * 60}\n"),
            ("aliases nest more than 100 levels deep",)),
    Hostile("json-deep", _file("deep.json", lambda: "[" * DEEP + "]" * DEEP), (_SIZE,)),
    Hostile("json-deep-objects", _file("deep-objects.json", lambda: '{"a":' * DEEP + "1" + "}" * DEEP), (_SIZE,)),
    Hostile("json-nested-past-the-bound",
            _file("nested.json", lambda: f'{{{OPTIONS_JSON}, "Metadata": {{"x": {"[" * 150}{"]" * 150}}}}}'),
            (_SIZE, "under Metadata")),
    Hostile("json-many-values",
            _file("many.json", lambda: f'{{{OPTIONS_JSON}, "Metadata": {{"x": [{",".join(["0"] * 300_000)}]}}}}'),
            (_VALUES,)),
    Hostile("json-non-finite", _file("nan.json", lambda: f'{{{OPTIONS_JSON}, "Metadata": {{"x": [1e999]}}}}'),
            ("Metadata.x[0]", "not a number")),
    Hostile("toml-deep-array", _file("deep.toml", lambda: "x = " + "[" * DEEP + "]" * DEEP + "\n"), (_SIZE,)),
    Hostile("toml-deep-inline-table",
            _file("deep-table.toml", lambda: "x = " + "{a = " * DEEP + "1" + "}" * DEEP + "\n"), (_SIZE,)),
    Hostile("toml-dotted-key", _file("dotted.toml", lambda: "a" + ".a" * DEEP + " = 1\n"),
            (_SIZE, "dotted key", "line 1")),
    Hostile("toml-deep-header", _file("header.toml", lambda: "[" + ".".join(["a"] * DEEP) + "]\nx = 1\n"),
            (_SIZE, "dotted key")),
    Hostile("too-large", _file("large.toml", lambda: OPTIONS_TOML + "# padding\n" * 600_000),
            ("larger than the 5,242,880 bytes",)),
    Hostile("fifo", _fifo, ("not a regular file",)),
    Hostile("not-utf8", _file("latin1.toml", lambda: (OPTIONS_TOML + "# caf\xe9\n").encode("latin-1")),
            ("not UTF-8",)),
    Hostile("huge-option-value", _file("huge.yaml", lambda: f"{OPTIONS_YAML}capacity: {'X' * 4_000_000}\n"),
            ("option 'capacity'", "XXX...XXX")),
    Hostile("ten-thousand-systems-json", _file("systems.json", lambda: _systems(10_000)),
            ("more than the 500 CloudFormation allows", "split the 10,000 systems")),
    Hostile("ten-thousand-systems-toml", _file("systems.toml", lambda: _toml_systems(10_000)),
            ("more than the 500 CloudFormation allows",)),
)
