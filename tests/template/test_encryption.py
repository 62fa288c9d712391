"""Customer managed KMS keys: where each key goes, exactly which key permissions the roles get, what the
template asks the key policies to allow, and which scanner exceptions fall away."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.templates import FARGATE, REQUIRED, walk
from watchbot_cfn import template
from watchbot_cfn.errors import OptionsError

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LOG_KEY = "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef"
TABLE_KEY = "arn:aws:kms:us-east-1:123456789012:key/9999abcd-12ab-34cd-56ef-1234567890ab"
ALL_KEYS = {"message_kms_key": KEY, "log_kms_key": LOG_KEY, "progress_table_kms_key": TABLE_KEY, "reduce": True}
ENCRYPTION_SKIPS = {"CKV_AWS_26", "CKV_AWS_27", "CKV_AWS_158", "CKV_AWS_119"}


def render(**overrides: Any) -> dict[str, Any]:
    return template(**{**REQUIRED, **overrides}).to_dict()


def props(body: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return body["Resources"][logical_id]["Properties"]


def kms_statements(body: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(resource, Sid) -> every statement in a resource (not the Metadata snippet) that grants kms actions."""
    return {(key, node["Sid"]): node for key, resource in body["Resources"].items() for node in walk(resource)
            if isinstance(node, dict) and "Action" in node
            and any(str(action).startswith("kms:") for action in node["Action"])}


def skipped_checks(body: dict[str, Any]) -> set[str]:
    return {check["id"] for resource in body["Resources"].values()
            for check in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])}


def via(service: str) -> dict[str, Any]:
    return {"Fn::Sub": f"{service}.${{AWS::Region}}.${{AWS::URLSuffix}}"}


# --- without keys: nothing changes ----------------------------------------------

def test_without_keys_no_role_touches_kms_and_the_scanner_is_told_why():
    body = render(reduce=True)
    assert kms_statements(body) == {}
    assert skipped_checks(body) >= ENCRYPTION_SKIPS
    assert "KeyPolicy" not in body["Metadata"]["WatchbotCfn"]["Watchbot"]
    assert "SSESpecification" not in props(body, "WatchbotProgressTable")
    assert "KmsKeyId" not in props(body, "WatchbotLogGroup")


# --- where each key goes ----------------------------------------------------------

def test_the_message_key_encrypts_both_queues_and_both_topics():
    body = render(message_kms_key=KEY)
    for queue in ("WatchbotQueue", "WatchbotDeadLetterQueue"):
        assert props(body, queue)["KmsMasterKeyId"] == KEY
        assert "SqsManagedSseEnabled" not in props(body, queue)  # SQS refuses both at once
    for topic in ("WatchbotTopic", "WatchbotNotificationTopic"):
        assert props(body, topic)["KmsMasterKeyId"] == KEY
    assert skipped_checks(body) & {"CKV_AWS_26", "CKV_AWS_27"} == set()
    assert skipped_checks(body) >= {"CKV_AWS_158"}  # the log group keeps its own reason


def test_the_log_and_table_keys_encrypt_the_log_group_and_the_progress_table():
    body = render(**ALL_KEYS)
    assert props(body, "WatchbotLogGroup")["KmsKeyId"] == LOG_KEY
    assert props(body, "WatchbotProgressTable")["SSESpecification"] == {
        "SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": TABLE_KEY}
    assert skipped_checks(body) & ENCRYPTION_SKIPS == set()


def test_a_key_may_be_an_intrinsic():
    body = render(message_kms_key={"Ref": "MessageKey"}, log_kms_key={"Fn::ImportValue": "log-key-arn"})
    assert props(body, "WatchbotQueue")["KmsMasterKeyId"] == {"Ref": "MessageKey"}
    assert props(body, "WatchbotLogGroup")["KmsKeyId"] == {"Fn::ImportValue": "log-key-arn"}
    assert all(s["Resource"] == [{"Ref": "MessageKey"}] for s in kms_statements(body).values())


# --- exactly the key permissions the roles need ----------------------------------

