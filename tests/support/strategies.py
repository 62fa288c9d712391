"""Hypothesis strategies derived from the option declarations.

Bounds, choices and patterns are read from each option's constraint (and,
for watcher settings, from ``contract.SETTINGS``), so a changed range moves
the tests with it. The only hand-written values here are realistic samples
for free-form text (a cluster name, an email address), which no constraint
can describe, and the parameter types intrinsics refer to.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from troposphere import Ref

from watchbot_cfn.constraints import (
    Bool,
    Choice,
    CommandList,
    Constraint,
    EnvMap,
    FromSetting,
    Int,
    ListOf,
    Mounts,
    Number,
    Period,
    Placement,
    Record,
    SecretMap,
    Statements,
    Text,
)
from watchbot_cfn.options import OptionSpec

__all__ = ["INTRINSIC_PARAMETERS", "invalid_values", "ref", "valid_values"]

#: Parameter each intrinsic-accepting option refers to, and its CloudFormation type. Placement lists take
#: intrinsics too (an Fn::If, say), but no parameter type yields a list of objects, so none is drawn for them.
INTRINSIC_PARAMETERS: dict[str, tuple[str, str]] = {
    "cluster": ("Cluster", "String"),
    "service_version": ("GitSha", "String"),
    "image": ("Image", "String"),
    "family": ("Family", "String"),
    "fargate_subnets": ("Subnets", "List<AWS::EC2::Subnet::Id>"),
    "fargate_security_groups": ("SecurityGroups", "List<AWS::EC2::SecurityGroup::Id>"),
    "fargate_public_ip": ("PublicIp", "String"),
    "max_size": ("MaxSize", "Number"),
    "min_size": ("MinSize", "Number"),
    "max_job_duration": ("MaxJobDuration", "Number"),
    "message_retention": ("Retention", "Number"),
    "notification_email": ("AlarmEmail", "String"),
    "notification_topic": ("AlarmTopic", "String"),
    "autoscaling_role_arn": ("ScalingRoleArn", "String"),
    "secrets": ("TokenArn", "String"),
    "message_kms_key": ("MessageKeyArn", "String"),
    "log_kms_key": ("LogKeyArn", "String"),
    "progress_table_kms_key": ("TableKeyArn", "String"),
}

#: Realistic samples for free-form text options (their constraint only says "a non-empty string").
TEXT_SAMPLES: dict[str, list[str]] = {
    "cluster": ["processing", "arn:aws:ecs:us-east-1:123456789012:cluster/processing"],
    "command": ["python -m worker", "./run.sh \"$Message\""],
    "image": ["python:3.12", "123456789012.dkr.ecr.us-east-1.amazonaws.com/base:1"],
    "notification_email": ["ops@example.com"],
    "notification_topic": ["arn:aws:sns:us-east-1:123456789012:alarms"],
    "autoscaling_role_arn": ["arn:aws:iam::123456789012:role/scaling"],
    "runbook_url": ["https://runbooks.example.com/watchbot"],
    "metric_namespace": ["Watchbot", "Team/Workers"],
    "message_kms_key": ["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
    "log_kms_key": ["arn:aws:kms:eu-west-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef"],
    "progress_table_kms_key": ["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
    "topic_publishers[]": ["s3.amazonaws.com", "events.amazonaws.com"],
}
SECRET_SAMPLES = ["arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
                  "arn:aws:ssm:us-east-1:123456789012:parameter/worker/token", "/worker/key"]
STATEMENT_SAMPLE = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::inputs/*"}
#: A realistic object for each placement type.
PLACEMENT_SAMPLES: dict[str, dict[str, str]] = {
    "distinctInstance": {"Type": "distinctInstance"},
    "memberOf": {"Type": "memberOf", "Expression": "attribute:ecs.instance-type =~ t3.*"},
    "random": {"Type": "random"},
    "spread": {"Type": "spread", "Field": "attribute:ecs.availability-zone"},
    "binpack": {"Type": "binpack", "Field": "memory"},
}
#: Highest value drawn for an option with no upper bound.
OPEN_RANGE = 1000


def ref(name: str) -> st.SearchStrategy[Any]:
    """An intrinsic as a file would give it, or as Python code would."""
    return st.sampled_from([{"Ref": name}, Ref(name)])


def _ascii(pattern: str) -> st.SearchStrategy[str]:
    return st.from_regex(pattern, fullmatch=True, alphabet=st.characters(codec="ascii"))


def constraint_values(accepts: Constraint, name: str = "") -> st.SearchStrategy[Any]:
    """Literal values ``accepts`` takes, read from its fields."""
    if isinstance(accepts, FromSetting):
        return constraint_values(accepts.bounds, name)
    if isinstance(accepts, Bool):
        return st.booleans()
    if isinstance(accepts, Number):
        high = accepts.high if accepts.high is not None else accepts.low + OPEN_RANGE
        return st.integers(accepts.low, high) | st.floats(accepts.low, high, allow_nan=False).map(
            lambda v: round(v, 1)).filter(lambda v: accepts.low <= v <= high)
    if isinstance(accepts, Int):
        return st.integers(accepts.low, accepts.high if accepts.high is not None else accepts.low + OPEN_RANGE)
    if isinstance(accepts, Choice):
        return st.sampled_from(accepts.values)
    if isinstance(accepts, Period):
        multiples = st.integers(1, accepts.high // accepts.step).map(lambda n: n * accepts.step)
        return st.sampled_from(accepts.short) | multiples if accepts.short else multiples
    if isinstance(accepts, Text):
        if name in TEXT_SAMPLES:
            return st.sampled_from(TEXT_SAMPLES[name])
        if accepts.pattern is None:
            return st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20)
        return _ascii(accepts.pattern).filter(lambda text: len(text) <= 60)
    if isinstance(accepts, ListOf):
        return st.lists(constraint_values(accepts.item, f"{name}[]"), min_size=1, max_size=2, unique_by=repr)
    if isinstance(accepts, Record):
        return st.fixed_dictionaries(
            {key: constraint_values(check) for key, check in accepts.fields if key in accepts.required},
            optional={key: constraint_values(check) for key, check in accepts.fields
                      if key not in accepts.required})
    if isinstance(accepts, CommandList):
        return st.sampled_from(accepts.first[:2]).map(lambda first: [first, "test -f /tmp/alive"])
    if isinstance(accepts, Placement):
        return st.lists(st.sampled_from(accepts.types).map(lambda kind: PLACEMENT_SAMPLES[kind]), min_size=1,
                        max_size=2)
    if isinstance(accepts, Mounts):
        return st.sampled_from(["/tmp", "/data,/tmp", ["/data", "/tmp"]])
    if isinstance(accepts, EnvMap):
        return st.dictionaries(st.sampled_from(["MODE", "LIMIT", "DEBUG"]), st.sampled_from(["fast", 3, True, 0.5]),
                               max_size=3)
    if isinstance(accepts, SecretMap):
        return st.dictionaries(st.sampled_from(["DB", "TOKEN", "KEY"]),
                               st.sampled_from(SECRET_SAMPLES) | ref("TokenArn"), max_size=2)
    if isinstance(accepts, Statements):
        return st.lists(st.just(STATEMENT_SAMPLE), max_size=1)
    raise TypeError(f"no strategy for {type(accepts).__name__}")


def valid_values(spec: OptionSpec) -> st.SearchStrategy[Any]:
    """Values the option takes: literals from its constraint, and an intrinsic where one is allowed."""
    values = constraint_values(spec.accepts, spec.name)
    if spec.intrinsic and spec.name in INTRINSIC_PARAMETERS and not isinstance(spec.accepts, SecretMap):
        values = values | ref(INTRINSIC_PARAMETERS[spec.name][0])
    return values


def invalid_values(spec: OptionSpec) -> list[Any]:
    """Values the option never accepts: just past each bound, outside the choices, the wrong type."""
    accepts = spec.accepts.bounds if isinstance(spec.accepts, FromSetting) else spec.accepts
    wrong: list[Any] = []
    if isinstance(accepts, Int):
        wrong += [accepts.low - 1] + ([accepts.high + 1] if accepts.high is not None else [])
        wrong.append(str(accepts.low))
    elif isinstance(accepts, Bool):
        wrong += ["yes", 1]
    elif isinstance(accepts, Period):
        wrong += [accepts.step + 1, accepts.high + accepts.step, 0]
    elif isinstance(accepts, Choice):
        wrong.append(45 if all(isinstance(v, int) for v in accepts.values) else "NOT-A-CHOICE")
    elif isinstance(accepts, Text):
        wrong.append("")
        if accepts.pattern is not None:
            wrong.append("has space:and colon")
    elif isinstance(accepts, (ListOf, Placement)):
        wrong.append([{"Type": "anywhere"}] if isinstance(accepts, Placement) else ["not-an-id"])
    elif isinstance(accepts, Record):
        wrong.append({"unknown_key": 1})
    elif isinstance(accepts, Mounts):
        wrong += ["relative/path", "/a,/a", "//"]
    elif isinstance(accepts, EnvMap):
        wrong += [{"QueueUrl": "elsewhere"}, {"bad-name": "x"}]
    elif isinstance(accepts, SecretMap):
        wrong += [{"TOKEN": 5}, {"TOKEN": "arn:aws:s3:::bucket"}]
    elif isinstance(accepts, Statements):
        wrong += [[{**STATEMENT_SAMPLE, "Principal": "*"}], ["s3:GetObject"]]
    if not spec.intrinsic:
        wrong.append({"Ref": "AnyParameter"})
    return wrong
