"""Customer managed KMS keys: what this system's roles may do with them, and what each key's own policy must allow.

A key given as ``message_kms_key``, ``log_kms_key`` or ``progress_table_kms_key``
belongs to the user, so this template cannot write its key policy. Two halves:

- The roles here get exactly the key permissions their calls need, each only
  through the one service that uses the key for them (``kms:ViaService``) and
  for this system's own queue, topic or table (the encryption context): the
  watcher decrypts what it receives, publishers generate and check data keys,
  DynamoDB decrypts the table key for the worker.
- Services that use the key on their own account (SNS delivering to the
  encrypted queue, CloudWatch alarms publishing, ``topic_publishers``, CloudWatch
  Logs writing the log group, DynamoDB describing the key) must be named in the
  key policy. :func:`key_policy` writes those statements with ``<stack>``,
  ``<region>``, ``<account>``, ``<partition>`` and ``<url-suffix>`` standing for
  the stack that runs this system; the template carries them in its Metadata
  and ``watchbot-cfn key-policy`` fills them in.
"""

from __future__ import annotations

import json
from typing import Any

import awacs.kms
from awacs.aws import Allow, Condition, Statement, StringEquals
from troposphere import GetAtt, Ref, encode_to_dict

from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options
from watchbot_cfn.resources import policies

__all__ = ["KEY_OPTIONS", "PARTS_KEY", "PLACEHOLDERS", "QUEUE_KEY", "TABLE_KEY", "TOPIC_KEY", "key_policy", "parts_key",
           "queue_key", "table_key", "topic_key"]

#: Sids of the role statements.
QUEUE_KEY = "WorkQueueKey"
PARTS_KEY = "WorkQueuePartsKey"
TOPIC_KEY = "WorkTopicKey"
TABLE_KEY = "ProgressTableKey"
#: The options that name a key, in the order the key policy snippet lists them.
KEY_OPTIONS = ("message_kms_key", "log_kms_key", "progress_table_kms_key")

#: What a publisher needs on a topic's key (SNS checks each new data key with Decrypt).
PUBLISH = [awacs.kms.GenerateDataKey, awacs.kms.Decrypt]


def _through(service: str, context_key: str, context_value: Any) -> Condition:
    return Condition(StringEquals({"kms:ViaService": policies.via_service(service),
                                   f"kms:EncryptionContext:{context_key}": context_value}))


def queue_key(options: Options, names: Names) -> Statement | None:
    """The watcher's right to read its encrypted work queue: SQS decrypts the data key for each receive."""
    if options.message_kms_key is None:
        return None
    return Statement(Sid=QUEUE_KEY, Effect=Allow, Action=[awacs.kms.Decrypt], Resource=[options.message_kms_key],
                     Condition=_through("sqs", "aws:sqs:arn", GetAtt(names.queue, "Arn")))


def parts_key(options: Options, names: Names) -> Statement | None:
    """FIFO reduce mode sends a job's parts to the encrypted queue: SQS generates a data key for the sender
    (and checks it with Decrypt, which :func:`queue_key` grants)."""
    if options.message_kms_key is None or not (options.fifo and options.reduce):
        return None
    return Statement(Sid=PARTS_KEY, Effect=Allow, Action=[awacs.kms.GenerateDataKey],
                     Resource=[options.message_kms_key],
                     Condition=_through("sqs", "aws:sqs:arn", GetAtt(names.queue, "Arn")))


def topic_key(options: Options, names: Names) -> Statement | None:
    """A publisher's right to the work topic's key: SNS generates (and checks) a data key for it."""
    if options.message_kms_key is None or options.fifo:
        return None
    return Statement(Sid=TOPIC_KEY, Effect=Allow, Action=list(PUBLISH), Resource=[options.message_kms_key],
                     Condition=_through("sns", "aws:sns:topicArn", Ref(names.topic)))


def table_key(options: Options, names: Names) -> Statement | None:
    """The worker's right to the progress table's key: DynamoDB decrypts the table key on its behalf."""
    if options.progress_table_kms_key is None or not options.reduce:
        return None
    return Statement(Sid=TABLE_KEY, Effect=Allow, Action=[awacs.kms.Decrypt],
                     Resource=[options.progress_table_kms_key],
                     Condition=_through("dynamodb", "aws:dynamodb:tableName", Ref(names.progress_table)))


# --- the key policies (the user's to apply) -------------------------------------

