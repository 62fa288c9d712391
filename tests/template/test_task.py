"""The task definition and its container."""

from __future__ import annotations

from typing import Any

from tests.support.templates import FARGATE, rendered
from watchbot_cfn import contract
from watchbot_cfn.resources import task


def definition(**overrides: Any) -> dict[str, Any]:
    [(logical_id, only)] = rendered(task.build, **overrides).items()
    assert logical_id == overrides.get("prefix", "Watchbot") + "TaskDefinition"
    return only["Properties"]


def container(**overrides: Any) -> dict[str, Any]:
    [only] = definition(**overrides)["ContainerDefinitions"]
    return only


def environment(**overrides: Any) -> dict[str, Any]:
    return {pair["Name"]: pair["Value"] for pair in container(**overrides)["Environment"]}


def test_container_runs_the_watcher_with_the_command():
    assert container(command="./process.sh --fast")["Command"] == ["watchbot", "listen", "./process.sh --fast"]


def test_environment_carries_the_contract_with_default_values():
    assert environment() == {
        contract.ENV_QUEUE_URL: {"Ref": "WatchbotQueue"},
        contract.ENV_LOG_GROUP: {"Ref": "WatchbotLogGroup"},
        contract.ENV_WORK_TOPIC: {"Ref": "WatchbotTopic"},
        contract.ENV_WRITABLE_FILESYSTEM: "false",
        contract.ENV_MAX_JOB_DURATION: "0",
        contract.ENV_VOLUMES: "/tmp",
        contract.ENV_FIFO: "false",
        contract.ENV_STRUCTURED_LOGGING: "false",
        contract.ENV_CONCURRENCY: "1",
        contract.ENV_DRAIN_TIMEOUT: str(contract.DEFAULT_DRAIN_TIMEOUT),
        contract.ENV_VISIBILITY_TIMEOUT: str(contract.DEFAULT_VISIBILITY_TIMEOUT),
        contract.ENV_TASK_PROTECTION: "true",
    }


def test_environment_follows_the_options():
    env = environment(prefix="Thumbs", writable_filesystem=True, max_job_duration=900, structured_logging=True,
                      concurrency=4, drain_timeout=50, stop_timeout=60, visibility_timeout=300)
    assert env[contract.ENV_QUEUE_URL] == {"Ref": "ThumbsQueue"}
    assert (env[contract.ENV_WRITABLE_FILESYSTEM], env[contract.ENV_STRUCTURED_LOGGING]) == ("true", "true")
    assert (env[contract.ENV_MAX_JOB_DURATION], env[contract.ENV_CONCURRENCY]) == ("900", "4")
    assert (env[contract.ENV_DRAIN_TIMEOUT], env[contract.ENV_VISIBILITY_TIMEOUT]) == ("50", "300")


def test_fifo_environment_has_no_topic_and_says_fifo():
    env = environment(fifo=True)
    assert contract.ENV_WORK_TOPIC not in env
    assert env[contract.ENV_FIFO] == "true"


def test_reduce_mode_points_the_watcher_at_the_progress_table():
    # the table's ARN, which the original and its progress clients expect
    assert environment(reduce=True)[contract.ENV_PROGRESS_TABLE] == {"Fn::GetAtt": ["WatchbotProgressTable", "Arn"]}
    assert contract.ENV_PROGRESS_TABLE not in environment()


def test_user_environment_is_added_as_strings_and_intrinsics():
    env = environment(env={"DEBUG": True, "LIMIT": 5, "RATIO": 0.5, "BUCKET": {"Ref": "Bucket"}, "MODE": "fast"})
    assert {k: env[k] for k in ("DEBUG", "LIMIT", "RATIO", "BUCKET", "MODE")} == {
        "DEBUG": "true", "LIMIT": "5", "RATIO": "0.5", "BUCKET": {"Ref": "Bucket"}, "MODE": "fast"}


def test_max_job_duration_may_be_an_intrinsic():
    assert environment(max_job_duration={"Ref": "Limit"})[contract.ENV_MAX_JOB_DURATION] == {"Ref": "Limit"}


def test_secrets_become_container_secrets():
    given = {"TOKEN": "arn:aws:ssm:us-east-1:123456789012:parameter/token", "KEY": {"Ref": "KeyArn"}}
    assert container(secrets=given)["Secrets"] == [
        {"Name": "TOKEN", "ValueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/token"},
        {"Name": "KEY", "ValueFrom": {"Ref": "KeyArn"}}]
    assert "Secrets" not in container()


def test_tmp_is_a_task_scoped_volume_by_default():
    assert definition()["Volumes"] == [{"Name": "tmp"}]
    assert container()["MountPoints"] == [{"SourceVolume": "tmp", "ContainerPath": "/tmp", "ReadOnly": False}]


def test_mounts_map_host_paths_and_task_scoped_paths_and_only_task_scoped_ones_are_emptied():
    # given one host mount, one task-scoped mount and two paths that read alike
    built = definition(mounts="/mnt/cache:/cache, /data, /a-b, /a/b")
    # then /tmp comes first, as the original always mounted it, and names stay unique
    assert built["Volumes"] == [{"Name": "tmp"}, {"Name": "cache", "Host": {"SourcePath": "/mnt/cache"}},
                                {"Name": "data"}, {"Name": "a-b"}, {"Name": "a-b-2"}]
    [only] = built["ContainerDefinitions"]
    assert [(m["SourceVolume"], m["ContainerPath"]) for m in only["MountPoints"]] == [
        ("tmp", "/tmp"), ("cache", "/cache"), ("data", "/data"), ("a-b", "/a-b"), ("a-b-2", "/a/b")]
    env = {pair["Name"]: pair["Value"] for pair in only["Environment"]}
    # the host directory is the user's data: the watcher never empties it
    assert env[contract.ENV_VOLUMES] == "/tmp,/data,/a-b,/a/b"


