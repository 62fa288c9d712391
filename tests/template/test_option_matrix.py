"""Property: every option set either raises OptionsError or renders a template
that cfn-lint passes with no errors and no warnings.

Option sets are drawn coherently (Fargate options with Fargate capacity, ...)
and then, for about half of them, one option is replaced by a value that is
not allowed, so both outcomes are exercised. Intrinsics appear both as dicts
(as read from TOML) and as troposphere objects; the parameters they refer to
are added before linting. Examples per run follow the hypothesis profile in
tests/conftest.py (HYPOTHESIS_PROFILE=deep for many more).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import event, example, given, note
from hypothesis import strategies as st
from troposphere import Parameter, Ref

from tests.support.templates import walk
from watchbot_cfn import template
from watchbot_cfn.errors import OptionsError
from watchbot_cfn.lint import lint

#: Parameters an intrinsic option may refer to, and their types.
PARAMETER_TYPES = {
    "Cluster": "String",
    "GitSha": "String",
    "Image": "String",
    "Subnets": "List<AWS::EC2::Subnet::Id>",
    "SecurityGroup": "AWS::EC2::SecurityGroup::Id",
    "MaxSize": "Number",
    "MinSize": "Number",
    "MaxJobDuration": "Number",
    "Retention": "Number",
    "TokenArn": "String",
    "AlarmTopic": "String",
    "AlarmEmail": "String",
    "Family": "String",
    "PublicIp": "String",
    "ScalingRoleArn": "String",
}

SUBNETS = ["subnet-0123abcd", "subnet-0123456789abcdef0"]
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
PARAMETER_ARN = "arn:aws:ssm:us-east-1:123456789012:parameter/worker/token"
READ_BUCKET = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::inputs/*"}


def ref(name: str) -> st.SearchStrategy[Any]:
    """An intrinsic as a file would give it, or as Python code would."""
    return st.sampled_from([{"Ref": name}, Ref(name)])


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


#: One strategy of valid values per option that does not depend on another.
INDEPENDENT: dict[str, st.SearchStrategy[Any]] = {
    "cluster": st.sampled_from(["processing", "arn:aws:ecs:us-east-1:123456789012:cluster/processing"])
    | ref("Cluster"),
    "service": st.sampled_from(["worker", "team/worker.v2"]),
    "service_version": st.from_regex(r"[0-9a-f]{7,40}", fullmatch=True) | ref("GitSha"),
    "command": st.sampled_from(["python -m worker", "./run.sh \"$Message\""]),
    "prefix": st.from_regex(r"[A-Z][A-Za-z0-9]{0,31}", fullmatch=True),
    "family": optional(st.from_regex(r"[a-z][a-z0-9_-]{0,40}", fullmatch=True) | ref("Family")),
    "image": optional(st.sampled_from(["python:3.12", "123456789012.dkr.ecr.us-east-1.amazonaws.com/base:1"])
                      | ref("Image")),
    "container_name": optional(st.sampled_from(["watcher", "worker_1"])),
    "writable_filesystem": st.booleans(),
    "env": st.dictionaries(st.sampled_from(["MODE", "LIMIT", "DEBUG"]),
                           st.sampled_from(["fast", 3, True, 0.5]), max_size=3),
    "secrets": st.dictionaries(st.sampled_from(["DB", "TOKEN", "KEY"]),
                               st.sampled_from([SECRET_ARN, PARAMETER_ARN, "/worker/key"]) | ref("TokenArn"),
                               max_size=2),
    "health_check": optional(st.fixed_dictionaries(
        {"command": st.just(["CMD-SHELL", "test -f /tmp/alive"])},
        optional={"interval": st.integers(5, 300), "timeout": st.integers(2, 60), "retries": st.integers(1, 10),
                  "start_period": st.integers(0, 300)})),
    "structured_logging": st.booleans(),
    "log_retention_days": st.sampled_from([1, 14, 365, 3653]),
    "permissions": st.lists(st.just(READ_BUCKET), max_size=1),
    "max_job_duration": st.integers(0, 43_200) | ref("MaxJobDuration"),
    "concurrency": st.integers(1, 100),
    "visibility_timeout": st.integers(30, 43_200),
    "message_retention": st.integers(60, 1_209_600) | ref("Retention"),
    "dead_letter_threshold": st.integers(1, 1000),
    "error_threshold": st.integers(0, 1000),
    "alarm_threshold": st.integers(0, 1000),
    "alarm_periods": st.integers(1, 48),
    "dead_letter_alarm": st.booleans(),
    "memory_threshold": st.integers(1, 1000),
    "cpu_threshold": st.integers(1, 1000),
    "dashboard": st.booleans(),
    "scaling_mode": st.sampled_from(["queue-depth", "backlog-per-task"]),
    "scale_out_cooldown": st.integers(0, 86_400),
    "scale_in_cooldown": st.integers(0, 86_400),
    "scale_out_period": st.sampled_from([60, 120, 300, 900]),
    "scale_out_step": optional(st.integers(1, 10_000)),
    "scale_in_idle_minutes": st.integers(1, 1440),
    "target_latency": st.integers(1, 86_400),
    "typical_job_duration": st.integers(1, 86_400),
    "autoscaling_role_arn": optional(st.just("arn:aws:iam::123456789012:role/scaling") | ref("ScalingRoleArn")),
}

#: Values each option never accepts, alone or in any combination.
INVALID: dict[str, list[Any]] = {
    "cluster": [""],
    "service": ["Bad Name"],
    "service_version": ["v1:latest"],
    "command": [""],
    "prefix": ["my-prefix", "9lives"],
    "family": ["my.family"],
    "capacity": ["LAMBDA"],
    "fargate_public_ip": ["YES"],
    "reservation": [{"memory": -1}, {"gpu": 1}],
    "runtime_platform": [{"cpu_architecture": "MIPS"}],
    "ephemeral_storage_gib": [10],
    "privileged": ["yes"],
    "mounts": ["relative/path", "/a,/a"],
    "env": [{"QueueUrl": "elsewhere"}, {"bad-name": "x"}],
    "secrets": [{"TOKEN": 5}, {"TOKEN": "arn:aws:s3:::bucket"}],
    "health_check": [{"command": ["CMD", "true"], "interval": 1}],
    "log_retention_days": [2],
    "permissions": [[{**READ_BUCKET, "Principal": "*"}], ["s3:GetObject"]],
    "max_job_duration": [43_201, -1],
    "concurrency": [0, {"Ref": "Jobs"}],
    "stop_timeout": [121],
    "visibility_timeout": [29],
    "message_retention": [59, 1_209_601],
    "dead_letter_threshold": [0],
    "fifo": [1],
    "max_size": [10_001],
    "scale_out_period": [45],
    "unknown_option": [True],
    "deadletterThreshold": [3],
}


@st.composite
def valid_option_sets(draw: st.DrawFn) -> dict[str, Any]:
    """Options that should render: independent ones, then those that depend on others."""
    chosen = {name: draw(strategy) for name, strategy in INDEPENDENT.items()}
    chosen = {name: value for name, value in chosen.items() if value is not None}
    capacity = draw(st.sampled_from(["EC2", "FARGATE", "FARGATE_SPOT"]))
    chosen["capacity"] = capacity
    if capacity == "EC2":
        chosen["privileged"] = draw(st.booleans())
        chosen["mounts"] = draw(optional(st.sampled_from(["/tmp", "/data,/tmp", ["/mnt/cache:/cache", "/tmp"]])))
        chosen["reservation"] = draw(st.sampled_from([{}, {"soft_memory": 512}, {"memory": 2048, "cpu": 512},
                                                      {"memory": 1024, "soft_memory": 256, "cpu": 128}]))
        chosen["placement_constraints"] = draw(optional(st.just([{"Type": "distinctInstance"}])))
        chosen["placement_strategies"] = draw(optional(st.just([{"Type": "binpack", "Field": "memory"}])))
    else:
        chosen["fargate_subnets"] = draw(st.lists(st.sampled_from(SUBNETS), min_size=1, max_size=2, unique=True)
                                         | ref("Subnets"))
        chosen["fargate_security_groups"] = draw(optional(st.just([{"Ref": "SecurityGroup"}])))
        chosen["fargate_public_ip"] = draw(st.sampled_from(["ENABLED", "DISABLED"]) | ref("PublicIp"))
        chosen["mounts"] = draw(optional(st.sampled_from(["/tmp", ["/data", "/tmp"]])))
        chosen["reservation"] = draw(st.sampled_from([{}, {"cpu": 256, "memory": 2048}, {"cpu": 1024, "memory": 4096},
                                                      {"cpu": 4096, "memory": 30720}]))
        chosen["ephemeral_storage_gib"] = draw(optional(st.integers(21, 200)))
    chosen["runtime_platform"] = draw(optional(st.sampled_from([{"cpu_architecture": "ARM64"},
                                                                {"cpu_architecture": "X86_64", "os_family": "LINUX"}])))
    chosen["stop_timeout"] = draw(st.integers(2, 120))
    chosen["drain_timeout"] = draw(st.integers(0, chosen["stop_timeout"] - 1))
    chosen["fifo"] = draw(st.booleans())
    chosen["webhook"] = False if chosen["fifo"] else draw(st.booleans())
    chosen["reduce"] = draw(st.booleans())
    if chosen["reduce"] and draw(st.booleans()):
        chosen["read_capacity_units"] = draw(st.integers(1, 40_000))
        chosen["write_capacity_units"] = draw(st.integers(1, 40_000))
    if draw(st.booleans()):
        chosen["notification_email"] = draw(st.just("ops@example.com") | ref("AlarmEmail"))
    else:
        chosen["notification_topic"] = draw(st.just("arn:aws:sns:us-east-1:123456789012:alarms") | ref("AlarmTopic"))
    if draw(st.booleans()):
        chosen["max_size"] = draw(st.integers(0, 10_000))
        chosen["min_size"] = draw(st.integers(0, chosen["max_size"]))
    else:
        chosen["max_size"] = draw(ref("MaxSize"))
        chosen["min_size"] = draw(st.integers(0, 3) | ref("MinSize"))
    return chosen


@st.composite
def option_sets(draw: st.DrawFn) -> dict[str, Any]:
    """A valid set, or one with a single value that is never allowed."""
    chosen = draw(valid_option_sets())
    if draw(st.booleans()):
        name = draw(st.sampled_from(sorted(INVALID)))
        chosen[name] = draw(st.sampled_from(INVALID[name]))
        note(f"invalid {name}={chosen[name]!r}")
    return chosen


def with_referenced_parameters(built: Any) -> dict[str, Any]:
    """The rendered template plus a Parameter for every intrinsic option's Ref."""
    body = built.to_dict()
    referenced = {node["Ref"] for node in walk(body) if isinstance(node, dict) and "Ref" in node}
    for name in sorted(referenced & set(PARAMETER_TYPES)):
        built.add_parameter(Parameter(name, Type=PARAMETER_TYPES[name]))
    return built.to_dict()


MINIMAL = {"cluster": "processing", "service": "worker", "service_version": "0123abcd", "command": "run",
           "notification_email": "ops@example.com"}


@pytest.mark.timeout(3600)  # HYPOTHESIS_PROFILE=deep lints hundreds of templates
def test_every_option_set_raises_options_error_or_lints_clean():
    outcomes: Counter[str] = Counter()

    @example(MINIMAL)
    @example({**MINIMAL, "capacity": "FARGATE"})  # no subnets
    @given(option_sets())
    def check(given_options: dict[str, Any]) -> None:
        try:
            built = template(**given_options)
        except OptionsError as error:
            outcomes["rejected"] += 1
            event(f"rejected: {error.option}")
            return
        body = with_referenced_parameters(built)
        findings = [str(f) for f in lint(body) if f.level != "informational"]
        assert findings == []
        outcomes["rendered"] += 1
        event("rendered")
        assert all("DesiredCount" not in r.get("Properties", {})
                   for r in body["Resources"].values() if r["Type"] == "AWS::ECS::Service")

    check()
    assert outcomes["rejected"] >= 1 and outcomes["rendered"] >= 1, outcomes
