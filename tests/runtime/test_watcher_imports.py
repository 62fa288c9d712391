"""The runtime goes into users' images: it must not pull in the template side."""

from __future__ import annotations

import ast
import json
import pathlib
import subprocess
import sys

import watchbot_cfn.runtime

RUNTIME = pathlib.Path(watchbot_cfn.runtime.__file__).parent
ALLOWED_THIRD_PARTY = {"boto3", "botocore"}
ALLOWED_PACKAGE = {"watchbot_cfn", "watchbot_cfn.contract", "watchbot_cfn.records"}


def test_importing_the_watcher_loads_no_template_libraries():
    # given a fresh interpreter
    code = (
        "import sys, json\n"
        "import watchbot_cfn.runtime.cli, watchbot_cfn.runtime.watcher\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    # when the watcher's modules are imported
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    modules = set(json.loads(output))
    # then nothing of the template side came with them
    assert "watchbot_cfn.runtime.watcher" in modules
    heavy = {name for name in modules if name.split(".")[0] in {"troposphere", "awacs", "cfnlint", "yaml"}}
    assert heavy == set()
    ours = {name for name in modules if name.startswith("watchbot_cfn")}
    assert all(name.startswith("watchbot_cfn.runtime") or name in ALLOWED_PACKAGE for name in ours), ours


def test_runtime_sources_import_only_stdlib_boto3_and_the_contract():
    files = sorted(RUNTIME.glob("*.py"))
    assert len(files) >= 8
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY or top == "__future__":
                    continue
                if (name in ALLOWED_PACKAGE or name.startswith("watchbot_cfn.runtime")
                        or name == "watchbot_cfn.__version__"):
                    continue
                raise AssertionError(f"{path.name} imports {name}")
