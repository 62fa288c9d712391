"""OptionsError cases: bad input fails up front, naming the option and what is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.templates import FARGATE, REQUIRED, options
from watchbot_cfn import template
from watchbot_cfn.errors import OptionsError
from watchbot_cfn.intrinsics import RawIntrinsic
from watchbot_cfn.options import Options


def rejected(**given: Any) -> OptionsError:
    with pytest.raises(OptionsError) as caught:
        Options.build(**given)
    return caught.value


@pytest.mark.parametrize("missing", ["cluster", "service", "service_version", "command"])
def test_each_required_option_is_named_when_missing(missing):
    given = {k: v for k, v in REQUIRED.items() if k != missing}
    error = rejected(**given)
    assert error.option == missing
    assert "required" in str(error)


def test_an_unknown_option_suggests_the_closest_name():
    error = rejected(**REQUIRED, concurency=2)
    assert error.option == "concurency"
    assert "did you mean 'concurrency'?" in str(error)


def test_an_original_camel_case_name_suggests_its_snake_case_name():
    error = rejected(**REQUIRED, deadletterThreshold=3)
    assert "did you mean 'dead_letter_threshold'?" in str(error)


def test_min_size_may_not_exceed_max_size():
    error = rejected(**REQUIRED, min_size=3, max_size=2)
    assert (error.option, error.value) == ("min_size", 3)
    assert "max_size" in str(error)


def test_intrinsic_sizes_are_not_compared():
    assert options(min_size={"Ref": "Min"}, max_size=2).min_size.data == {"Ref": "Min"}


def test_one_notification_target_is_required():
    given = {k: v for k, v in REQUIRED.items() if k != "notification_email"}
    assert rejected(**given).option == "notification_email"


def test_notification_email_and_topic_are_exclusive():
    error = rejected(**REQUIRED, notification_topic="arn:aws:sns:us-east-1:123456789012:alarms")
    assert error.option == "notification_topic"
    assert "not both" in str(error)


@pytest.mark.parametrize("reservation, text", [
    ({"cpu": 256, "memory": 4096}, "Fargate cpu 256 allows memory (MiB) 512, 1024, 2048"),
    ({"cpu": 300, "memory": 1024}, "Fargate cpu must be one of"),
    ({"cpu": 1024, "memory": 1024}, "Fargate cpu 1024 allows memory (MiB) 2048 to 8192 in steps of 1024"),
])
def test_invalid_fargate_cpu_memory_pairs_say_what_is_allowed(reservation, text):
    error = rejected(**REQUIRED, **FARGATE, reservation=reservation)
    assert error.option == "reservation"
    assert text in str(error)


def test_valid_fargate_pairs_pass():
    assert options(**FARGATE, reservation={"cpu": 4096, "memory": 30720}).fargate_cpu_memory == (4096, 30720)


def test_max_job_duration_is_capped_at_twelve_hours():
    error = rejected(**REQUIRED, max_job_duration=43_201)
    assert error.option == "max_job_duration"
    assert "43,200" in str(error)
    assert options(max_job_duration=43_200).max_job_duration == 43_200


@pytest.mark.parametrize("prefix", ["my-worker", "9lives", "with space", "", "A" * 33])
def test_prefix_must_be_alphanumeric_and_start_with_a_letter(prefix):
    assert rejected(**REQUIRED, prefix=prefix).option == "prefix"


def test_fifo_systems_have_no_webhook():
    error = rejected(**REQUIRED, fifo=True, webhook=True)
    assert error.option == "webhook"
    assert "FIFO" in str(error)


def test_template_raises_before_building_anything():
    with pytest.raises(OptionsError):
        template(**REQUIRED, capacity="FARGATE")  # no subnets


def test_intrinsics_are_refused_where_a_literal_is_required():
    assert rejected(**REQUIRED, concurrency={"Ref": "Jobs"}).option == "concurrency"


def test_dict_intrinsics_are_wrapped_for_troposphere():
    assert isinstance(options(service_version={"Ref": "GitSha"}).service_version, RawIntrinsic)


# --- checks of values the builders put into the template -----------------------

@pytest.mark.parametrize("name, value", [
    ("fargate_subnets", ["subnet-1"]),
    ("fargate_security_groups", ["default"]),
])
def test_network_ids_must_look_like_ids(name, value):
    assert rejected(**REQUIRED, **FARGATE | {name: value}).option == name


@pytest.mark.parametrize("secrets, text", [
    ({"TOKEN": 5}, "must be a secret ARN"),
    ({"TOKEN": "arn:aws:s3:::bucket/key"}, "Secrets Manager or SSM parameter ARN"),
    ({"QueueUrl": "/p"}, "set by Watchbot itself"),
    ({"bad-name": "/p"}, "environment-variable names"),
])
def test_secrets_must_be_readable_arns_or_parameter_names(secrets, text):
    error = rejected(**REQUIRED, secrets=secrets)
    assert error.option == "secrets" and text in str(error)


def test_a_variable_is_given_once_across_env_and_secrets():
    assert "give each variable once" in str(rejected(**REQUIRED, env={"TOKEN": "x"}, secrets={"TOKEN": "/p"}))


@pytest.mark.parametrize("name", ["QueueUrl", "visibilityTimeout", "ProgressTable"])
def test_env_may_not_override_the_contract(name):
    assert rejected(**REQUIRED, env={name: "x"}).option == "env"


@pytest.mark.parametrize("statement, text", [
    ({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"}, "no Principal"),
    ({"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}, "Effect"),
    ({"Effect": "Allow", "Resource": "*"}, "Action"),
    ({"Effect": "Allow", "Action": "s3:*"}, "Resource"),
    ("s3:GetObject", "an object"),
])
def test_permissions_must_be_role_statements(statement, text):
    error = rejected(**REQUIRED, permissions=[statement])
    assert error.option == "permissions" and text in str(error)


@pytest.mark.parametrize("check, text", [
    ({"command": ["CMD", "true"], "interval": 1}, "interval"),
    ({"command": ["CMD", "true"], "retries": 11}, "retries"),
    ({"command": ["true"]}, "CMD"),
    ({"command": "true"}, "list of strings"),
])
def test_health_check_values_stay_within_ecs_limits(check, text):
    error = rejected(**REQUIRED, health_check=check)
    assert error.option == "health_check" and text in str(error)


@pytest.mark.parametrize("mounts", ["/a,/b:/a", "tmp", "/a:/b:/c"])
def test_mounts_are_absolute_and_each_container_path_is_mounted_once(mounts):
    assert rejected(**REQUIRED, mounts=mounts).option == "mounts"


def test_fargate_cannot_mount_host_paths():
    assert rejected(**REQUIRED, **FARGATE, mounts="/host:/data").option == "mounts"


@pytest.mark.parametrize("name, value", [
    ("placement_constraints", [{"Type": "anywhere"}]),
    ("placement_strategies", [{"Type": "spread", "Expression": "x"}]),
])
def test_placement_objects_are_checked(name, value):
    assert rejected(**REQUIRED, **{name: value}).option == name


@pytest.mark.parametrize("name, value", [
    ("service_version", "v1:latest"),
    ("family", "my.family"),
    ("runtime_platform", {"os_family": "WINDOWS_SERVER_2022_CORE"}),
])
def test_names_that_end_up_in_the_template_are_valid_there(name, value):
    assert rejected(**{**REQUIRED, name: value}).option == name


def test_the_drain_deadline_leaves_the_watcher_its_margin_inside_the_stop_timeout():
    from watchbot_cfn import contract

    error = rejected(**REQUIRED, drain_timeout=27, stop_timeout=30)
    assert error.option == "drain_timeout"
    assert f"stop_timeout - {contract.SHUTDOWN_MARGIN}" in str(error)
    fitting = Options.build(**REQUIRED, drain_timeout=55, stop_timeout=60)
    assert fitting.stop_timeout == contract.stop_timeout_for(fitting.drain_timeout)
