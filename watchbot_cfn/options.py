"""Every option of ``watchbot_cfn.template()``, declared once as data.

Each option is a field (``records.field``) whose metadata holds what becomes its
:class:`OptionSpec`: its doc line, default, what it accepts (a constraint from ``constraints.py``
whose bounds code can read), whether an intrinsic may stand in for it, which
capacities it applies to, and its original Watchbot name. Options that set a
watcher variable take their kind, bounds and default from that variable's row
in ``contract.SETTINGS``, so the template accepts exactly what the watcher
does. Validation, error messages, docs/options.md, ``watchbot-cfn options``
and the test strategies all read these declarations.

``Options.build(**kwargs)`` checks every value, decides once which values are
intrinsics (``Options.is_literal``), then applies the cross-field rules of
``rules.py``, before any resource is built: bad input never yields a partial
template.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watchbot_cfn import contract, rules
from watchbot_cfn.constraints import (
    KMS_KEY_ARN,
    SERVICE_PRINCIPAL,
    Bool,
    Choice,
    CommandList,
    Constraint,
    EnvMap,
    FromSetting,
    Int,
    Invalid,
    ListOf,
    Mounts,
    Period,
    Placement,
    Record,
    SecretMap,
    Statements,
    Text,
)
from watchbot_cfn.errors import OptionsError
from watchbot_cfn.intrinsics import Verbatim, as_cfn, is_intrinsic
from watchbot_cfn.records import MISSING, field, fields, record

__all__ = ["ADOPTABLE_ROLES", "ALARM_OPTIONS", "CAPACITIES", "EC2_ONLY", "EXPORT_VALUES", "FARGATE_ONLY", "NAMED_ROLES",
           "RETAINABLE", "SUBSCRIPTION_FORMS", "AlarmOptions", "OptionSpec", "Options", "option_specs",
           "option_writing", "spec"]

REQUIRED: Any = MISSING

CAPACITIES = ("EC2", "FARGATE", "FARGATE_SPOT")
EC2_ONLY = ("EC2",)
FARGATE_ONLY = ("FARGATE", "FARGATE_SPOT")
SCALING_MODES = ("queue-depth", "backlog-per-task", "backlog")
#: Most tasks one service may scale to here.
MAX_TASKS = 10_000
#: Stateful resources whose deletion and replacement policy ``retain`` sets (the table kept by default).
RETAINABLE = ("queue", "dead_letter_queue", "log_group", "progress_table")

#: SQS's longest retention, in seconds (14 days).
MAX_RETENTION = 1_209_600
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)


@record
class AlarmOptions:
    """The options that tune one alarm; CloudWatch evaluates at most a day (period x periods)."""

    threshold: str
    period: str
    evaluation_periods: str
    enabled: str | None = None  # a boolean option that turns the alarm off


#: By the metric each alarm watches (the alarm builder's table reads these).
ALARM_OPTIONS: dict[str, AlarmOptions] = {
    "WorkerErrors": AlarmOptions("error_threshold", "error_period", "error_evaluation_periods"),
    "QueueSize": AlarmOptions("alarm_threshold", "alarm_period", "alarm_periods"),
    "DeadLetterQueueSize": AlarmOptions("dead_letter_alarm_threshold", "dead_letter_alarm_period",
                                        "dead_letter_alarm_evaluation_periods", enabled="dead_letter_alarm"),
    "MemoryUtilization": AlarmOptions("memory_threshold", "memory_period", "memory_evaluation_periods"),
    "CpuUtilization": AlarmOptions("cpu_threshold", "cpu_period", "cpu_evaluation_periods"),
}


@record
class OptionSpec:
    """One option, as data: what docs, validation, the CLI and test strategies read."""

    name: str
    doc: str
    default: Any  # REQUIRED when the option must be given
    accepts: Constraint
    legacy: str | None = None  # the original Watchbot's (camelCase) name
    intrinsic: bool = False  # may a CloudFormation intrinsic stand in for the value?
    capacities: tuple[str, ...] = CAPACITIES  # capacities the option applies to
    group: str = "core"

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def setting(self) -> contract.Setting | None:
        """The watcher variable this option writes, if any."""
        return self.accepts.setting if isinstance(self.accepts, FromSetting) else None


def option(doc: str, default: Any = REQUIRED, *, accepts: Constraint, legacy: str | None = None,
           intrinsic: bool = False, capacities: tuple[str, ...] = CAPACITIES, group: str = "core") -> Any:
    """Declare one option (its name is the field's name); ``_SPECS`` makes its OptionSpec."""
    declared = (doc, default, accepts, legacy, intrinsic, capacities, group)
    if isinstance(default, (list, dict)):
        frozen = default
        return field(default_factory=lambda: type(frozen)(frozen), metadata={"spec": declared})
    return field(default=default, metadata={"spec": declared})


def setting(row: contract.Setting, doc: str | None = None, *, legacy: str | None = None,
            intrinsic: bool = False, group: str = "core") -> Any:
    """Declare an option that writes a watcher variable: kind, bounds and default come from its row."""
    return option(doc or row.doc, row.default, accepts=FromSetting(row), legacy=legacy, intrinsic=intrinsic,
                  group=group)


def aws_id(kind: str) -> Text:
    """EC2 ids such as ``subnet-0123abcd`` (8 or 17 hex digits)."""
    return Text(rf"{kind}-([0-9a-f]{{8}}|[0-9a-f]{{17}})", f"ids such as {kind}-0123abcd (8 or 17 hex digits)")


SERVICE_NAME = Text(r"[a-z0-9][a-z0-9._/-]{0,127}",
                    "an ECR repository name: lowercase letters, digits, '.', '_', '-', '/'")
DOCKER_TAG = Text(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
                  "an image tag: letters, digits, '_', '.', '-' (up to 128), such as a git sha")
PREFIX = Text(r"[A-Za-z][A-Za-z0-9]{0,31}", "1 to 32 letters and digits, starting with a letter")
TASK_FAMILY = Text(r"[A-Za-z0-9_-]{1,255}", "letters, digits, '-' and '_' (up to 255)")
CONTAINER_NAME = Text(r"[A-Za-z0-9][A-Za-z0-9_-]{0,254}", "letters, digits, '-' and '_' (up to 255)")
RESERVATION = Record((("memory", Int(1)), ("soft_memory", Int(1)), ("cpu", Int(1))), intrinsic_items=True,
                     what="an object with memory, soft_memory and/or cpu (whole numbers of at least 1)")
RUNTIME_PLATFORM = Record((("cpu_architecture", Choice(("X86_64", "ARM64"))),
                           ("os_family", Choice(("LINUX",), why="the watcher runs on Linux only"))),
                          what="an object with cpu_architecture (X86_64 | ARM64) and/or os_family (LINUX)")
STRATEGY = ListOf(Record((("capacity_provider", Text()), ("weight", Int(0, 1000)), ("base", Int(0, 100_000))),
                         required=("capacity_provider",), intrinsic_items=True,
                         what="an object with capacity_provider, and optional weight (0 to 1,000) and base "
                              "(0 to 100,000)"))
#: ECS limits of the container health check, in seconds (retries: a count).
#: Roles of the stateful resources whose logical id a system may keep (``logical_ids``).
ADOPTABLE_ROLES = ("queue", "dead_letter_queue", "queue_policy", "topic", "subscription", "log_group",
                   "progress_table")
#: Roles of the resources that carry a physical name (``resource_names``, ``generated_names``).
NAMED_ROLES = ("queue", "dead_letter_queue", "topic", "log_group", "progress_table")
SUBSCRIPTION_FORMS = ("inline", "resource")
#: What ``exports`` may export.
EXPORT_VALUES = ("topic", "queue_url", "queue_arn", "queue_name", "dead_letter_queue_url", "dead_letter_queue_arn",
                 "dead_letter_queue_name", "log_group", "progress_table")
LOGICAL_ID = Text(r"[A-Za-z0-9]{1,255}", "a logical id: 1 to 255 letters and digits")
LOGICAL_IDS = Record(tuple((role, LOGICAL_ID) for role in ADOPTABLE_ROLES),
                     what=f"an object whose keys are some of {', '.join(ADOPTABLE_ROLES)} and whose values are "
                          "logical ids (letters and digits)")
RESOURCE_NAMES = Record(tuple((role, Text()) for role in NAMED_ROLES),
                        what=f"an object whose keys are some of {', '.join(NAMED_ROLES)} and whose values are names")
EXPORTS = ListOf(Record((("name", Text()), ("value", Choice(EXPORT_VALUES)), ("output", LOGICAL_ID)),
                        required=("name", "value"),
                        what="an object with name, value and optional output (a logical id)"))
HEALTH_CHECK = Record((("command", CommandList()), ("interval", Int(5, 300)), ("timeout", Int(2, 60)),
                       ("retries", Int(1, 10)), ("start_period", Int(0, 300))), required=("command",),
                      what="an object with command (list of strings) and optional interval, timeout, retries, "
                           "start_period")


@record
class Options:
    """Validated options; build with ``Options.build(**kwargs)``."""

    # -- required
    cluster: Any = option("ECS cluster name or ARN the service runs on.", legacy="cluster",
                          accepts=Text(), intrinsic=True)
    service: str = option("Name of the service; also the ECR repository name of the default image.",
                          legacy="service", accepts=SERVICE_NAME)
    service_version: Any = option("Image tag (usually a git sha) of the default image.",
                                  legacy="serviceVersion", accepts=DOCKER_TAG, intrinsic=True)
    command: str = option("Shell command the watcher runs once per message.", legacy="command", accepts=Text())

    # -- naming and image
    prefix: str = option("Prefix of every logical id and resource name; lets several systems share a template.",
                         "Watchbot", legacy="prefix", accepts=PREFIX)
    family: Any = option("Task definition family; defaults to the service name.", None, legacy="family",
                         accepts=TASK_FAMILY, intrinsic=True)
    image: Any = option("Full image URI; defaults to <account>.dkr.ecr.<region>.<URL suffix>/<service>:"
                        "<service_version> (amazonaws.com, or amazonaws.com.cn in China).", None, accepts=Text(),
                        intrinsic=True)
    container_name: str | None = option("Name of the watcher container; defaults to the service name.",
                                        None, accepts=CONTAINER_NAME)

    # -- capacity and placement
    capacity: str = option("Where tasks run: EC2, FARGATE or FARGATE_SPOT. EC2 services set no launch type, so "
                           "the cluster's default capacity provider strategy applies, as in the original.", "EC2",
                           legacy="capacity", accepts=Choice(CAPACITIES))
    capacity_provider_strategy: list = option("Capacity providers and their weights (and one base), e.g. FARGATE "
                                              "and FARGATE_SPOT mixed, or an EC2 Auto Scaling group's provider; "
                                              "replaces the launch type.", [], accepts=STRATEGY)
    fargate_subnets: Any = option("Subnet ids for Fargate tasks (required with FARGATE/FARGATE_SPOT).", None,
                                  legacy="fargateSubnets", accepts=ListOf(aws_id("subnet")), intrinsic=True,
                                  capacities=FARGATE_ONLY)
    fargate_security_groups: Any = option("Security group ids for Fargate tasks.", None,
                                          legacy="fargateSecurityGroups", accepts=ListOf(aws_id("sg")),
                                          intrinsic=True, capacities=FARGATE_ONLY)
    fargate_public_ip: Any = option("Give Fargate tasks a public IP: ENABLED or DISABLED.", "DISABLED",
                                    legacy="fargatePublicIp", accepts=Choice(("ENABLED", "DISABLED")),
                                    intrinsic=True, capacities=FARGATE_ONLY)
    placement_constraints: Any = option("ECS placement constraints (EC2 only), as CloudFormation objects.",
                                        None, legacy="placementConstraints",
                                        accepts=Placement(("distinctInstance", "memberOf"), ("Expression",)),
                                        intrinsic=True, capacities=EC2_ONLY)
    placement_strategies: Any = option("ECS placement strategies (EC2 only), as CloudFormation objects.",
                                       None, legacy="placementStrategies",
                                       accepts=Placement(("random", "spread", "binpack"), ("Field",)),
                                       intrinsic=True, capacities=EC2_ONLY)
    reservation: dict = option("Container resources: memory (hard MiB), soft_memory (MiB), cpu (units). "
                               "Fargate defaults to cpu 256 / memory 512.", {}, legacy="reservation",
                               accepts=RESERVATION)
    runtime_platform: dict | None = option("CPU architecture (X86_64 | ARM64) and OS family of the task.",
                                           None, accepts=RUNTIME_PLATFORM)
    ephemeral_storage_gib: int | None = option("Fargate ephemeral storage in GiB.", None,
                                               accepts=Int(21, 200), capacities=FARGATE_ONLY)
    privileged: bool = option("Run the container privileged (EC2 only).", False, legacy="privileged",
                              accepts=Bool(), capacities=EC2_ONLY)

    # -- container
    writable_filesystem: bool = setting(contract.WRITABLE_FILESYSTEM, "Writable root filesystem; the watcher then "
                                        "exits after one job so every job gets a fresh container.",
                                        legacy="writableFilesystem")
    mounts: Any = option("Volumes: 'containerPath' (task-scoped, emptied between jobs) or "
                         "'hostPath:containerPath' (a host directory, never emptied), as a list or comma-separated "
                         "string. /tmp is always a task-scoped volume unless mounted here.", None, legacy="mounts",
                         accepts=Mounts())
    env: dict = option("Extra container environment variables.", {}, legacy="env", accepts=EnvMap())
    secrets: dict = option("Container secrets: variable name -> Secrets Manager or SSM parameter ARN.", {},
                           accepts=SecretMap())
    health_check: dict | None = option("Container health check: command, interval, timeout, retries, "
                                       "start_period.", None, accepts=HEALTH_CHECK)
    structured_logging: bool = setting(contract.STRUCTURED_LOGGING, legacy="structuredLogging")
    log_retention_days: int = option("Days the log group keeps events.", 14,
                                     accepts=Choice(LOG_RETENTION_DAYS))
    permissions: list = option("IAM statements (dicts or awacs Statements) added to the task role.", [],
                               legacy="permissions", accepts=Statements())

    # -- jobs and queue
    max_job_duration: Any = setting(contract.MAX_JOB_DURATION, "Seconds after which a job is killed and "
                                    "its message returned (0 = no limit).", legacy="maxJobDuration", intrinsic=True)
    concurrency: int = setting(contract.CONCURRENCY, "Jobs one watcher (one task) runs at once.")
    drain_timeout: float = setting(contract.DRAIN_TIMEOUT, "Seconds running jobs may finish after the task is told "
                                   f"to stop; stop_timeout must be at least this plus {contract.SHUTDOWN_MARGIN}.")
    stop_timeout: int = option("Seconds ECS waits after SIGTERM before SIGKILL (task StopTimeout).",
                               contract.DEFAULT_STOP_TIMEOUT, accepts=Int(2, contract.MAX_STOP_TIMEOUT))
    visibility_timeout: int = setting(contract.VISIBILITY_TIMEOUT, "Work queue visibility timeout in seconds; the "
                                      "watcher keeps extending it while a job runs.")
    message_retention: Any = option("Seconds a message may wait in the queues.", MAX_RETENTION,
                                    legacy="messageRetention", accepts=Int(60, MAX_RETENTION), intrinsic=True)
    dead_letter_threshold: Any = option("Receives after which SQS moves a message to the dead-letter queue.",
                                        contract.DEFAULT_DEAD_LETTER_THRESHOLD, legacy="deadletterThreshold",
                                        accepts=Int(1, 1000), intrinsic=True)
    fifo: bool = setting(contract.FIFO, "Use FIFO queues (no SNS topic; send to the queue with a message "
                         "group id).", legacy="fifo")

    # -- notifications and alarms
    notification_email: Any = option("Email address subscribed to a topic that receives alarms.", None,
                                     legacy="notificationEmail", accepts=Text(), intrinsic=True, group="alarms")
    notification_topic: Any = option("ARN of an existing SNS topic that receives alarms.", None,
                                     legacy="notificationTopic", accepts=Text(), intrinsic=True, group="alarms")
    error_threshold: Any = option("WorkerErrors alarm: failed jobs per period above which it fires.", 10,
                                  legacy="errorThreshold", accepts=Int(0), intrinsic=True, group="alarms")
    error_period: Any = option("WorkerErrors alarm: period in seconds.", 60, accepts=Period(short=(10, 30)),
                               intrinsic=True, group="alarms")
    error_evaluation_periods: Any = option("WorkerErrors alarm: periods evaluated.", 1, accepts=Int(1),
                                           intrinsic=True, group="alarms")
    alarm_threshold: Any = option("QueueSize alarm: visible messages above which it fires.", 40,
                                  legacy="alarmThreshold", accepts=Int(0), intrinsic=True, group="alarms")
    alarm_periods: Any = option("QueueSize alarm: periods evaluated.", 24, legacy="alarmPeriods",
                                accepts=Int(1), intrinsic=True, group="alarms")
    alarm_period: Any = option("QueueSize alarm: period in seconds.", 300, accepts=Period(),
                               intrinsic=True, group="alarms")
    dead_letter_alarm: bool = option("Alarm when any message is in the dead-letter queue.", True,
                                     legacy="deadLetterAlarm", accepts=Bool(), group="alarms")
    dead_letter_alarm_threshold: Any = option("DeadLetterQueueSize alarm: visible messages at or above which "
                                              "it fires.", 1, accepts=Int(1), intrinsic=True, group="alarms")
    dead_letter_alarm_period: Any = option("DeadLetterQueueSize alarm: period in seconds.", 60,
                                           accepts=Period(), intrinsic=True, group="alarms")
    dead_letter_alarm_evaluation_periods: Any = option("DeadLetterQueueSize alarm: periods evaluated.", 1,
                                                       accepts=Int(1), intrinsic=True, group="alarms")
    memory_threshold: Any = option("MemoryUtilization alarm: percent above which it fires.", 100,
                                   accepts=Int(1, 1000), intrinsic=True, group="alarms")
    memory_period: Any = option("MemoryUtilization alarm: period in seconds.", 60, accepts=Period(),
                                intrinsic=True, group="alarms")
    memory_evaluation_periods: Any = option("MemoryUtilization alarm: periods evaluated.", 10,
                                            accepts=Int(1), intrinsic=True, group="alarms")
    cpu_threshold: Any = option("CpuUtilization alarm: percent above which it fires.", 90,
                                accepts=Int(1, 1000), intrinsic=True, group="alarms")
    cpu_period: Any = option("CpuUtilization alarm: period in seconds.", 60, accepts=Period(),
                             intrinsic=True, group="alarms")
    cpu_evaluation_periods: Any = option("CpuUtilization alarm: periods evaluated.", 10, accepts=Int(1),
                                         intrinsic=True, group="alarms")
    runbook_url: str = option("Base URL of the alarm runbook; each alarm links to its section.",
                              "https://github.com/watchbot-cfn/watchbot-cfn/blob/main/docs/alarms.md",
                              accepts=Text(), group="alarms")
    metric_namespace: str = option("CloudWatch namespace of the log metrics.", "Watchbot", accepts=Text(),
                                   group="alarms")
    dashboard: bool = option("Create a CloudWatch dashboard for the system.", True, legacy="dashboard",
                             accepts=Bool(), group="alarms")

    # -- scaling
    max_size: Any = option("Most tasks the service scales out to.", 1, legacy="maxSize",
                           accepts=Int(0, MAX_TASKS), intrinsic=True, group="scaling")
    min_size: Any = option("Fewest tasks the service scales in to.", 0, legacy="minSize",
                           accepts=Int(0, MAX_TASKS), intrinsic=True, group="scaling")
    autoscaling_role_arn: Any = option("Existing role for Application Auto Scaling; by default a scoped role "
                                       "is created.", None, legacy="autoscalingRoleArn", accepts=Text(),
                                       intrinsic=True, group="scaling")
    scaling_mode: str = option("queue-depth (the original: step out on visible messages, in when idle), "
                               "backlog-per-task (keep visible messages per task at or below a target; needs "
                               "Container Insights) or backlog (set the task count to what visible + in-flight "
                               "messages need at `concurrency` jobs per task; in to min_size when idle).",
                               "backlog", accepts=Choice(SCALING_MODES), group="scaling")
    task_protection: bool = setting(contract.TASK_PROTECTION, group="scaling")
    scale_out_cooldown: int = option("Seconds between scale-out steps.", 300, accepts=Int(0, 86_400),
                                     group="scaling")
    scale_in_cooldown: int = option("Seconds after a scale-in before the next one.", 300,
                                    accepts=Int(0, 86_400), group="scaling")
    scale_out_period: int = option("Period in seconds of the scale-out alarm (SQS publishes one value a "
                                   "minute, so 60 is the shortest that sees data).", 60,
                                   accepts=Choice((60, 120, 180, 240, 300, 600, 900)), group="scaling")
    scale_out_step: int | None = option("queue-depth mode: tasks added per scale-out step; defaults to "
                                        "max(1, min(100, round(max_size / 10))), or 1 when max_size is an "
                                        "intrinsic.", None, accepts=Int(1, MAX_TASKS), group="scaling")
    scale_in_idle_minutes: int = option("Minutes the queue must be empty (visible + in flight) before "
                                        "scaling in to min_size.", 10, accepts=Int(1, 1440), group="scaling")
    target_latency: int = option("backlog-per-task mode: seconds a new message may acceptably wait.", 300,
                                 accepts=Int(1, 86_400), group="scaling")
    typical_job_duration: int = option("backlog-per-task mode: typical seconds one job takes.", 60,
                                       accepts=Int(1, 86_400), group="scaling")

    # -- reduce mode and webhook
    reduce: bool = option("Reduce mode: create a DynamoDB progress table for multi-part jobs.", False,
                          legacy="reduce", accepts=Bool(), group="reduce")
    read_capacity_units: int | None = option("Provisioned read capacity of the progress table "
                                             "(on-demand when unset).", None, legacy="readCapacityUnits",
                                             accepts=Int(1, 40_000), group="reduce")
    write_capacity_units: int | None = option("Provisioned write capacity of the progress table "
                                              "(on-demand when unset).", None, legacy="writeCapacityUnits",
                                              accepts=Int(1, 40_000), group="reduce")
    webhook: bool = option("Accept messages by HTTP POST to an API Gateway endpoint with an API key.", False,
                           accepts=Bool(), group="webhook")
    retain: list = option("Stateful resources CloudFormation keeps (DeletionPolicy and UpdateReplacePolicy "
                          "Retain) when the stack is deleted or the resource would be replaced: any of queue, "
                          "dead_letter_queue, log_group, progress_table. The others say Delete, explicitly.",
                          list(RETAINABLE[-1:]), accepts=ListOf(Choice(RETAINABLE)))

    # -- encryption and access (docs/security.md); `watchbot-cfn key-policy` prints what each key's policy needs
    message_kms_key: Any = option("Customer managed KMS key (its ARN) that encrypts both queues and the topics this "
                                  "system creates (work topic, alarm topic), instead of SSE-SQS and unencrypted "
                                  "topics. The key policy must let SNS deliver to the queue and CloudWatch publish "
                                  "alarms; producers need kms:GenerateDataKey and kms:Decrypt on it.", None,
                                  accepts=KMS_KEY_ARN, intrinsic=True, group="encryption")
    log_kms_key: Any = option("Customer managed KMS key (its ARN) that encrypts the log group. Its key policy must "
                              "let CloudWatch Logs in this region use it for this log group, or creating the log "
                              "group fails.", None, accepts=KMS_KEY_ARN, intrinsic=True, group="encryption")
    progress_table_kms_key: Any = option("Reduce mode: customer managed KMS key (its ARN) that encrypts the "
                                         "progress table instead of DynamoDB's AWS owned key.", None,
                                         accepts=KMS_KEY_ARN, intrinsic=True, group="encryption")
    topic_publishers: list = option("AWS services that may publish to the work topic for this account, such as "
                                    "s3.amazonaws.com (event notifications) or events.amazonaws.com (EventBridge "
                                    "rules). The topic policy names them: it replaces SNS's default policy, so "
                                    "add none of your own.", [], accepts=ListOf(SERVICE_PRINCIPAL),
                                    group="encryption")

    # -- adoption: keep what an existing stack has (docs/upgrading.md; ``watchbot-cfn migrate`` writes these)
    logical_ids: dict = option("Logical ids to keep for the stateful resources (queue, dead_letter_queue, "
                               "queue_policy, topic, subscription, log_group, progress_table), as an existing "
                               "stack has them: CloudFormation replaces a resource whose logical id changes, and "
                               "with it the messages, logs or items it holds.", {}, accepts=LOGICAL_IDS,
                               group="adoption")
    resource_names: dict = option("Physical names to keep (queue, dead_letter_queue, topic, log_group, "
                                  "progress_table) instead of the derived ones; a name is create-only, so a new "
                                  "one replaces the resource. ${AWS::StackName}, ${AWS::Region} and "
                                  "${AWS::AccountId} may appear (Fn::Sub).", {}, accepts=RESOURCE_NAMES,
                                  group="adoption")
    generated_names: list = option("Resources whose name CloudFormation generated in an existing stack (queue, "
                                   "dead_letter_queue, topic, log_group, progress_table): no name is set for them, "
                                   "which keeps them. A generated work queue name also drops the dead-letter "
                                   "queue's redrive-allow policy, which spells that name.", [],
                                   accepts=ListOf(Choice(NAMED_ROLES)), group="adoption")
    topic_subscription: str = option("How the work queue is subscribed to the topic: 'inline' (in the topic, as "
                                     "Watchbot 9 and 0.1 did) or 'resource' (an AWS::SNS::Subscription of its own, "
                                     "as Watchbot 10 has it). Keep what the stack has: moving it unsubscribes the "
                                     "queue while the update runs.", "inline", accepts=Choice(SUBSCRIPTION_FORMS),
                                     group="adoption")
    exports: list = option("Stack exports to keep: name (${AWS::StackName} may appear), value (what it exports: "
                           f"{', '.join(EXPORT_VALUES)}; topic is empty in FIFO systems, as Watchbot 10 exports "
                           "it) and optional output (the output's logical id). CloudFormation refuses to remove an "
                           "export another stack imports.", [], accepts=EXPORTS, group="adoption")

    #: Paths (``name``, ``name.key``, ``name[index]``) of every value given as an intrinsic.
    intrinsic_paths: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    # -- decided once, at validation ---------------------------------------

    def is_literal(self, path: str) -> bool:
        """Whether the value at ``path`` (``cluster``, ``secrets.TOKEN``, ``reservation.cpu``) is a literal."""
        return path not in self.intrinsic_paths

    def literal(self, name: str) -> Any:
        """The option's value when it is a literal, None when an intrinsic stands in for it."""
        return getattr(self, name) if self.is_literal(name) else None

    def env_text(self, name: str) -> Any:
        """The container variable's value for an option that writes a watcher setting."""
        value = getattr(self, name)
        row = spec(name).setting
        if row is None:
            raise KeyError(f"option {name!r} writes no watcher setting")
        return row.format(value) if self.is_literal(name) else value

    # -- derived views ----------------------------------------------------

    @property
    def is_fargate(self) -> bool:
        return self.capacity != "EC2"

    @property
    def resolved_container_name(self) -> str:
        return self.container_name or self.service.replace("/", "-").replace(".", "-")

    @property
    def mount_list(self) -> list[tuple[str | None, str]]:
        """(host path or None, container path) pairs; a task-scoped /tmp first unless /tmp is mounted.

        The original always gave workers a writable /tmp (the root filesystem is read-only).
        """
        raw = self.mounts if self.mounts is not None else []
        entries = [e.strip() for e in (raw.split(",") if isinstance(raw, str) else raw) if e.strip()]
        pairs: list[tuple[str | None, str]] = []
        for entry in entries:
            host, _, container = entry.rpartition(":")
            pairs.append((host or None, container))
        if all(container != "/tmp" for _, container in pairs):
            pairs.insert(0, (None, "/tmp"))
        return pairs

    @property
    def task_scoped_volumes(self) -> list[str]:
        """Container paths of the volumes that live and die with the task: the only ones the watcher empties."""
        return [container for host, container in self.mount_list if host is None]

    @property
    def fargate_cpu_memory(self) -> tuple[Any, Any]:
        """Fargate's task-level (cpu, memory): literals, or the intrinsics given for them."""
        cpu = self.reservation.get("cpu", 256)
        memory = self.reservation.get("memory", self.reservation.get("soft_memory", 512))
        return cpu, memory

    @property
    def fargate_size_is_literal(self) -> bool:
        memory_path = "reservation.memory" if "memory" in self.reservation else "reservation.soft_memory"
        return self.is_literal("reservation.cpu") and self.is_literal(memory_path)

    @property
    def fargate_task_size(self) -> tuple[Any, Any]:
        """(Cpu, Memory) as the task definition writes them: text, or the intrinsics unchanged."""
        cpu, memory = self.fargate_cpu_memory
        memory_path = "reservation.memory" if "memory" in self.reservation else "reservation.soft_memory"
        return (str(cpu) if self.is_literal("reservation.cpu") else cpu,
                str(memory) if self.is_literal(memory_path) else memory)

    # -- construction -----------------------------------------------------

    @classmethod
    def build(cls, **kwargs: Any) -> Options:
        """Validate every option, then every combination, before anything is built."""
        specs = _SPECS
        for name in kwargs:
            if name not in specs:
                raise OptionsError(name, kwargs[name], "unknown option", _suggest(name))
        for name, declared in specs.items():
            if declared.required and name not in kwargs:
                raise OptionsError(name, None, "this option is required", declared.doc)
        values: dict[str, Any] = {}
        intrinsic_paths: set[str] = set()
        for name, value in kwargs.items():
            values[name] = _checked(specs[name], value, intrinsic_paths)
        options = cls(**values, intrinsic_paths=frozenset(intrinsic_paths))
        rules.check(options)
        return options

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _SPECS}

    @staticmethod
    def specs() -> Mapping[str, OptionSpec]:
        return _SPECS

    @staticmethod
    def alarm_options() -> Mapping[str, AlarmOptions]:
        return ALARM_OPTIONS


