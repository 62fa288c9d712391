"""The runtime's sources stay valid for the oldest Python it claims, checked by reading them.

tests/integration/test_runtime_package.py runs the runtime on Python 3.9; this
test reads every file of the runtime-only wheel (and its build backend), so that a construct on a path
that run does not take is caught as well: grammar newer than 3.9 (``match``,
``except*``), ``X | Y`` unions evaluated at run time, keyword arguments and
standard-library names added in 3.10 or later, and annotations that need
``from __future__ import annotations``. The list of newer names is not complete;
it holds the ones a watcher is likely to reach for.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLOOR = (3, 9)

#: Standard-library names (as module.attribute) added after 3.9, with the version that added them.
NEWER_NAMES = {
    "asyncio.TaskGroup": "3.11", "asyncio.timeout": "3.11", "contextlib.aclosing": "3.10",
    "contextlib.chdir": "3.11", "datetime.UTC": "3.11", "enum.StrEnum": "3.11", "hashlib.file_digest": "3.11",
    "inspect.get_annotations": "3.10", "itertools.batched": "3.12", "itertools.pairwise": "3.10",
    "logging.getLevelNamesMapping": "3.11", "math.cbrt": "3.11", "math.exp2": "3.11", "operator.call": "3.11",
    "os.EFD_CLOEXEC": "3.10", "os.eventfd": "3.10", "os.process_cpu_count": "3.13", "os.splice": "3.10",
    "sys.orig_argv": "3.10", "sys.stdlib_module_names": "3.10", "types.EllipsisType": "3.10",
    "types.NoneType": "3.10", "types.UnionType": "3.10", "typing.Concatenate": "3.10", "typing.LiteralString": "3.11",
    "typing.Never": "3.11", "typing.NotRequired": "3.11", "typing.ParamSpec": "3.10", "typing.Required": "3.11",
    "typing.Self": "3.11", "typing.TypeAlias": "3.10", "typing.TypeGuard": "3.10", "typing.TypeVarTuple": "3.11",
    "typing.Unpack": "3.11", "typing.assert_never": "3.11", "typing.assert_type": "3.11",
    "typing.dataclass_transform": "3.11", "typing.override": "3.12", "typing.reveal_type": "3.11",
}
NEWER_MODULES = {"tomllib": "3.11", "wsgiref.types": "3.11"}
NEWER_BUILTINS = {"aiter": "3.10", "anext": "3.10", "BaseExceptionGroup": "3.11", "EncodingWarning": "3.10",
                  "ExceptionGroup": "3.11"}
#: (callable's last name, keyword) -> version that added the keyword.
NEWER_KEYWORDS = {
    ("zip", "strict"): "3.10", ("dataclass", "slots"): "3.10", ("dataclass", "kw_only"): "3.10",
    ("dataclass", "match_args"): "3.10", ("field", "kw_only"): "3.10", ("Popen", "process_group"): "3.11",
    ("run", "process_group"): "3.11", ("bisect_left", "key"): "3.10", ("bisect_right", "key"): "3.10",
    ("insort", "key"): "3.10", ("rmtree", "onexc"): "3.12", ("TemporaryDirectory", "delete"): "3.12",
    ("NamedTemporaryFile", "delete_on_close"): "3.12",
}
NEWER_METHODS = {"bit_count": "3.10", "add_note": "3.11"}
TYPE_NAMES = {"bool", "bytes", "dict", "float", "frozenset", "int", "list", "object", "set", "str", "tuple", "type"}


def checked_files() -> list[Path]:
    backend_file = ROOT / "runtime-package" / "build_backend.py"
    spec = importlib.util.spec_from_file_location("runtime_build_backend", backend_file)
    assert spec and spec.loader
    backend = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(backend)
    # the backend too: pip runs it with the interpreter it installs for
    return [ROOT / name for name in backend.package_files(ROOT)] + [backend_file]


def newer_than_floor(source: str, filename: str = "<source>") -> list[str]:
    """What in ``source`` needs a Python newer than FLOOR, one line each (empty when nothing)."""
    try:
        tree = ast.parse(source, filename, feature_version=FLOOR)
    except SyntaxError as error:
        return [f"{filename}:{error.lineno}: grammar newer than {FLOOR[0]}.{FLOOR[1]}: {error.msg}"]
    found: list[str] = []
    future_annotations = any(isinstance(node, ast.ImportFrom) and node.module == "__future__"
                             and any(alias.name == "annotations" for alias in node.names) for node in tree.body)
    annotations = {id(part) for node in ast.walk(tree) for annotation in _annotations(node)
                   for part in ast.walk(annotation)}
    modules: dict[str, str] = {}  # local name -> module
    checked_only = {id(part) for node in ast.walk(tree) if _is_type_checking_block(node)
                    for statement in node.body for part in ast.walk(statement)}
    for node in ast.walk(tree):
        if id(node) in checked_only:  # read by type checkers only, never run
            continue
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                modules[local] = alias.name if alias.asname else local
                if alias.name in NEWER_MODULES:
                    found.append(f"{where}: module {alias.name} needs {NEWER_MODULES[alias.name]}")
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module in NEWER_MODULES:
                found.append(f"{where}: module {node.module} needs {NEWER_MODULES[node.module]}")
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                if name in NEWER_NAMES:
                    found.append(f"{where}: {name} needs {NEWER_NAMES[name]}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            name = f"{modules.get(node.value.id, node.value.id)}.{node.attr}"
            if node.value.id in modules and name in NEWER_NAMES:
                found.append(f"{where}: {name} needs {NEWER_NAMES[name]}")
        elif isinstance(node, ast.Name) and node.id in NEWER_BUILTINS and node.id not in modules:
            found.append(f"{where}: {node.id} needs {NEWER_BUILTINS[node.id]}")
        elif isinstance(node, ast.Call):
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            for keyword in node.keywords:
                if (callee, keyword.arg) in NEWER_KEYWORDS:
                    added = NEWER_KEYWORDS[(callee, keyword.arg)]
                    found.append(f"{where}: {callee}({keyword.arg}=...) needs {added}")
            if isinstance(node.func, ast.Attribute) and node.func.attr in NEWER_METHODS:
                found.append(f"{where}: .{node.func.attr}() needs {NEWER_METHODS[node.func.attr]}")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr) and _is_type_union(node):
            if id(node) not in annotations:
                found.append(f"{where}: a `X | Y` union evaluated at run time needs 3.10")
            elif not future_annotations:
                found.append(f"{where}: a `X | Y` annotation needs 3.10 without `from __future__ import annotations`")
    return found


def _is_type_checking_block(node: ast.AST) -> bool:
    """``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``); its ``else`` branch runs and is checked."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _annotations(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.AnnAssign):
        return [node.annotation]
    if isinstance(node, ast.arg) and node.annotation is not None:
        return [node.annotation]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
        return [node.returns]
    return []


