from __future__ import annotations

import pytest

from watchbot_cfn import contract
from watchbot_cfn.runtime.config import ConfigError, load_config, parse_bool, region_from_queue_url

URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/work"


def test_defaults_keep_old_stacks_behaving_as_before():
    config = load_config("echo hi", {contract.ENV_QUEUE_URL: URL})
    assert config.concurrency == 1 and config.slots == 1
    assert config.visibility_timeout == 180
    assert config.heartbeat_interval == 120
    assert config.drain_timeout == contract.DEFAULT_DRAIN_TIMEOUT < contract.DEFAULT_STOP_TIMEOUT
    assert config.max_job_duration == 0
    assert config.volumes == ()
    assert not config.fifo and not config.structured_logging and not config.writable_filesystem
    assert config.region == "eu-west-1"


def test_every_setting_is_read():
    env = {
        contract.ENV_QUEUE_URL: URL + ".fifo", contract.ENV_VOLUMES: "/tmp, /data ,",
        contract.ENV_MAX_JOB_DURATION: "90", contract.ENV_WRITABLE_FILESYSTEM: "yes",
        contract.ENV_STRUCTURED_LOGGING: "TRUE", contract.ENV_CONCURRENCY: "8",
        contract.ENV_DRAIN_TIMEOUT: "4.5", contract.ENV_VISIBILITY_TIMEOUT: "30", "AWS_REGION": "us-west-2",
    }
    config = load_config("run", env)
    assert config.volumes == ("/tmp", "/data")
    assert config.max_job_duration == 90
    assert config.writable_filesystem and config.structured_logging and config.fifo
    assert config.concurrency == 8 and config.slots == 1  # a writable filesystem is clean for one job only
    assert config.drain_timeout == 4.5
    assert config.visibility_timeout == 30 and config.heartbeat_interval == 20
    assert config.region == "us-west-2"


@pytest.mark.parametrize("name, value, words", [
    (contract.ENV_MAX_JOB_DURATION, "ten", "maxJobDuration must be a number"),
    (contract.ENV_MAX_JOB_DURATION, "43201", "maxJobDuration must be between"),
    (contract.ENV_CONCURRENCY, "0", "concurrency must be between"),
    (contract.ENV_CONCURRENCY, "2.5", "concurrency must be a whole number"),
    (contract.ENV_STRUCTURED_LOGGING, "maybe", "structuredLogging must be true or false"),
    (contract.ENV_VOLUMES, "relative/path", "Volumes entries must be absolute"),
    (contract.ENV_VOLUMES, "/", "Volumes entries must be absolute paths other than /"),
    (contract.ENV_VOLUMES, "/tmp,//", "Volumes entries must be absolute paths other than /"),
    (contract.ENV_VOLUMES, "/tmp/../.", "Volumes entries must be absolute paths other than /"),
    (contract.ENV_DRAIN_TIMEOUT, "-1", "drainTimeout must be between"),
    (contract.ENV_VISIBILITY_TIMEOUT, "0", "visibilityTimeout must be between"),
])
def test_bad_values_name_the_variable(name, value, words):
    with pytest.raises(ConfigError, match=words):
        load_config("x", {contract.ENV_QUEUE_URL: URL, name: value})


def test_missing_queue_url_and_empty_command_are_errors():
    with pytest.raises(ConfigError, match="QueueUrl is not set"):
        load_config("x", {})
    with pytest.raises(ConfigError, match="no command"):
        load_config("  ", {contract.ENV_QUEUE_URL: URL})


@pytest.mark.parametrize("raw, expected", [("true", True), ("1", True), ("Yes", True), ("false", False),
                                           ("0", False), ("no", False), ("", False)])
def test_booleans(raw, expected):
    assert parse_bool("x", raw) is expected


def test_region_from_queue_url():
    assert region_from_queue_url("https://sqs.ap-southeast-2.amazonaws.com/1/q") == "ap-southeast-2"
    assert region_from_queue_url("http://127.0.0.1:5000/1/q") is None


def test_the_default_drain_fits_the_default_stop_timeout():
    # the task definition's StopTimeout must leave the watcher its drain plus the kill grace and returns
    assert contract.stop_timeout_for(contract.DEFAULT_DRAIN_TIMEOUT) == contract.DEFAULT_STOP_TIMEOUT
    assert contract.stop_timeout_for(4.2) == 10
    from watchbot_cfn.runtime import watcher

    assert watcher._STOPPED_JOBS_WAIT + watcher._FINAL_SETTLE <= contract.SHUTDOWN_MARGIN