def option_writing(row: contract.Setting) -> str | None:
    """The option that writes ``row``'s container variable as it is; None when it is derived or from a resource."""
    return _WRITERS.get(row)


def option_specs() -> list[OptionSpec]:
    """Every option's declaration, in declaration order (for docs, the CLI and tests)."""
    return list(_SPECS.values())


def spec(name: str) -> OptionSpec:
    """One option's declaration."""
    return _SPECS[name]


_SPECS: dict[str, OptionSpec] = {
    f.name: OptionSpec(f.name, *f.metadata["spec"]) for f in fields(Options) if "spec" in f.metadata
}
_WRITERS: dict[contract.Setting, str] = {s.setting: s.name for s in _SPECS.values() if s.setting is not None}


def _suggest(name: str) -> str:
    by_legacy = {s.legacy: s.name for s in _SPECS.values() if s.legacy}
    if name in by_legacy:
        return f"did you mean {by_legacy[name]!r}? (the original name {name!r} is now snake_case)"
    import difflib

    close = difflib.get_close_matches(name, list(_SPECS), n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return "see docs/options.md for every option"


def _checked(declared: OptionSpec, value: Any, intrinsic_paths: set[str]) -> Any:
    """The value as builders get it; records where intrinsics stand in for literals."""
    if value is None and declared.default is None:
        return None
    if is_intrinsic(value):
        if not declared.intrinsic:
            raise OptionsError(declared.name, value, "a literal value is required here, not an intrinsic")
        intrinsic_paths.add(declared.name)
        return as_cfn(value)
    try:
        declared.accepts.check(value)
    except Invalid as invalid:
        raise OptionsError(declared.name, value, str(invalid)) from None
    return _cfn_form(declared, value, intrinsic_paths)


def _cfn_form(declared: OptionSpec, value: Any, intrinsic_paths: set[str]) -> Any:
    """Wrap nested intrinsics for troposphere and note their paths; shape values for the template."""
    if isinstance(declared.accepts, EnvMap):
        # Container variables are strings; booleans read as true/false like the watcher's own.
        return {key: _env_text(item, f"{declared.name}.{key}", intrinsic_paths) for key, item in value.items()}
    if isinstance(declared.accepts, Placement):
        # Checked above; given as CloudFormation objects, they go into the template as written.
        return [_noted(item, f"{declared.name}[{index}]", intrinsic_paths) if is_intrinsic(item) else Verbatim(item)
                for index, item in enumerate(value)]
    return _noted_tree(value, declared.name, intrinsic_paths)


def _noted_tree(value: Any, path: str, intrinsic_paths: set[str]) -> Any:
    """Wrap every nested intrinsic for troposphere, noting its path (``name.key``, ``name[index]``)."""
    if is_intrinsic(value):
        return _noted(value, path, intrinsic_paths)
    if isinstance(value, dict):
        return {key: _noted_tree(item, f"{path}.{key}", intrinsic_paths) for key, item in value.items()}
    if isinstance(value, list):
        return [_noted_tree(item, f"{path}[{index}]", intrinsic_paths) for index, item in enumerate(value)]
    return value


def _noted(item: Any, path: str, intrinsic_paths: set[str]) -> Any:
    intrinsic_paths.add(path)
    return as_cfn(item)


def _env_text(item: Any, path: str, intrinsic_paths: set[str]) -> Any:
    if is_intrinsic(item):
        return _noted(item, path, intrinsic_paths)
    if isinstance(item, bool):
        return "true" if item else "false"
    return str(item)
