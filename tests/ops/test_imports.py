"""The operator tools start quickly: nothing of the template side on their import path."""

from __future__ import annotations

import json
import subprocess
import sys

TEMPLATE_SIDE = {"troposphere", "awacs", "cfnlint", "yaml"}


def loaded_by(*modules: str) -> set[str]:
    code = f"import sys, json\nimport {', '.join(modules)}\nprint(json.dumps(sorted(sys.modules)))\n"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(json.loads(output))


def test_the_dead_letter_tool_loads_no_template_libraries():
    modules = loaded_by("watchbot_cfn.cli.dead_letter", "watchbot_cfn.ops.deadletter")
    assert "watchbot_cfn.ops.deadletter" in modules
    assert {name for name in modules if name.split(".")[0] in TEMPLATE_SIDE} == set()


def test_the_progress_command_and_helper_stay_inside_the_runtime():
    modules = loaded_by("watchbot_cfn.runtime.progresscli", "watchbot_cfn.runtime.mapreduce")
    assert {name for name in modules if name.split(".")[0] in TEMPLATE_SIDE} == set()
    ours = {name for name in modules if name.startswith("watchbot_cfn")}
    assert all(name.startswith("watchbot_cfn.runtime")
               or name in {"watchbot_cfn", "watchbot_cfn.contract", "watchbot_cfn.records"} for name in ours), ours