#: Placeholder -> the pseudo parameter it stands for (in the stack that runs the system).
PLACEHOLDERS = {"<stack>": "AWS::StackName", "<region>": "AWS::Region", "<account>": "AWS::AccountId",
                "<partition>": "AWS::Partition", "<url-suffix>": "AWS::URLSuffix"}
ACCOUNT_ROOT = "arn:<partition>:iam::<account>:root"


def _text(value: Any) -> str:
    """A name from naming.py as plain text with placeholders (the snippet is data, not an intrinsic)."""
    data = encode_to_dict(value)
    text = data["Fn::Sub"] if isinstance(data, dict) and isinstance(data.get("Fn::Sub"), str) else str(data)
    for placeholder, pseudo in PLACEHOLDERS.items():
        text = text.replace(f"${{{pseudo}}}", placeholder)
    return text


def _service(sid: str, services: list[str], actions: list[str], condition: dict[str, Any] | None = None
             ) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Principal": {"Service": services},
                                 "Action": actions, "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return statement


def _account_through(sid: str, services: list[str], actions: list[str]) -> dict[str, Any]:
    """IAM policies of this account may grant ``actions``, used through ``services`` only."""
    via = [f"{service}.<region>.<url-suffix>" for service in services]
    return {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": ACCOUNT_ROOT}, "Action": actions, "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": via, "kms:CallerAccount": "<account>"}}}


def _message_key_statements(options: Options, names: Names) -> list[dict[str, Any]]:
    services = ["sqs"] if options.fifo else ["sqs", "sns"]
    statements = [_account_through("RolesOfThisAccountUseTheMessageKey", services,
                                   ["kms:Decrypt", "kms:GenerateDataKey"])]
    if not options.fifo:
        queue_name = "<queue name>" if names.queue_name is None else _text(names.queue_name)
        queue_arn = f"arn:<partition>:sqs:<region>:<account>:{queue_name}"
        statements.append(_service("SnsDeliversToTheWorkQueue", [policies.SNS], ["kms:GenerateDataKey", "kms:Decrypt"],
                                   {"StringEquals": {"kms:EncryptionContext:aws:sqs:arn": queue_arn}}))
    if options.notification_email is not None:
        statements.append(_service("AlarmsPublishToTheAlarmTopic", [policies.CLOUDWATCH],
                                   ["kms:GenerateDataKey*", "kms:Decrypt"]))
    publishers = list(dict.fromkeys(options.topic_publishers))
    if publishers:
        statements.append(_service("ServicesPublishToTheWorkTopic", publishers,
                                   ["kms:GenerateDataKey*", "kms:Decrypt"]))
    return statements


def _log_key_statements(names: Names) -> list[dict[str, Any]]:
    group_name = "<log group name>" if names.log_group_name is None else _text(names.log_group_name)
    group_arn = f"arn:<partition>:logs:<region>:<account>:log-group:{group_name}"
    return [_service("CloudWatchLogsEncryptsTheLogGroup", ["logs.<region>.<url-suffix>"],
                     ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                     {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": group_arn}})]


def _table_key_statements() -> list[dict[str, Any]]:
    return [
        # Whoever deploys the stack creates the table (and DynamoDB's grant on the key) through DynamoDB;
        # the worker's reads and writes decrypt the table key through it.
        _account_through("RolesOfThisAccountUseTheTableKey", ["dynamodb"],
                         ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey",
                          "kms:CreateGrant"]),
        _service("DynamoDBDescribesTheKey", ["dynamodb.amazonaws.com"], ["kms:Describe*", "kms:Get*", "kms:List*"]),
    ]


def key_policy(options: Options, names: Names) -> dict[str, Any]:
    """Option name -> {"Key": the key, "Statement": [...]} for each key given; {} when none is.

    Statements are plain data with the placeholders of :data:`PLACEHOLDERS`.
    """
    built = {
        "message_kms_key": lambda: _message_key_statements(options, names),
        "log_kms_key": lambda: _log_key_statements(names),
        "progress_table_kms_key": _table_key_statements,
    }
    snippet: dict[str, Any] = {}
    for name in KEY_OPTIONS:
        key = getattr(options, name)
        if key is None or (name == "progress_table_kms_key" and not options.reduce):
            continue
        shown = key if options.is_literal(name) else json.dumps(encode_to_dict(key), sort_keys=True)
        snippet[name] = {"Key": shown, "Statement": built[name]()}
    return snippet