def _is_type_union(node: ast.BinOp) -> bool:
    def type_like(operand: ast.expr) -> bool:
        if isinstance(operand, ast.Constant):
            return operand.value is None
        if isinstance(operand, ast.Name):
            # a class name (CapWords), not a CONSTANT such as a flag
            return operand.id in TYPE_NAMES or (operand.id[:1].isupper() and not operand.id.isupper())
        if isinstance(operand, ast.Subscript):
            return True
        if isinstance(operand, ast.BinOp) and isinstance(operand.op, ast.BitOr):
            return _is_type_union(operand)
        return False

    return type_like(node.left) or type_like(node.right)


@pytest.mark.parametrize("path", checked_files(), ids=lambda path: path.relative_to(ROOT).as_posix())
def test_runtime_sources_need_nothing_newer_than_the_floor(path):
    assert newer_than_floor(path.read_text(), path.name) == []


@pytest.mark.parametrize("source", [
    "match x:\n    case 1:\n        pass\n",
    "try:\n    pass\nexcept* ValueError:\n    pass\n",
    "Optional = int | None\n",
    "isinstance(value, int | str)\n",
    "def f(x: int | None) -> None: ...\n",
    "for a, b in zip(x, y, strict=True): pass\n",
    "from dataclasses import dataclass\n@dataclass(slots=True)\nclass A: ...\n",
    "import datetime\nnow = datetime.datetime.now(datetime.UTC)\n",
    "from datetime import UTC\n",
    "import tomllib\n",
    "raise ExceptionGroup('x', [])\n",
    "import subprocess\nsubprocess.Popen(['true'], process_group=0)\n",
    "n = (5).bit_count()\n",
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    pass\nelse:\n"
    "    from typing import dataclass_transform\n",
])
def test_the_check_finds_what_the_floor_lacks(source):
    assert newer_than_floor(source) != []


@pytest.mark.parametrize("source", [
    "from __future__ import annotations\ndef f(x: int | None) -> list[str] | None: ...\n",
    "from __future__ import annotations\nclass A:\n    value: dict[str, int] | None = None\n",
    "import os\nflags = os.O_RDONLY | os.O_CLOEXEC\n",
    "mask = a | b\n",
    "FLAGS = O_RDONLY | O_CLOEXEC\n",
    "import datetime\nnow = datetime.datetime.now(datetime.timezone.utc)\n",
    "from dataclasses import dataclass\n@dataclass(frozen=True)\nclass A: ...\n",
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from typing import dataclass_transform\n",
])
def test_the_check_accepts_what_the_floor_has(source):
    assert newer_than_floor(source) == []