def test_the_watcher_may_decrypt_only_through_sqs_for_its_own_queue_and_publish_only_through_sns():
    statements = kms_statements(render(message_kms_key=KEY))
    assert statements[("WatchbotTaskRole", "WorkQueueKey")] == {
        "Sid": "WorkQueueKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [KEY],
        "Condition": {"StringEquals": {
            "kms:ViaService": via("sqs"),
            "kms:EncryptionContext:aws:sqs:arn": {"Fn::GetAtt": ["WatchbotQueue", "Arn"]}}}}
    assert statements[("WatchbotTaskRole", "WorkTopicKey")] == {
        "Sid": "WorkTopicKey", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": [KEY],
        "Condition": {"StringEquals": {
            "kms:ViaService": via("sns"), "kms:EncryptionContext:aws:sns:topicArn": {"Ref": "WatchbotTopic"}}}}
    assert set(statements) == {("WatchbotTaskRole", "WorkQueueKey"), ("WatchbotTaskRole", "WorkTopicKey")}


def test_a_fifo_watcher_only_decrypts_what_it_receives():
    statements = kms_statements(render(message_kms_key=KEY, fifo=True))
    assert list(statements) == [("WatchbotTaskRole", "WorkQueueKey")]


def test_fifo_reduce_mode_may_also_generate_data_keys_for_the_parts_it_sends_to_its_queue():
    statements = kms_statements(render(message_kms_key=KEY, fifo=True, reduce=True))
    assert statements[("WatchbotTaskRole", "WorkQueuePartsKey")] == {
        "Sid": "WorkQueuePartsKey", "Effect": "Allow", "Action": ["kms:GenerateDataKey"], "Resource": [KEY],
        "Condition": {"StringEquals": {
            "kms:ViaService": via("sqs"),
            "kms:EncryptionContext:aws:sqs:arn": {"Fn::GetAtt": ["WatchbotQueue", "Arn"]}}}}
    assert ("WatchbotTaskRole", "WorkQueueKey") in statements


def test_the_webhook_publishes_through_sns_with_the_key():
    statements = kms_statements(render(message_kms_key=KEY, webhook=True))
    assert statements[("WatchbotWebhookRole", "WorkTopicKey")] == statements[("WatchbotTaskRole", "WorkTopicKey")]


def test_the_worker_may_use_the_table_key_only_through_dynamodb_for_its_table():
    statements = kms_statements(render(**ALL_KEYS, **FARGATE))
    assert statements[("WatchbotProgressTablePolicy", "ProgressTableKey")] == {
        "Sid": "ProgressTableKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [TABLE_KEY],
        "Condition": {"StringEquals": {
            "kms:ViaService": via("dynamodb"),
            "kms:EncryptionContext:aws:dynamodb:tableName": {"Ref": "WatchbotProgressTable"}}}}
    # CloudWatch Logs uses the log key itself: no role (the execution role ships the logs) is given it
    assert not [key for key in statements if key[0] == "WatchbotExecutionRole"]
    assert all(s["Resource"] != ["*"] and "Condition" in s for s in statements.values())


# --- what the key policies must allow (the template's Metadata) ------------------

def key_policy(body: dict[str, Any], option: str, prefix: str = "Watchbot") -> dict[str, dict[str, Any]]:
    entry = body["Metadata"]["WatchbotCfn"][prefix]["KeyPolicy"][option]
    return {statement["Sid"]: statement for statement in entry["Statement"]}


