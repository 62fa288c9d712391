"""``watchbot-cfn key-policy``: the statements each key's policy needs, filled in for one stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from watchbot_cfn.cli.main import main

REPO = Path(__file__).resolve().parents[2]
HARDENED = str(REPO / "examples" / "hardened.toml")
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TWO_SYSTEMS_ONE_KEY = f"""\
[[systems]]
prefix = "Resize"
cluster = "processing"
service = "media"
service_version = "abc123"
command = "resize"
notification_email = "ops@example.com"
message_kms_key = "{KEY}"

[[systems]]
prefix = "Thumbs"
cluster = "processing"
service = "media"
service_version = "abc123"
command = "thumbs"
notification_topic = "arn:aws:sns:us-east-1:123456789012:oncall"
fifo = true
message_kms_key = "{KEY}"
log_kms_key = "{KEY}"
"""


def run(capsys, *args: str) -> tuple[int, Any, str]:
    code = main(["key-policy", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out else None, err


def strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings(item)]
    return [value] if isinstance(value, str) else []


def test_every_placeholder_is_filled_when_region_and_account_are_given(capsys):
    code, policies, _ = run(capsys, HARDENED, "--stack-name", "ledger", "--region", "eu-west-1",
                            "--account", "210987654321")
    assert code == 0
    assert [entry["UsedBy"] for entry in policies] == [["Ledger.message_kms_key"], ["Ledger.log_kms_key"],
                                                       ["Ledger.progress_table_kms_key"]]
    assert not [text for text in strings(policies) if "<" in text or "${" in text]
    assert "Fn::Sub" not in json.dumps(policies)
    statements = {s["Sid"]: s for entry in policies for s in entry["Statement"]}
    assert statements["LedgerSnsDeliversToTheWorkQueue"]["Condition"]["StringEquals"] == {
        "kms:EncryptionContext:aws:sqs:arn": "arn:aws:sqs:eu-west-1:210987654321:ledger-LedgerQueue"}
    assert statements["LedgerCloudWatchLogsEncryptsTheLogGroup"]["Principal"] == {
        "Service": ["logs.eu-west-1.amazonaws.com"]}
    assert statements["LedgerCloudWatchLogsEncryptsTheLogGroup"]["Condition"]["ArnEquals"] == {
        "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:210987654321:log-group:"
                                              "ledger-eu-west-1-ledger"}


def test_what_is_not_given_stays_a_pseudo_parameter_for_a_key_declared_in_cloudformation(capsys):
    code, policies, _ = run(capsys, HARDENED, "--stack-name", "ledger")
    assert code == 0
    statements = {s["Sid"]: s for entry in policies for s in entry["Statement"]}
    assert statements["LedgerSnsDeliversToTheWorkQueue"]["Condition"]["StringEquals"] == {
        "kms:EncryptionContext:aws:sqs:arn": {
            "Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:ledger-LedgerQueue"}}
    # text without placeholders stays text
    assert statements["LedgerSnsDeliversToTheWorkQueue"]["Principal"] == {"Service": ["sns.amazonaws.com"]}


def test_a_china_region_brings_its_partition_and_url_suffix(capsys):
    _, policies, _ = run(capsys, HARDENED, "--stack-name", "ledger", "--region", "cn-north-1",
                         "--account", "210987654321")
    statements = {s["Sid"]: s for entry in policies for s in entry["Statement"]}
    assert statements["LedgerRolesOfThisAccountUseTheMessageKey"]["Principal"] == {
        "AWS": "arn:aws-cn:iam::210987654321:root"}
    assert statements["LedgerCloudWatchLogsEncryptsTheLogGroup"]["Principal"] == {
        "Service": ["logs.cn-north-1.amazonaws.com.cn"]}


def test_systems_and_options_sharing_a_key_share_one_policy_with_unique_sids(capsys, tmp_path):
    source = tmp_path / "stack.toml"
    source.write_text(TWO_SYSTEMS_ONE_KEY)
    code, policies, _ = run(capsys, str(source), "--stack-name", "media", "--region", "us-east-1",
                            "--account", "123456789012")
    assert code == 0
    [entry] = policies
    assert entry["Key"] == KEY
    assert entry["UsedBy"] == ["Resize.message_kms_key", "Thumbs.message_kms_key", "Thumbs.log_kms_key"]
    sids = [s["Sid"] for s in entry["Statement"]]
    assert len(sids) == len(set(sids))
    assert "ResizeSnsDeliversToTheWorkQueue" in sids and "ThumbsSnsDeliversToTheWorkQueue" not in sids


def test_a_rendered_template_works_as_well_as_its_source(capsys, tmp_path):
    assert main(["render", HARDENED, "-o", str(tmp_path / "t.json")]) == 0
    capsys.readouterr()
    from_template = run(capsys, str(tmp_path / "t.json"), "--stack-name", "ledger")
    assert from_template == run(capsys, HARDENED, "--stack-name", "ledger")


@pytest.mark.parametrize(("args", "fragment"), [
    (["--stack-name", "ledger", "--account", "12345"], "--account: '12345' is not an account id (12 digits)"),
    (["--stack-name", "ledger", "--region", "Mars"], "--region: 'Mars' is not a region name"),
    (["--stack-name", "9lives"], "--stack-name: '9lives' is not a stack name"),
])
def test_bad_values_are_one_line_errors(capsys, args, fragment):
    code, out, err = run(capsys, HARDENED, *args)
    assert (code, out) == (1, None)
    assert len(err.splitlines()) == 1 and err.startswith(f"watchbot-cfn: error: {fragment}")


def test_a_system_without_keys_has_no_key_policy_to_print(capsys):
    code, out, err = run(capsys, str(REPO / "examples" / "minimal.toml"), "--stack-name", "x")
    assert (code, out) == (0, [])
    assert "no system sets message_kms_key, log_kms_key or progress_table_kms_key" in err
    assert len(err.splitlines()) == 1


def test_the_stack_name_is_required(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["key-policy", HARDENED])
    assert exit_.value.code == 2
