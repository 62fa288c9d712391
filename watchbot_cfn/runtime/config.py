"""The watcher's settings, read once from the container environment.

Everything is validated up front so that a bad task definition fails at start
with one readable line (exit 2) instead of misbehaving on the first message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from watchbot_cfn import contract

__all__ = ["ConfigError", "WatcherConfig", "load_config", "parse_bool", "read", "watcher_fields"]

_REGION_IN_URL = re.compile(r"^https?://sqs[.-]([a-z0-9-]+)\.amazonaws\.com", re.IGNORECASE)


class ConfigError(contract.SettingError):
    """A container variable is missing or unusable; the message names it."""


_ROW = "setting"


def read(row: contract.Setting) -> Any:
    """A field the watcher reads from ``row``'s container variable, with the row's default."""
    return field(default=row.default, metadata={_ROW: row})


def watcher_fields() -> dict[contract.Setting, str]:
    """Each row the watcher reads -> its field of :class:`WatcherConfig`."""
    return {f.metadata[_ROW]: f.name for f in fields(WatcherConfig) if _ROW in f.metadata}


@dataclass(frozen=True)
class WatcherConfig:
    """Settings of one watcher process (see docs/runtime.md for each one)."""

    queue_url: str = field(metadata={_ROW: contract.QUEUE_URL})
    command: str = field()
    volumes: tuple[str, ...] = read(contract.VOLUMES)
    max_job_duration: float = read(contract.MAX_JOB_DURATION)  # seconds, 0 = unlimited
    writable_filesystem: bool = read(contract.WRITABLE_FILESYSTEM)
    structured_logging: bool = read(contract.STRUCTURED_LOGGING)
    fifo: bool = read(contract.FIFO)
    concurrency: int = read(contract.CONCURRENCY)
    drain_timeout: float = read(contract.DRAIN_TIMEOUT)
    visibility_timeout: int = read(contract.VISIBILITY_TIMEOUT)
    task_protection: bool = read(contract.TASK_PROTECTION)
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
    setting = contract.Setting(name, contract.KIND_BOOL, "", default=default)
    try:
        return bool(setting.parse(raw))
    except contract.SettingError as error:
        raise ConfigError(str(error)) from None


def region_from_queue_url(url: str) -> str | None:
    """ECS on EC2 does not always set AWS_REGION; the queue URL names it."""
    match = _REGION_IN_URL.match(url)
    return match.group(1).lower() if match else None


def load_config(command: str, environ: Mapping[str, str] | None = None) -> WatcherConfig:
    """Build the settings from ``environ`` (default: this process's environment).

    Every variable the watcher reads is a row of ``contract.SETTINGS`` that a field of
    :class:`WatcherConfig` points at; each is parsed by its row, so the watcher accepts
    exactly what the template may write.
    """
    env = os.environ if environ is None else environ
    if not command.strip():
        raise ConfigError("no command given: use `watchbot listen <command>`")
    values: dict[str, Any] = {}
    for setting, name in watcher_fields().items():
        try:
            values[name] = setting.parse(env.get(setting.env))
        except contract.SettingError as error:
            raise ConfigError(str(error)) from None
    queue_url = values.pop("queue_url")
    if queue_url is None:
        raise ConfigError(f"{contract.ENV_QUEUE_URL} is not set: the watcher needs the work queue's URL")
    values["fifo"] = values["fifo"] or queue_url.endswith(".fifo")
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or region_from_queue_url(queue_url)
    return WatcherConfig(queue_url=queue_url, command=command, region=region, **values)