def test_a_tmp_mount_of_your_own_replaces_the_default_one():
    built = definition(mounts="/srv/tmp:/tmp")
    assert built["Volumes"] == [{"Name": "tmp", "Host": {"SourcePath": "/srv/tmp"}}]
    [only] = built["ContainerDefinitions"]
    assert contract.ENV_VOLUMES not in {pair["Name"] for pair in only["Environment"]} or {
        pair["Name"]: pair["Value"] for pair in only["Environment"]}[contract.ENV_VOLUMES] == ""


def test_container_limits_and_filesystem():
    default = container()
    assert default["Ulimits"] == [{"Name": "nofile", "SoftLimit": 10240, "HardLimit": 10240}]
    assert default["ReadonlyRootFilesystem"] is True
    assert default["Essential"] is True
    assert container(writable_filesystem=True)["ReadonlyRootFilesystem"] is False
    assert container(stop_timeout=90)["StopTimeout"] == 90


def test_logs_go_to_the_log_group_with_the_version_as_stream_prefix():
    assert container(service_version="feedbeef")["LogConfiguration"] == {
        "LogDriver": "awslogs",
        "Options": {"awslogs-group": {"Ref": "WatchbotLogGroup"}, "awslogs-region": {"Ref": "AWS::Region"},
                    "awslogs-stream-prefix": "feedbeef"}}


def test_default_image_is_the_service_repository_at_the_version():
    assert container(service="team/worker", service_version="feedbeef")["Image"] == {
        "Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/team/worker:feedbeef"}


def test_default_image_takes_an_intrinsic_version():
    assert container(service_version={"Ref": "GitSha"})["Image"] == {"Fn::Sub": [
        "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/my-worker:${ServiceVersion}",
        {"ServiceVersion": {"Ref": "GitSha"}}]}


def test_an_explicit_image_replaces_the_default():
    assert container(image="python:3.12")["Image"] == "python:3.12"
    assert container(image={"Ref": "Image"})["Image"] == {"Ref": "Image"}


def test_family_defaults_to_the_service_made_valid():
    assert definition(service="team/worker.v2")["Family"] == "team-worker-v2"
    assert definition(family="custom")["Family"] == "custom"
    assert definition(family={"Ref": "Family"})["Family"] == {"Ref": "Family"}


def test_task_role_is_wired_by_name():
    assert definition(prefix="Thumbs")["TaskRoleArn"] == {"Fn::GetAtt": ["ThumbsTaskRole", "Arn"]}


def test_ec2_reserves_soft_memory_by_default():
    built = definition()
    [only] = built["ContainerDefinitions"]
    assert only["MemoryReservation"] == 256
    assert "Memory" not in only and "Cpu" not in only and "Privileged" not in only
    assert built["RequiresCompatibilities"] == ["EC2"]
    assert "NetworkMode" not in built and "Cpu" not in built


def test_ec2_reservation_and_privilege_are_set_on_the_container():
    only = container(reservation={"memory": 2048, "soft_memory": 1024, "cpu": 512}, privileged=True)
    assert (only["Memory"], only["MemoryReservation"], only["Cpu"]) == (2048, 1024, 512)
    assert only["Privileged"] is True


def test_fargate_sizes_the_task_and_runs_in_awsvpc():
    built = definition(**FARGATE, reservation={"cpu": 1024, "memory": 4096}, ephemeral_storage_gib=50)
    assert built["RequiresCompatibilities"] == ["FARGATE"]
    assert built["NetworkMode"] == "awsvpc"
    assert (built["Cpu"], built["Memory"]) == ("1024", "4096")
    assert built["EphemeralStorage"] == {"SizeInGiB": 50}
    assert built["ExecutionRoleArn"] == {"Fn::GetAtt": ["WatchbotExecutionRole", "Arn"]}
    [only] = built["ContainerDefinitions"]
    assert not {"Memory", "MemoryReservation", "Cpu", "Privileged"} & set(only)


def test_fargate_defaults_to_the_smallest_size():
    built = definition(capacity="FARGATE_SPOT", fargate_subnets=["subnet-0123abcd"])
    assert (built["Cpu"], built["Memory"]) == ("256", "512")
    assert built["RequiresCompatibilities"] == ["FARGATE"]


def test_runtime_platform():
    built = definition(**FARGATE, runtime_platform={"cpu_architecture": "ARM64"})
    assert built["RuntimePlatform"] == {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"}
    assert "RuntimePlatform" not in definition()


def test_ec2_without_ecr_or_secrets_has_no_execution_role():
    assert "ExecutionRoleArn" not in definition(image="python:3.12")
    assert definition()["ExecutionRoleArn"] == {"Fn::GetAtt": ["WatchbotExecutionRole", "Arn"]}


def test_health_check_uses_cloudformation_names():
    check = {"command": ["CMD-SHELL", "test -f /tmp/alive"], "interval": 30, "timeout": 5, "retries": 3,
             "start_period": 10}
    assert container(health_check=check)["HealthCheck"] == {
        "Command": ["CMD-SHELL", "test -f /tmp/alive"], "Interval": 30, "Timeout": 5, "Retries": 3,
        "StartPeriod": 10}
    assert "HealthCheck" not in container()


def test_container_name_defaults_to_the_service():
    assert container(service="team/worker.v2")["Name"] == "team-worker-v2"
    assert container(container_name="watcher")["Name"] == "watcher"
