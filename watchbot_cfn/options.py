"""Every option of ``watchbot_cfn.template()``, defined once.

Each option is a dataclass field whose metadata carries its one-line doc, the
original Watchbot (camelCase) name, whether it accepts a CloudFormation
intrinsic, and a check. ``Options.build(**kwargs)`` validates everything before
any resource is built, so bad input never yields a partial template.
``docs/options.md`` is generated from these definitions.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from watchbot_cfn import contract
from watchbot_cfn.errors import OptionsError
from watchbot_cfn.intrinsics import as_cfn, is_intrinsic

REQUIRED: Any = dataclasses.MISSING


class Invalid(Exception):
    """Raised by a check with a sentence saying what is allowed."""


Check = Callable[[Any], None]


def option(
    doc: str,
    default: Any = REQUIRED,
    *,
    legacy: str | None = None,
    check: Check | None = None,
    intrinsic: bool = False,
    group: str = "core",
) -> Any:
    """Declare one option: its doc line, default, original name and check."""
    metadata = {"doc": doc, "legacy": legacy, "check": check, "intrinsic": intrinsic, "group": group}
    if isinstance(default, (list, dict)):
        frozen = default
        return field(default_factory=lambda: type(frozen)(frozen), metadata=metadata)
    return field(default=default, metadata=metadata)


# --- checks -----------------------------------------------------------------

def is_str(value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise Invalid("expected a non-empty string")


def is_bool(value: Any) -> None:
    if not isinstance(value, bool):
        raise Invalid("expected true or false")


def int_range(low: int, high: int | None = None) -> Check:
    def check(value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"expected a whole number{_range_text(low, high)}")
        if value < low or (high is not None and value > high):
            raise Invalid(f"expected a whole number{_range_text(low, high)}")

    return check


def _range_text(low: int, high: int | None) -> str:
    return f" from {low:,} to {high:,}" if high is not None else f" of at least {low:,}"


def one_of(*allowed: Any) -> Check:
    def check(value: Any) -> None:
        if value not in allowed:
            raise Invalid("allowed: " + ", ".join(repr(a) for a in allowed))

    return check


def list_of(item: Check) -> Check:
    def check(value: Any) -> None:
        if not isinstance(value, (list, tuple)):
            raise Invalid("expected a list")
        for element in value:
            if not is_intrinsic(element):
                item(element)

    return check


def list_of_dicts(value: Any) -> None:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, dict) for v in value):
        raise Invalid("expected a list of objects")


def str_map(value: Any) -> None:
    if not isinstance(value, dict):
        raise Invalid("expected a mapping of names to values")
    for key, item in value.items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise Invalid(f"names must be environment-variable names, not {key!r}")
        if not (isinstance(item, (str, int, float, bool)) or is_intrinsic(item)):
            raise Invalid(f"value of {key!r} must be a string, number or intrinsic")


def alphanumeric(value: Any) -> None:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,31}", value):
        raise Invalid("expected 1 to 32 letters and digits, starting with a letter")


def service_name(value: Any) -> None:
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9][a-z0-9._/-]{0,127}", value):
        raise Invalid("expected an ECR repository name: lowercase letters, digits, '.', '_', '-', '/'")


def container_name(value: Any) -> None:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,254}", value):
        raise Invalid("expected letters, digits, '-' and '_' (up to 255)")


def mounts_check(value: Any) -> None:
    entries = value.split(",") if isinstance(value, str) else value
    if not isinstance(entries, (list, tuple)):
        raise Invalid("expected a list of 'containerPath' or 'hostPath:containerPath' strings")
    containers: list[str] = []
    for entry in entries:
        if not isinstance(entry, str):
            raise Invalid("expected a list of 'containerPath' or 'hostPath:containerPath' strings")
        paths = entry.strip().split(":")
        if len(paths) > 2:
            raise Invalid(f"expected 'containerPath' or 'hostPath:containerPath', not {entry!r}")
        for path in paths:
            if not path.startswith("/"):
                raise Invalid(f"mount paths must be absolute, not {entry!r}")
        containers.append(paths[-1])
    repeated = sorted({c for c in containers if containers.count(c) > 1})
    if repeated:
        raise Invalid(f"each container path may be mounted once; repeated: {repeated}")


def aws_id(kind: str) -> Check:
    """EC2 ids such as ``subnet-0123abcd`` (8 or 17 hex digits)."""
    def check(value: Any) -> None:
        if not isinstance(value, str) or not re.fullmatch(rf"{kind}-([0-9a-f]{{8}}|[0-9a-f]{{17}})", value):
            raise Invalid(f"expected ids such as {kind}-0123abcd (8 or 17 hex digits), not {value!r}")

    return check


def docker_tag(value: Any) -> None:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", value):
        raise Invalid("expected an image tag: letters, digits, '_', '.', '-' (up to 128), such as a git sha")


def task_family(value: Any) -> None:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,255}", value):
        raise Invalid("expected letters, digits, '-' and '_' (up to 255)")


def secret_map(value: Any) -> None:
    """Variable name -> Secrets Manager ARN, SSM parameter ARN or SSM parameter name."""
    if not isinstance(value, dict):
        raise Invalid("expected a mapping of variable names to secret or parameter ARNs")
    for key, item in value.items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise Invalid(f"names must be environment-variable names, not {key!r}")
        if is_intrinsic(item):
            continue
        if not isinstance(item, str) or not item or "${" in item:
            raise Invalid(f"value of {key!r} must be a secret ARN, a parameter ARN or name, or an intrinsic")
        if item.startswith("arn:") and not re.fullmatch(r"arn:[\w-]+:(secretsmanager|ssm):[\w-]+:\d{12}:.+", item):
            raise Invalid(f"value of {key!r} must be a Secrets Manager or SSM parameter ARN, not {item!r}")


_STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}


def statements_check(value: Any) -> None:
    """IAM statements for the task role: awacs Statements or dicts in CloudFormation form."""
    from awacs.aws import Statement

    if not isinstance(value, (list, tuple)):
        raise Invalid("expected a list of IAM statements")
    for statement in value:
        if isinstance(statement, Statement):
            continue
        if not isinstance(statement, dict):
            raise Invalid("each statement must be an object (Effect, Action, Resource) or an awacs Statement")
        unknown = set(statement) - _STATEMENT_KEYS
        if unknown:
            raise Invalid(f"unknown statement keys {sorted(unknown)}; a role's statements take no Principal"
                          if "Principal" in unknown else f"unknown statement keys {sorted(unknown)}")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise Invalid("each statement needs Effect 'Allow' or 'Deny'")
        if ("Action" in statement) == ("NotAction" in statement):
            raise Invalid("each statement needs exactly one of Action or NotAction")
        if ("Resource" in statement) == ("NotResource" in statement):
            raise Invalid("each statement needs exactly one of Resource or NotResource")


def placement_check(types: tuple[str, ...], keys: frozenset[str]) -> Check:
    """ECS placement objects in CloudFormation form (Type plus Expression or Field)."""
    def check(value: Any) -> None:
        list_of_dicts(value)
        for item in value:
            if is_intrinsic(item):
                continue
            unknown = set(item) - keys - {"Type"}
            if unknown:
                raise Invalid(f"unknown keys {sorted(unknown)}; allowed: Type, {', '.join(sorted(keys))}")
            if item.get("Type") not in types:
                raise Invalid("Type must be one of " + ", ".join(types))

    return check


def reservation_check(value: Any) -> None:
    if not isinstance(value, dict):
        raise Invalid("expected an object with memory, soft_memory and/or cpu")
    unknown = set(value) - {"memory", "soft_memory", "cpu"}
    if unknown:
        raise Invalid(f"unknown keys {sorted(unknown)}; allowed: memory, soft_memory, cpu")
    for item in value.values():
        if not is_intrinsic(item):
            int_range(1)(item)


def runtime_platform_check(value: Any) -> None:
    if not isinstance(value, dict) or set(value) - {"cpu_architecture", "os_family"}:
        raise Invalid("expected an object with cpu_architecture (X86_64 | ARM64) and/or os_family")
    one_of("X86_64", "ARM64")(value.get("cpu_architecture", "X86_64"))
    if value.get("os_family", "LINUX") != "LINUX":
        raise Invalid("os_family must be LINUX: the watcher runs on Linux only")


def health_check_check(value: Any) -> None:
    if not isinstance(value, dict) or "command" not in value:
        raise Invalid("expected an object with command (list of strings) and optional interval, "
                      "timeout, retries, start_period")
    unknown = set(value) - {"command", "interval", "timeout", "retries", "start_period"}
    if unknown:
        raise Invalid(f"unknown keys {sorted(unknown)}")
    if not isinstance(value["command"], list) or not all(isinstance(c, str) for c in value["command"]):
        raise Invalid("command must be a list of strings, e.g. ['CMD-SHELL', 'test -f /tmp/ok']")
    if not value["command"] or value["command"][0] not in ("CMD", "CMD-SHELL", "NONE"):
        raise Invalid("command must start with CMD, CMD-SHELL or NONE")
    for key, (low, high) in _HEALTH_CHECK_RANGES.items():
        if key in value:
            try:
                int_range(low, high)(value[key])
            except Invalid as invalid:
                raise Invalid(f"{key}: {invalid}") from None


#: ECS limits of the container health check, in seconds (retries: a count).
_HEALTH_CHECK_RANGES = {"interval": (5, 300), "timeout": (2, 60), "retries": (1, 10), "start_period": (0, 300)}


LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)

#: CPU units -> memory MiB values Fargate accepts for that CPU.
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}

CAPACITIES = ("EC2", "FARGATE", "FARGATE_SPOT")
SCALING_MODES = ("queue-depth", "backlog-per-task")


@dataclass(frozen=True)
class Options:
    """Validated options; build with ``Options.build(**kwargs)``."""

    # -- required
    cluster: Any = option("ECS cluster name or ARN the service runs on.", legacy="cluster",
                          check=is_str, intrinsic=True)
    service: str = option("Name of the service; also the ECR repository name of the default image.",
                          legacy="service", check=service_name)
    service_version: Any = option("Image tag (usually a git sha) of the default image.",
                                  legacy="serviceVersion", check=docker_tag, intrinsic=True)
    command: str = option("Shell command the watcher runs once per message.", legacy="command", check=is_str)

    # -- naming and image
    prefix: str = option("Prefix of every logical id and resource name; lets several systems share a template.",
                         "Watchbot", legacy="prefix", check=alphanumeric)
    family: Any = option("Task definition family; defaults to the service name.", None, legacy="family",
                         check=task_family, intrinsic=True)
    image: Any = option("Full image URI; defaults to <account>.dkr.ecr.<region>.amazonaws.com/<service>:"
                        "<service_version>.", None, check=is_str, intrinsic=True)
    container_name: str | None = option("Name of the watcher container; defaults to the service name.",
                                        None, check=container_name)

    # -- capacity and placement
    capacity: str = option("Where tasks run: EC2, FARGATE or FARGATE_SPOT.", "EC2", legacy="capacity",
                           check=one_of(*CAPACITIES))
    fargate_subnets: Any = option("Subnet ids for Fargate tasks (required with FARGATE/FARGATE_SPOT).", None,
                                  legacy="fargateSubnets", check=list_of(aws_id("subnet")), intrinsic=True)
    fargate_security_groups: Any = option("Security group ids for Fargate tasks.", None,
                                          legacy="fargateSecurityGroups", check=list_of(aws_id("sg")),
                                          intrinsic=True)
    fargate_public_ip: Any = option("Give Fargate tasks a public IP: ENABLED or DISABLED.", "DISABLED",
                                    legacy="fargatePublicIp", check=one_of("ENABLED", "DISABLED"),
                                    intrinsic=True)
    placement_constraints: Any = option("ECS placement constraints (EC2 only), as CloudFormation objects.",
                                        None, legacy="placementConstraints",
                                        check=placement_check(("distinctInstance", "memberOf"),
                                                              frozenset({"Expression"})),
                                        intrinsic=True)
    placement_strategies: Any = option("ECS placement strategies (EC2 only), as CloudFormation objects.",
                                       None, legacy="placementStrategies",
                                       check=placement_check(("random", "spread", "binpack"), frozenset({"Field"})),
                                       intrinsic=True)
    reservation: dict = option("Container resources: memory (hard MiB), soft_memory (MiB), cpu (units). "
                               "Fargate defaults to cpu 256 / memory 512.", {}, legacy="reservation",
                               check=reservation_check)
    runtime_platform: dict | None = option("CPU architecture (X86_64 | ARM64) and OS family of the task.",
                                           None, check=runtime_platform_check)
    ephemeral_storage_gib: int | None = option("Fargate ephemeral storage in GiB (21 to 200).", None,
                                               check=int_range(21, 200))
    privileged: bool = option("Run the container privileged (EC2 only).", False, legacy="privileged",
                              check=is_bool)

    # -- container
    writable_filesystem: bool = option("Writable root filesystem; the watcher then exits after one job "
                                       "so every job gets a fresh container.", False,
                                       legacy="writableFilesystem", check=is_bool)
    mounts: Any = option("Volumes: 'containerPath' (task-scoped) or 'hostPath:containerPath', as a list or "
                         "comma-separated string. Defaults to /tmp.", None, legacy="mounts", check=mounts_check)
    env: dict = option("Extra container environment variables.", {}, legacy="env", check=str_map)
    secrets: dict = option("Container secrets: variable name -> Secrets Manager or SSM parameter ARN.", {},
                           check=secret_map)
    health_check: dict | None = option("Container health check: command, interval, timeout, retries, "
                                       "start_period.", None, check=health_check_check)
    structured_logging: bool = option("Write JSON log lines instead of plain text.", False,
                                      legacy="structuredLogging", check=is_bool)
    log_retention_days: int = option("Days the log group keeps events.", 14,
                                     check=one_of(*LOG_RETENTION_DAYS))
    permissions: list = option("IAM statements (dicts or awacs Statements) added to the task role.", [],
                               legacy="permissions", check=statements_check)

    # -- jobs and queue
    max_job_duration: Any = option("Seconds after which a job is killed and its message returned "
                                   "(0 = no limit, at most 43,200).", 0, legacy="maxJobDuration",
                                   check=int_range(0, contract.MAX_JOB_DURATION), intrinsic=True)
    concurrency: int = option("Jobs one watcher (one task) runs at once.", 1, check=int_range(1, 100))
    drain_timeout: int = option("Seconds running jobs may finish after the task is told to stop; stop_timeout "
                                f"must be at least this plus {contract.SHUTDOWN_MARGIN}.",
                                contract.DEFAULT_DRAIN_TIMEOUT, check=int_range(0, 120 - contract.SHUTDOWN_MARGIN))
    stop_timeout: int = option("Seconds ECS waits after SIGTERM before SIGKILL (task StopTimeout).",
                               contract.DEFAULT_STOP_TIMEOUT, check=int_range(2, 120))
    visibility_timeout: int = option("Work queue visibility timeout in seconds; the watcher keeps extending "
                                     "it while a job runs.", contract.VISIBILITY_TIMEOUT,
                                     check=int_range(30, contract.MAX_VISIBILITY))
    message_retention: Any = option("Seconds a message may wait in the queues (60 to 1,209,600).", 1_209_600,
                                    legacy="messageRetention", check=int_range(60, 1_209_600), intrinsic=True)
    dead_letter_threshold: int = option("Receives after which SQS moves a message to the dead-letter queue.",
                                        contract.DEFAULT_DEAD_LETTER_THRESHOLD, legacy="deadletterThreshold",
                                        check=int_range(1, 1000))
    fifo: bool = option("Use FIFO queues (no SNS topic; send to the queue with a message group id).", False,
                        legacy="fifo", check=is_bool)

    # -- notifications and alarms
    notification_email: Any = option("Email address subscribed to a topic that receives alarms.", None,
                                     legacy="notificationEmail", check=is_str, intrinsic=True, group="alarms")
    notification_topic: Any = option("ARN of an existing SNS topic that receives alarms.", None,
                                     legacy="notificationTopic", check=is_str, intrinsic=True, group="alarms")
    error_threshold: int = option("WorkerErrors alarm: failed jobs per period above which it fires.", 10,
                                  legacy="errorThreshold", check=int_range(0), group="alarms")
    error_period: int = option("WorkerErrors alarm: period in seconds.", 60, check=int_range(10),
                               group="alarms")
    error_evaluation_periods: int = option("WorkerErrors alarm: periods evaluated.", 1, check=int_range(1),
                                           group="alarms")
    alarm_threshold: int = option("QueueSize alarm: visible messages above which it fires.", 40,
                                  legacy="alarmThreshold", check=int_range(0), group="alarms")
    alarm_periods: int = option("QueueSize alarm: periods evaluated.", 24, legacy="alarmPeriods",
                                check=int_range(1), group="alarms")
    alarm_period: int = option("QueueSize alarm: period in seconds.", 300, check=int_range(60),
                               group="alarms")
    dead_letter_alarm: bool = option("Alarm when any message is in the dead-letter queue.", True,
                                     legacy="deadLetterAlarm", check=is_bool, group="alarms")
    dead_letter_alarm_threshold: int = option("DeadLetterQueueSize alarm: visible messages at or above which "
                                              "it fires.", 1, check=int_range(1), group="alarms")
    dead_letter_alarm_period: int = option("DeadLetterQueueSize alarm: period in seconds.", 60,
                                           check=int_range(60), group="alarms")
    dead_letter_alarm_evaluation_periods: int = option("DeadLetterQueueSize alarm: periods evaluated.", 1,
                                                       check=int_range(1), group="alarms")
    memory_threshold: int = option("MemoryUtilization alarm: percent above which it fires.", 100,
                                   check=int_range(1, 1000), group="alarms")
    memory_period: int = option("MemoryUtilization alarm: period in seconds.", 60, check=int_range(60),
                                group="alarms")
    memory_evaluation_periods: int = option("MemoryUtilization alarm: periods evaluated.", 10,
                                            check=int_range(1), group="alarms")
    cpu_threshold: int = option("CpuUtilization alarm: percent above which it fires.", 90,
                                check=int_range(1, 1000), group="alarms")
    cpu_period: int = option("CpuUtilization alarm: period in seconds.", 60, check=int_range(60),
                             group="alarms")
    cpu_evaluation_periods: int = option("CpuUtilization alarm: periods evaluated.", 10, check=int_range(1),
                                         group="alarms")
    runbook_url: str = option("Base URL of the alarm runbook; each alarm links to its section.",
                              "https://github.com/watchbot-cfn/watchbot-cfn/blob/main/docs/alarms.md",
                              check=is_str, group="alarms")
    metric_namespace: str = option("CloudWatch namespace of the log metrics.", "Watchbot", check=is_str,
                                   group="alarms")
    dashboard: bool = option("Create a CloudWatch dashboard for the system.", True, legacy="dashboard",
                             check=is_bool, group="alarms")

    # -- scaling
    max_size: Any = option("Most tasks the service scales out to.", 1, legacy="maxSize",
                           check=int_range(0, 10_000), intrinsic=True, group="scaling")
    min_size: Any = option("Fewest tasks the service scales in to.", 0, legacy="minSize",
                           check=int_range(0, 10_000), intrinsic=True, group="scaling")
    autoscaling_role_arn: Any = option("Existing role for Application Auto Scaling; by default a scoped role "
                                       "is created.", None, legacy="autoscalingRoleArn", check=is_str,
                                       intrinsic=True, group="scaling")
    scaling_mode: str = option("queue-depth (the original: step out on visible messages, in when idle) or "
                               "backlog-per-task (keep visible messages per task at or below a target).",
                               "queue-depth", check=one_of(*SCALING_MODES), group="scaling")
    scale_out_cooldown: int = option("Seconds between scale-out steps.", 300, check=int_range(0, 86_400),
                                     group="scaling")
    scale_in_cooldown: int = option("Seconds after a scale-in before the next one.", 300,
                                    check=int_range(0, 86_400), group="scaling")
    scale_out_period: int = option("Period in seconds of the scale-out alarm (SQS publishes one value a "
                                   "minute, so 60 is the shortest that sees data).", 60,
                                   check=one_of(60, 120, 180, 240, 300, 600, 900), group="scaling")
    scale_out_step: int | None = option("queue-depth mode: tasks added per scale-out step; defaults to "
                                        "max(1, min(100, round(max_size / 10))), or 1 when max_size is an "
                                        "intrinsic.", None, check=int_range(1, 10_000), group="scaling")
    scale_in_idle_minutes: int = option("Minutes the queue must be empty (visible + in flight) before "
                                        "scaling in to min_size.", 10, check=int_range(1, 1440), group="scaling")
    target_latency: int = option("backlog-per-task mode: seconds a new message may acceptably wait.", 300,
                                 check=int_range(1, 86_400), group="scaling")
    typical_job_duration: int = option("backlog-per-task mode: typical seconds one job takes.", 60,
                                       check=int_range(1, 86_400), group="scaling")

    # -- reduce mode and webhook
    reduce: bool = option("Reduce mode: create a DynamoDB progress table for multi-part jobs.", False,
                          legacy="reduce", check=is_bool, group="reduce")
    read_capacity_units: int | None = option("Provisioned read capacity of the progress table "
                                             "(on-demand when unset).", None, legacy="readCapacityUnits",
                                             check=int_range(1, 40_000), group="reduce")
    write_capacity_units: int | None = option("Provisioned write capacity of the progress table "
                                              "(on-demand when unset).", None, legacy="writeCapacityUnits",
                                              check=int_range(1, 40_000), group="reduce")
    webhook: bool = option("Accept messages by HTTP POST to an API Gateway endpoint with an API key.", False,
                           check=is_bool, group="webhook")

    # -- derived views ----------------------------------------------------

    @property
    def is_fargate(self) -> bool:
        return self.capacity != "EC2"

    @property
    def resolved_container_name(self) -> str:
        return self.container_name or self.service.replace("/", "-").replace(".", "-")

    @property
    def mount_list(self) -> list[tuple[str | None, str]]:
        """(host path or None, container path) pairs; /tmp when nothing is given."""
        raw = self.mounts if self.mounts is not None else ["/tmp"]
        entries = [e.strip() for e in (raw.split(",") if isinstance(raw, str) else raw) if e.strip()]
        pairs: list[tuple[str | None, str]] = []
        for entry in entries:
            host, _, container = entry.rpartition(":")
            pairs.append((host or None, container))
        return pairs

    @property
    def fargate_cpu_memory(self) -> tuple[int, int]:
        cpu = self.reservation.get("cpu", 256)
        memory = self.reservation.get("memory", self.reservation.get("soft_memory", 512))
        return cpu, memory

    # -- construction -----------------------------------------------------

    @classmethod
    def build(cls, **kwargs: Any) -> Options:
        """Validate every option, then every combination, before anything is built."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for name in kwargs:
            if name not in fields:
                raise OptionsError(name, kwargs[name], "unknown option", _suggest(name, fields))
        for name, spec in fields.items():
            if spec.default is REQUIRED and spec.default_factory is REQUIRED and name not in kwargs:
                raise OptionsError(name, None, "this option is required", spec.metadata["doc"])
        values = {name: _check_field(fields[name], value) for name, value in kwargs.items()}
        options = cls(**values)
        _check_combinations(options)
        return options

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def _suggest(name: str, fields: Mapping[str, dataclasses.Field]) -> str:
    by_legacy = {f.metadata["legacy"]: f.name for f in fields.values() if f.metadata["legacy"]}
    if name in by_legacy:
        return f"did you mean {by_legacy[name]!r}? (the original name {name!r} is now snake_case)"
    close = difflib.get_close_matches(name, list(fields), n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return "see docs/options.md for every option"


def _deep_cfn(value: Any) -> Any:
    if isinstance(value, list):
        return [_deep_cfn(v) for v in value]
    if isinstance(value, dict) and not is_intrinsic(value):
        return {k: _deep_cfn(v) for k, v in value.items()}
    return as_cfn(value)


def _check_field(spec: dataclasses.Field, value: Any) -> Any:
    if value is None and spec.default is None:
        return None
    if is_intrinsic(value):
        if not spec.metadata["intrinsic"]:
            raise OptionsError(spec.name, value, "a literal value is required here, not an intrinsic")
        return as_cfn(value)
    check = spec.metadata["check"]
    if check is not None:
        try:
            check(value)
        except Invalid as invalid:
            raise OptionsError(spec.name, value, str(invalid)) from None
    return _deep_cfn(value)


def _check_combinations(o: Options) -> None:
    """Rules that involve more than one option."""
    if o.notification_email is None and o.notification_topic is None:
        raise OptionsError("notification_email", None,
                           "one of notification_email or notification_topic is required")
    if o.notification_email is not None and o.notification_topic is not None:
        raise OptionsError("notification_topic", o.notification_topic,
                           "give notification_email or notification_topic, not both")
    if isinstance(o.min_size, int) and isinstance(o.max_size, int) and o.min_size > o.max_size:
        raise OptionsError("min_size", o.min_size, f"must not exceed max_size ({o.max_size})")
    if o.stop_timeout < contract.stop_timeout_for(o.drain_timeout):
        raise OptionsError("drain_timeout", o.drain_timeout,
                           f"must be at most stop_timeout - {contract.SHUTDOWN_MARGIN} "
                           f"({o.stop_timeout - contract.SHUTDOWN_MARGIN}) so the watcher returns unfinished "
                           "messages before ECS sends SIGKILL")
    if o.visibility_timeout < 30:
        raise OptionsError("visibility_timeout", o.visibility_timeout, "must be at least 30 seconds")
    if o.fifo and o.webhook:
        raise OptionsError("webhook", True, "a webhook publishes to the SNS topic, which FIFO systems do not have",
                           "set fifo=False or webhook=False")
    if o.is_fargate:
        if o.fargate_subnets is None:
            raise OptionsError("fargate_subnets", None, f"required when capacity is {o.capacity}")
        if o.privileged:
            raise OptionsError("privileged", True, f"Fargate ({o.capacity}) does not run privileged containers")
        if o.placement_constraints or o.placement_strategies:
            name = "placement_constraints" if o.placement_constraints else "placement_strategies"
            raise OptionsError(name, getattr(o, name), f"placement applies to EC2 only, not {o.capacity}")
        if any(host for host, _ in o.mount_list):
            raise OptionsError("mounts", o.mounts, "Fargate tasks cannot mount host paths; give container paths")
        cpu, memory = o.fargate_cpu_memory
        if not (is_intrinsic(cpu) or is_intrinsic(memory)):
            allowed = FARGATE_SIZES.get(cpu)
            if allowed is None:
                raise OptionsError("reservation", o.reservation,
                                   "Fargate cpu must be one of " + ", ".join(map(str, FARGATE_SIZES)))
            if memory not in allowed:
                raise OptionsError("reservation", o.reservation,
                                   f"Fargate cpu {cpu} allows memory (MiB) {_fargate_memory_text(allowed)}")
    else:
        if o.ephemeral_storage_gib is not None:
            raise OptionsError("ephemeral_storage_gib", o.ephemeral_storage_gib, "applies to Fargate only")
        for name in ("fargate_subnets", "fargate_security_groups"):
            if getattr(o, name) is not None:
                raise OptionsError(name, getattr(o, name), "applies to FARGATE or FARGATE_SPOT capacity only")
    hard, soft = o.reservation.get("memory"), o.reservation.get("soft_memory")
    if isinstance(hard, int) and isinstance(soft, int) and soft > hard:
        raise OptionsError("reservation", o.reservation, "soft_memory must not exceed memory")
    if (o.read_capacity_units is None) != (o.write_capacity_units is None):
        raise OptionsError("read_capacity_units" if o.read_capacity_units is None else "write_capacity_units",
                           None, "give both read_capacity_units and write_capacity_units, or neither")
    if not o.reduce and o.read_capacity_units is not None:
        raise OptionsError("read_capacity_units", o.read_capacity_units, "applies only with reduce=True")
    reserved = set(_reserved_env_names()) & set(o.env)
    if reserved:
        raise OptionsError("env", o.env, f"{sorted(reserved)} are set by Watchbot itself")
    reserved = set(_reserved_env_names()) & set(o.secrets)
    if reserved:
        raise OptionsError("secrets", o.secrets, f"{sorted(reserved)} are set by Watchbot itself")
    both = set(o.env) & set(o.secrets)
    if both:
        raise OptionsError("secrets", o.secrets, f"{sorted(both)} are also given in env; give each variable once")


def _fargate_memory_text(allowed: tuple[int, ...]) -> str:
    if len(allowed) <= 4:
        return ", ".join(map(str, allowed))
    return f"{allowed[0]} to {allowed[-1]} in steps of {allowed[1] - allowed[0]}"


def _reserved_env_names() -> tuple[str, ...]:
    return (contract.ENV_QUEUE_URL, contract.ENV_LOG_GROUP, contract.ENV_WORK_TOPIC,
            contract.ENV_WRITABLE_FILESYSTEM, contract.ENV_MAX_JOB_DURATION, contract.ENV_VOLUMES,
            contract.ENV_FIFO, contract.ENV_STRUCTURED_LOGGING, contract.ENV_PROGRESS_TABLE,
            contract.ENV_CONCURRENCY, contract.ENV_DRAIN_TIMEOUT, contract.ENV_VISIBILITY_TIMEOUT)


def option_specs() -> list[dataclasses.Field]:
    """Every option's definition, in declaration order (for docs and the CLI)."""
    return list(dataclasses.fields(Options))
