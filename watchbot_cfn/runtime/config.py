"""The watcher's settings, read once from the container environment.

Everything is validated up front so that a bad task definition fails at start
with one readable line (exit 2) instead of misbehaving on the first message.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from watchbot_cfn import contract

__all__ = ["ConfigError", "WatcherConfig", "parse_bool", "load_config"]

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}
_REGION_IN_URL = re.compile(r"^https?://sqs[.-]([a-z0-9-]+)\.amazonaws\.com", re.IGNORECASE)

#: Upper bound for ``concurrency``: each job is a thread and a process.
MAX_CONCURRENCY = 256


class ConfigError(ValueError):
    """A container variable is missing or unusable; the message names it."""


@dataclass(frozen=True)
class WatcherConfig:
    """Settings of one watcher process (see docs/runtime.md for each one)."""

    queue_url: str
    command: str
    volumes: tuple[str, ...] = ()
    max_job_duration: float = 0.0  # seconds, 0 = unlimited
    writable_filesystem: bool = False
    structured_logging: bool = False
    fifo: bool = False
    concurrency: int = 1
    drain_timeout: float = float(contract.DEFAULT_DRAIN_TIMEOUT)
    visibility_timeout: int = contract.VISIBILITY_TIMEOUT
    region: str | None = None

    @property
    def heartbeat_interval(self) -> float:
        """Extend visibility after 2/3 of it has passed, like the original's 120 of 180 s."""
        return max(self.visibility_timeout * 2 / 3, 0.5)

    @property
    def slots(self) -> int:
        """Jobs run at once; a writable filesystem is only clean for one job."""
        return 1 if self.writable_filesystem else self.concurrency


def parse_bool(name: str, raw: str | None, default: bool = False) -> bool:
    """Template booleans arrive as "true"/"false"; accept the usual spellings too."""
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _number(name: str, raw: str | None, default: float, low: float, high: float) -> float:
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not math.isfinite(value) or value < low or value > high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {raw!r}")
    return value


def _integer(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < low or value > high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {raw!r}")
    return value


def region_from_queue_url(url: str) -> str | None:
    """ECS on EC2 does not always set AWS_REGION; the queue URL names it."""
    match = _REGION_IN_URL.match(url)
    return match.group(1).lower() if match else None


def load_config(command: str, environ: Mapping[str, str] | None = None) -> WatcherConfig:
    """Build the settings from ``environ`` (default: this process's environment)."""
    env = os.environ if environ is None else environ
    if not command.strip():
        raise ConfigError("no command given: use `watchbot listen <command>`")
    queue_url = (env.get(contract.ENV_QUEUE_URL) or "").strip()
    if not queue_url:
        raise ConfigError(f"{contract.ENV_QUEUE_URL} is not set: the watcher needs the work queue's URL")
    volumes = tuple(v.strip() for v in env.get(contract.ENV_VOLUMES, "").split(",") if v.strip())
    for volume in volumes:
        if not os.path.isabs(volume) or os.path.normpath(volume) == "/":
            raise ConfigError(f"{contract.ENV_VOLUMES} entries must be absolute paths other than /, got {volume!r}")
    region = (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or region_from_queue_url(queue_url))
    return WatcherConfig(
        queue_url=queue_url,
        command=command,
        volumes=volumes,
        max_job_duration=_number(contract.ENV_MAX_JOB_DURATION, env.get(contract.ENV_MAX_JOB_DURATION), 0.0,
                                 0.0, float(contract.MAX_JOB_DURATION)),
        writable_filesystem=parse_bool(contract.ENV_WRITABLE_FILESYSTEM, env.get(contract.ENV_WRITABLE_FILESYSTEM)),
        structured_logging=parse_bool(contract.ENV_STRUCTURED_LOGGING, env.get(contract.ENV_STRUCTURED_LOGGING)),
        fifo=parse_bool(contract.ENV_FIFO, env.get(contract.ENV_FIFO)) or queue_url.endswith(".fifo"),
        concurrency=_integer(contract.ENV_CONCURRENCY, env.get(contract.ENV_CONCURRENCY), 1, 1, MAX_CONCURRENCY),
        drain_timeout=_number(contract.ENV_DRAIN_TIMEOUT, env.get(contract.ENV_DRAIN_TIMEOUT),
                              float(contract.DEFAULT_DRAIN_TIMEOUT), 0.0, float(contract.MAX_VISIBILITY)),
        visibility_timeout=_integer(contract.ENV_VISIBILITY_TIMEOUT, env.get(contract.ENV_VISIBILITY_TIMEOUT),
                                    contract.VISIBILITY_TIMEOUT, 1, contract.MAX_VISIBILITY),
        region=region,
    )
