"""The ECS task definition: one container running ``watchbot listen <command>``.

Everything the watcher needs to know arrives as container environment
variables whose names come from ``watchbot_cfn.contract``; the worker's own
variables and secrets are added next to them.
"""

from __future__ import annotations

import re
from typing import Any

from troposphere import GetAtt, Ref, Sub
from troposphere.ecs import (
    ContainerDefinition,
    Environment,
    EphemeralStorage,
    HealthCheck,
    Host,
    LogConfiguration,
    MountPoint,
    RuntimePlatform,
    Secret,
    TaskDefinition,
    Ulimit,
    Volume,
)

from watchbot_cfn import contract
from watchbot_cfn.naming import Names
from watchbot_cfn.options import Options, option_writing
from watchbot_cfn.resources.iam import needs_execution_role

__all__ = ["build", "container_environment", "default_image", "named_mounts"]

#: Open files per container: many concurrent jobs each hold pipes and sockets.
NOFILE_LIMIT = 10240
#: Soft memory reservation (MiB) on EC2 when the user reserves none.
DEFAULT_EC2_MEMORY_RESERVATION = 256

_HEALTH_CHECK_KEYS = {"command": "Command", "interval": "Interval", "timeout": "Timeout", "retries": "Retries",
                      "start_period": "StartPeriod"}


def build(options: Options, names: Names) -> list[Any]:
    definition = TaskDefinition(
        names.task_definition,
        Family=options.family if options.family is not None else _family_from_service(options.service),
        TaskRoleArn=GetAtt(names.task_role, "Arn"),
        ContainerDefinitions=[_container(options, names)],
        Volumes=[_volume(name, host) for name, host, _ in named_mounts(options)],
    )
    if needs_execution_role(options):
        definition.ExecutionRoleArn = GetAtt(names.execution_role, "Arn")
    if options.runtime_platform:
        definition.RuntimePlatform = RuntimePlatform(
            CpuArchitecture=options.runtime_platform.get("cpu_architecture", "X86_64"),
            OperatingSystemFamily=options.runtime_platform.get("os_family", "LINUX"),
        )
    if options.is_fargate:
        definition.RequiresCompatibilities = ["FARGATE"]
        definition.NetworkMode = "awsvpc"
        definition.Cpu, definition.Memory = options.fargate_task_size
        if options.ephemeral_storage_gib is not None:
            definition.EphemeralStorage = EphemeralStorage(SizeInGiB=options.ephemeral_storage_gib)
    else:
        definition.RequiresCompatibilities = ["EC2"]
    return [definition]


def default_image(options: Options) -> Sub:
    """``<account>.dkr.ecr.<region>.<URL suffix>/<service>:<service_version>``.

    The URL suffix is ``amazonaws.com``, or ``amazonaws.com.cn`` in China.
    """
    text = f"${{AWS::AccountId}}.dkr.ecr.${{AWS::Region}}.${{AWS::URLSuffix}}/{options.service}:"
    version = options.literal("service_version")
    if version is None:
        return Sub(text + "${ServiceVersion}", ServiceVersion=options.service_version)
    return Sub(text + version)


def container_environment(options: Options, names: Names) -> dict[str, Any]:
    """Name -> value of every container variable: the watcher's, in ``contract.SETTINGS`` order, then the user's."""
    from_resources: dict[str, Any] = {
        contract.ENV_QUEUE_URL: Ref(names.queue),
        contract.ENV_LOG_GROUP: Ref(names.log_group),
        contract.ENV_WORK_TOPIC: None if options.fifo else Ref(names.topic),
        # Only task-scoped volumes are emptied between jobs: a host path is the user's own data.
        contract.ENV_VOLUMES: contract.VOLUMES.format(options.task_scoped_volumes),
        # The table's ARN, not its name: the original and its progress clients expect the ARN.
        contract.ENV_PROGRESS_TABLE: GetAtt(names.progress_table, "Arn") if options.reduce else None,
    }
    env: dict[str, Any] = {}
    for setting in contract.SETTINGS:
        option = option_writing(setting)
        value = options.env_text(option) if option else from_resources[setting.env]
        if value is not None:
            env[setting.env] = value
    env.update(options.env)
    return env


def named_mounts(options: Options) -> list[tuple[str, str | None, str]]:
    """(volume name, host path or None, container path) for each mount.

    Names are readable (``/var/data`` -> ``var-data``) and made unique with a
    number when two paths would read the same.
    """
    named: list[tuple[str, str | None, str]] = []
    taken: set[str] = set()
    for host, container in options.mount_list:
        base = re.sub(r"[^A-Za-z0-9_-]+", "-", container.strip("/"))[:200] or "root"
        name, number = base, 2
        while name in taken:
            name, number = f"{base}-{number}", number + 1
        taken.add(name)
        named.append((name, host, container))
    return named


def _container(options: Options, names: Names) -> ContainerDefinition:
    container = ContainerDefinition(
        Name=options.resolved_container_name,
        Image=options.image if options.image is not None else default_image(options),
        Essential=True,
        Command=["watchbot", "listen", options.command],
        Environment=[Environment(Name=name, Value=value)
                     for name, value in container_environment(options, names).items()],
        MountPoints=[MountPoint(SourceVolume=name, ContainerPath=container, ReadOnly=False)
                     for name, _, container in named_mounts(options)],
        Ulimits=[Ulimit(Name="nofile", SoftLimit=NOFILE_LIMIT, HardLimit=NOFILE_LIMIT)],
        ReadonlyRootFilesystem=not options.writable_filesystem,
        StopTimeout=options.stop_timeout,
        LogConfiguration=LogConfiguration(
            LogDriver="awslogs",
            Options={
                "awslogs-group": Ref(names.log_group),
                "awslogs-region": Ref("AWS::Region"),
                # Streams are <version>/<container>/<task id>, as in the original.
                "awslogs-stream-prefix": options.service_version,
            },
        ),
    )
    if options.secrets:
        container.Secrets = [Secret(Name=name, ValueFrom=value) for name, value in options.secrets.items()]
    if options.health_check:
        container.HealthCheck = HealthCheck(**{_HEALTH_CHECK_KEYS[key]: value
                                               for key, value in options.health_check.items()})
    if not options.is_fargate:
        _reserve_on_ec2(container, options)
    return container


def _reserve_on_ec2(container: ContainerDefinition, options: Options) -> None:
    """Container-level reservations; Fargate reserves at task level instead."""
    reservation = options.reservation
    if "memory" in reservation:
        container.Memory = reservation["memory"]
    if "soft_memory" in reservation:
        container.MemoryReservation = reservation["soft_memory"]
    if "memory" not in reservation and "soft_memory" not in reservation:
        container.MemoryReservation = DEFAULT_EC2_MEMORY_RESERVATION
    if "cpu" in reservation:
        container.Cpu = reservation["cpu"]
    if options.privileged:
        container.Privileged = True


def _volume(name: str, host: str | None) -> Volume:
    """Host paths are bind mounts (EC2 only); the rest are task-scoped and vanish with the task."""
    if host is None:
        return Volume(Name=name)
    return Volume(Name=name, Host=Host(SourcePath=host))


def _family_from_service(service: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", service)