def test_the_message_key_policy_lets_sns_deliver_to_this_queue_and_alarms_and_publishers_publish():
    statements = key_policy(render(message_kms_key=KEY, topic_publishers=["events.amazonaws.com"]),
                            "message_kms_key")
    assert set(statements) == {"RolesOfThisAccountUseTheMessageKey", "SnsDeliversToTheWorkQueue",
                               "AlarmsPublishToTheAlarmTopic", "ServicesPublishToTheWorkTopic"}
    sns = statements["SnsDeliversToTheWorkQueue"]
    assert sns["Principal"] == {"Service": ["sns.amazonaws.com"]}
    assert sns["Condition"] == {"StringEquals": {
        "kms:EncryptionContext:aws:sqs:arn": "arn:<partition>:sqs:<region>:<account>:<stack>-WatchbotQueue"}}
    assert statements["AlarmsPublishToTheAlarmTopic"]["Principal"] == {"Service": ["cloudwatch.amazonaws.com"]}
    assert statements["ServicesPublishToTheWorkTopic"]["Principal"] == {"Service": ["events.amazonaws.com"]}
    roles = statements["RolesOfThisAccountUseTheMessageKey"]
    assert roles["Principal"] == {"AWS": "arn:<partition>:iam::<account>:root"}
    assert roles["Condition"]["StringEquals"]["kms:ViaService"] == ["sqs.<region>.<url-suffix>",
                                                                    "sns.<region>.<url-suffix>"]


def test_a_fifo_system_with_the_users_alarm_topic_asks_only_for_its_roles():
    body = render(message_kms_key=KEY, fifo=True, notification_email=None,
                  notification_topic="arn:aws:sns:us-east-1:123456789012:oncall")
    statements = key_policy(body, "message_kms_key")
    assert list(statements) == ["RolesOfThisAccountUseTheMessageKey"]
    assert statements["RolesOfThisAccountUseTheMessageKey"]["Condition"]["StringEquals"]["kms:ViaService"] == [
        "sqs.<region>.<url-suffix>"]


def test_the_log_key_policy_lets_cloudwatch_logs_of_the_region_use_it_for_this_log_group_only():
    [statement] = key_policy(render(log_kms_key=LOG_KEY, prefix="Thumbs"), "log_kms_key", "Thumbs").values()
    assert statement["Principal"] == {"Service": ["logs.<region>.<url-suffix>"]}
    assert statement["Condition"] == {"ArnEquals": {
        "kms:EncryptionContext:aws:logs:arn": "arn:<partition>:logs:<region>:<account>:log-group:"
                                              "<stack>-<region>-thumbs"}}


def test_the_table_key_policy_lets_dynamodb_create_and_use_the_table_for_principals_of_this_account():
    statements = key_policy(render(**ALL_KEYS), "progress_table_kms_key")
    roles = statements["RolesOfThisAccountUseTheTableKey"]
    assert "kms:CreateGrant" in roles["Action"]  # whoever deploys creates the table, and DynamoDB's grant
    assert roles["Condition"]["StringEquals"] == {"kms:ViaService": ["dynamodb.<region>.<url-suffix>"],
                                                  "kms:CallerAccount": "<account>"}
    assert statements["DynamoDBDescribesTheKey"]["Principal"] == {"Service": ["dynamodb.amazonaws.com"]}


def test_an_intrinsic_key_is_recorded_as_text_in_the_metadata():
    body = render(message_kms_key={"Ref": "MessageKey"})
    assert body["Metadata"]["WatchbotCfn"]["Watchbot"]["KeyPolicy"]["message_kms_key"]["Key"] == \
        '{"Ref": "MessageKey"}'


# --- bad keys ---------------------------------------------------------------------

@pytest.mark.parametrize("option", ["message_kms_key", "log_kms_key", "progress_table_kms_key"])
@pytest.mark.parametrize("value", ["alias/workers", "arn:aws:kms:us-east-1:123456789012:alias/workers",
                                   "1234abcd-12ab-34cd-56ef-1234567890ab"])
def test_an_alias_or_a_bare_key_id_is_refused_with_the_reason(option, value):
    with pytest.raises(OptionsError, match=rf"option '{option}'.*a KMS key ARN such as .*IAM policies and "
                                           "CloudWatch Logs need the key ARN"):
        render(**{option: value, "reduce": True})


def test_a_table_key_needs_reduce_mode():
    with pytest.raises(OptionsError, match="progress_table_kms_key.*applies only with reduce=True"):
        render(progress_table_kms_key=TABLE_KEY)
