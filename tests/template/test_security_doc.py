"""docs/security.md cannot drift: its table of IAM statements is exactly what the templates render, and every
test it cites exists.

The templates are rendered for option sets that between them take every branch that writes a statement
(standard and FIFO, reduce mode, webhook, Fargate with secrets, every key, topic publishers, the alarm topic,
task protection).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.support.templates import FARGATE, REQUIRED
from watchbot_cfn import template

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "security.md"
START = "<!-- iam statements"
END = "<!-- end of iam statements -->"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRETS = {"DB": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf", "TOKEN": "/worker/token"}
OPTION_SETS = [
    {"reduce": True, "webhook": True, **FARGATE, "secrets": SECRETS, "message_kms_key": KEY, "log_kms_key": KEY,
     "progress_table_kms_key": KEY, "topic_publishers": ["events.amazonaws.com"],
     "permissions": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::in/*"}]},
    {"fifo": True, "reduce": True, "message_kms_key": KEY},
    {},
]
#: The task role's policy of the user's own ``permissions``: theirs, not listed.
USERS_OWN = "TaskRole/worker"

Row = tuple[str, str]  # (policy, Sid)


def rendered_statements() -> dict[Row, tuple[str, frozenset[str]]]:
    """(policy, Sid) -> (effect, actions) for every statement the option sets render."""
    found: dict[Row, tuple[str, frozenset[str]]] = {}

    def note(policy: str, statement: dict[str, Any]) -> None:
        if policy == USERS_OWN:
            return
        entry = (statement["Effect"], frozenset(statement["Action"]))
        assert found.setdefault((policy, statement["Sid"]), entry) == entry, (policy, statement["Sid"])

    for overrides in OPTION_SETS:
        body = template(**{**REQUIRED, **overrides}).to_dict()
        for logical_id, resource in body["Resources"].items():
            name = logical_id.removeprefix("Watchbot")
            properties = resource.get("Properties", {})
            documents = [(f"{name}/trust", properties["AssumeRolePolicyDocument"])] \
                if "AssumeRolePolicyDocument" in properties else []
            documents += [(f"{name}/{p['PolicyName']}", p["PolicyDocument"]) for p in properties.get("Policies", [])]
            if "PolicyDocument" in properties:
                documents.append((name, properties["PolicyDocument"]))
            for policy, document in documents:
                for statement in document["Statement"]:
                    note(policy, statement)
        for option, entry in body["Metadata"]["WatchbotCfn"]["Watchbot"].get("KeyPolicy", {}).items():
            for statement in entry["Statement"]:
                note(f"key policy/{option}", statement)
    return found


def documented_statements() -> dict[Row, tuple[str, frozenset[str], str]]:
    """(policy, Sid) -> (effect, actions, the row's text) from the table in docs/security.md."""
    text = DOC.read_text()
    table = text[text.index(START):text.index(END)]
    rows: dict[Row, tuple[str, frozenset[str], str]] = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 6 or not cells[0].startswith("`"):
            continue
        policy, sid, effect, actions = (cells[0].strip("`"), cells[1].strip("`"), cells[2],
                                        frozenset(re.findall(r"`([a-z0-9-]+:[A-Za-z*]+)`", cells[3])))
        assert (policy, sid) not in rows, f"{policy} {sid} is documented twice"
        rows[(policy, sid)] = (effect, actions, line)
    return rows


def test_every_rendered_statement_is_documented_and_every_documented_one_is_rendered():
    rendered, documented = rendered_statements(), documented_statements()
    assert sorted(set(rendered) - set(documented)) == [], "rendered but not in docs/security.md"
    assert sorted(set(documented) - set(rendered)) == [], "in docs/security.md but no longer rendered"


def test_each_documented_statement_has_the_rendered_effect_and_actions_and_a_reason():
    rendered = rendered_statements()
    for row, (effect, actions, line) in documented_statements().items():
        assert (effect, actions) == rendered[row], row
        assert len(line.split("|")[5].strip()) > 20, f"{row}: say why it exists"


def test_every_statement_the_templates_render_has_a_sid():
    # Sids are how the doc (and a reviewer) names a statement; only the user's own statements may lack one
    for overrides in OPTION_SETS:
        body = template(**{**REQUIRED, **overrides}).to_dict()
        for logical_id, resource in body["Resources"].items():
            for policy in resource.get("Properties", {}).get("Policies", []):
                if policy["PolicyName"] != "worker":
                    assert all(s.get("Sid") for s in policy["PolicyDocument"]["Statement"]), logical_id


def test_every_test_the_doc_cites_exists():
    cited = set(re.findall(r"`(test_[a-z0-9_]+)`", DOC.read_text()))
    defined = {match for path in (REPO / "tests").rglob("test_*.py")
               for match in re.findall(r"^def (test_[a-z0-9_]+)\(", path.read_text(), re.M)}
    assert cited, "docs/security.md cites its tests"
    assert sorted(cited - defined) == []
