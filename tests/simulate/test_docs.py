"""docs/scaling.md's simulated comparison is what the simulator produces today."""

from __future__ import annotations

import json
import re
from pathlib import Path

from watchbot_cfn.simulate import load_trace
from watchbot_cfn.simulate.report import TRACE_TITLES, comparison_markdown
from watchbot_cfn.sources.templatefile import load_template

REPO = Path(__file__).resolve().parents[2]
TRACES = REPO / "examples" / "traces"
CDK = Path(__file__).resolve().parents[1] / "fixtures" / "cdk-queue-processing" / "stack.template.json"
REGENERATE = ("python benchmarks/simulate.py --template cdk=tests/fixtures/cdk-queue-processing/stack.template.json "
              "--markdown")


def test_the_comparison_in_docs_is_up_to_date():
    text = (REPO / "docs" / "scaling.md").read_text()
    found = re.search(r"<!-- comparison: [^\n]*-->\n(.*)<!-- end of comparison -->", text, re.S)
    assert found, "docs/scaling.md lost its comparison markers"
    templates = {mode: load_template(str(TRACES / f"{mode}.toml")) for mode in ("backlog", "queue-depth",
                                                                                  "backlog-per-task")}
    templates["cdk"] = json.loads(CDK.read_text())
    traces = {name: load_trace(str(TRACES / f"{name}.csv")) for name in TRACE_TITLES}
    assert found.group(1) == comparison_markdown(templates, traces), f"regenerate it: {REGENERATE}"
