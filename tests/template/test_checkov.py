"""The security scanner (checkov) on every rendered example: no failed check anywhere, and in the hardened
example not even a skipped one: with customer managed keys the encryption checks run, and pass.

checkov is not a test dependency: installing it pulls about 70 packages and pins boto3 and botocore back to
older releases than the rest of the toolchain uses. The test looks for it in ``$CHECKOV`` or on ``PATH`` and is
skipped, saying so, when it is absent. Install it on its own and point the test at it::

    python3 -m venv /tmp/checkov-venv && /tmp/checkov-venv/bin/pip install checkov
    CHECKOV=/tmp/checkov-venv/bin/checkov pytest tests/template/test_checkov.py

The figures of each example (passed, failed, skipped) close the test run ("closing notes").
One checkov process scans every example, so the test is one function.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from watchbot_cfn.resources import scanner
from watchbot_cfn.sources.load import load_source

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SOURCES = sorted(p for p in EXAMPLES.iterdir() if p.suffix in {".toml", ".yaml", ".yml", ".json", ".py"})
HARDENED = "hardened.toml"
#: The checks the default templates skip for want of a customer managed key.
ENCRYPTION_CHECKS = {check for check, _ in (scanner.SQS_MANAGED_ENCRYPTION, scanner.SNS_AWS_MANAGED_KEY,
                                            scanner.LOGS_DEFAULT_ENCRYPTION, scanner.DYNAMODB_OWNED_KEY)}


def checkov_executable() -> str | None:
    return shutil.which(os.environ.get("CHECKOV", "checkov"))


def scan(rendered: dict[str, Path], executable: str) -> tuple[str, dict[str, list[dict]]]:
    """(checkov's version, example name -> every check result with its outcome)."""
    arguments = [executable, "--framework", "cloudformation", "--output", "json", "--compact", "--skip-download"]
    for path in rendered.values():
        arguments += ["--file", str(path)]
    done = subprocess.run(arguments, capture_output=True, text=True, timeout=600)
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    [report] = [r for r in reports if r.get("check_type") == "cloudformation"]
    by_file = {path.name: name for name, path in rendered.items()}
    results: dict[str, list[dict]] = {name: [] for name in rendered}
    for outcome in ("passed", "failed", "skipped"):
        for check in report["results"].get(f"{outcome}_checks", []):
            results[by_file[Path(check["file_path"]).name]].append({**check, "outcome": outcome})
    return report["summary"]["checkov_version"], results


def test_checkov_fails_no_example_and_skips_no_check_of_the_hardened_one(tmp_path, record_property):
    executable = checkov_executable()
    if executable is None:
        pytest.skip("checkov is not installed (not a test dependency: it pins boto3/botocore back); install it "
                    "in its own venv and set CHECKOV=/path/to/checkov")
    rendered = {}
    for source in SOURCES:
        path = tmp_path / f"{source.stem}.json"
        path.write_text(load_source(str(source)).to_json())
        rendered[source.name] = path
    version, results = scan(rendered, executable)
    failed = {}
    for name, checks in results.items():
        counts = Counter(check["outcome"] for check in checks)
        record_property("closing_note", f"checkov {version} {name}: {counts['passed']} passed, "
                                        f"{counts['failed']} failed, {counts['skipped']} skipped")
        failed[name] = sorted(f"{c['check_id']} {c['resource']}" for c in checks if c["outcome"] == "failed")
    assert {name: found for name, found in failed.items() if found} == {}
    hardened = results[HARDENED]
    assert [c["check_id"] for c in hardened if c["outcome"] == "skipped"] == []
    passed = {(c["check_id"], c["resource"].split(".", 1)[0]) for c in hardened if c["outcome"] == "passed"}
    for kind, check in (("AWS::SQS::Queue", "CKV_AWS_27"), ("AWS::SNS::Topic", "CKV_AWS_26"),
                        ("AWS::Logs::LogGroup", "CKV_AWS_158"), ("AWS::DynamoDB::Table", "CKV_AWS_119")):
        assert (check, kind) in passed, (check, kind)
    assert {check for check, _ in passed} >= ENCRYPTION_CHECKS
