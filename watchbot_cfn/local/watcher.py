"""The real watcher on this machine, with the environment ECS would give its container.

The environment comes from the rendered task definition (the container that
runs ``watchbot listen``), resolved against the local stack: queue URL, topic,
concurrency, visibility, retries, maxJobDuration, FIFO, the user's own
variables. Three things differ on purpose:

- Task volumes (``Volumes``, ``/tmp`` by default) are emptied between jobs. On
  this machine that would be the user's own ``/tmp``, so every volume is
  mapped to a private directory of this run instead, and ``TMPDIR`` points at
  the one that stands for ``/tmp``. The command runs in the current directory,
  where its code is.
- Secrets (Secrets Manager, SSM) are taken from this shell's environment when
  a variable of that name is set, and left out otherwise.
- Every ``AWS_*`` variable of the shell is replaced: the watcher and the jobs
  talk to the local endpoint with placeholder credentials.

Finished jobs are counted from the watcher's own summary lines
(:mod:`watchbot_cfn.contract`), as the log metric filters count them on AWS.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchbot_cfn import contract
from watchbot_cfn.analysis.resolve import StackResolver, Unresolvable
from watchbot_cfn.local.endpoint import LocalError
from watchbot_cfn.local.processes import spawn, stop_process
from watchbot_cfn.naming import Names

__all__ = ["JobCounts", "JobResult", "WatcherProcess", "WatcherSpec", "map_volumes", "outcome_of", "queue_depths",
           "result_note", "result_of", "watcher_spec"]

#: The watcher's container variables; inherited values of these never leak from the shell.
CONTAINER_VARIABLES = {setting.env for setting in contract.SETTINGS} | set(contract.WORKER_VARIABLES)
_PLAIN_RESULT = re.compile(r"\[" + re.escape(contract.SOURCE_WATCHER)
                           + r"\] \[([^\]]*)\] completed in \d+ ms after (\d+) receives, .* outcome (\w+)\s*$")


@dataclass(frozen=True)
class WatcherSpec:
    """What to run for one system: the command and the container environment (resolved, unmapped)."""

    prefix: str
    command: str
    environment: dict[str, str]
    secrets: tuple[str, ...]
    queue_url: str
    dead_letter_queue_url: str | None
    dead_letter_threshold: int | None = None  # the work queue's maxReceiveCount

    @property
    def volumes(self) -> list[str]:
        raw = self.environment.get(contract.ENV_VOLUMES, "")
        return [v.strip() for v in raw.split(",") if v.strip()]

    @property
    def drain_timeout(self) -> float:
        try:
            return float(self.environment.get(contract.ENV_DRAIN_TIMEOUT, contract.DEFAULT_DRAIN_TIMEOUT))
        except ValueError:
            return float(contract.DEFAULT_DRAIN_TIMEOUT)


def watcher_spec(resolver: StackResolver, prefix: str) -> WatcherSpec:
    """The ``watchbot listen`` container of the system's task definition, resolved against the stack."""
    names = Names(prefix)
    resources = resolver.template.get("Resources") or {}
    definition = resources.get(names.task_definition)
    if not definition:
        raise LocalError(f"system {prefix}: the template has no task definition {names.task_definition}")
    containers = (definition.get("Properties") or {}).get("ContainerDefinitions") or []
    for container in containers:
        command = container.get("Command") or []
        if isinstance(command, list) and command[:2] == ["watchbot", "listen"] and len(command) > 2:
            break
    else:
        raise LocalError(f"system {prefix}: no container of {names.task_definition} runs `watchbot listen`")
    environment: dict[str, str] = {}
    for entry in container.get("Environment") or []:
        try:
            value = resolver.resolve(entry.get("Value", ""))
        except Unresolvable as error:
            raise LocalError(f"system {prefix}: environment variable {entry.get('Name')}: {error}") from None
        environment[str(entry.get("Name"))] = value if isinstance(value, str) else json.dumps(value)
    secrets = tuple(str(secret.get("Name")) for secret in container.get("Secrets") or [])
    queue = environment.get(contract.ENV_QUEUE_URL) or resolver.physical.get(names.queue, "")
    return WatcherSpec(prefix=prefix, command=" ".join(str(word) for word in command[2:]),
                       environment=environment, secrets=secrets, queue_url=queue,
                       dead_letter_queue_url=resolver.physical.get(names.dead_letter_queue),
                       dead_letter_threshold=_max_receive_count(resolver, names.queue))


def _max_receive_count(resolver: StackResolver, queue: str) -> int | None:
    """The work queue's maxReceiveCount, when the template says it plainly."""
    properties = ((resolver.template.get("Resources") or {}).get(queue) or {}).get("Properties") or {}
    try:
        value = resolver.resolve((properties.get("RedrivePolicy") or {}).get("maxReceiveCount"))
        return int(value)
    except (Unresolvable, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class JobResult:
    """What a watcher summary line says of one finished job."""

    message_id: str
    outcome: str
    receives: int


def result_of(line: str) -> JobResult | None:
    """The finished job a watcher summary line (plain or structured) reports, else None."""
    text = line.strip()
    if text.startswith("{"):
        try:
            record = json.loads(text)
        except ValueError:
            return None
        if (isinstance(record, dict) and record.get("name") == contract.SOURCE_WATCHER
                and "worker_event" in record and isinstance(record.get("outcome"), str)):
            try:
                return JobResult(str(record.get("watchbot_sqs_message_id", "")), record["outcome"],
                                 int(record["receives"]))
            except (KeyError, TypeError, ValueError):
                return None
        return None
    match = _PLAIN_RESULT.search(text)
    return JobResult(match.group(1), match.group(3), int(match.group(2))) if match else None


def result_note(result: JobResult, threshold: int | None) -> str | None:
    """What happens next to a message the job did not settle for good: back when, or off to the dead letters."""
    if result.outcome not in (contract.OUTCOME_FAILURE, contract.OUTCOME_NOOP):
        return None
    wait = contract.backoff_seconds(result.receives)
    if threshold is not None and result.receives >= threshold:
        return (f"message {result.message_id}: {result.outcome} on receive {result.receives} of {threshold}: SQS "
                f"moves it to the dead-letter queue when it is due back (in about {wait:,} s)")
    of = f" of {threshold}" if threshold is not None else ""
    return (f"message {result.message_id}: {result.outcome} on receive {result.receives}{of}: returned, visible "
            f"again in about {wait:,} s")


def map_volumes(volumes: list[str], root: Path) -> tuple[list[tuple[str, Path]], Path]:
    """(container path, private directory) for each volume, and the directory that stands for /tmp."""
    mapped = []
    for volume in volumes:
        target = root / (volume.strip("/").replace("/", "_") or "root")
        target.mkdir(parents=True, exist_ok=True)
        mapped.append((volume, target))
    by_path = dict(mapped)
    tmp = by_path.get("/tmp") or (mapped[0][1] if mapped else root / "tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    return mapped, tmp


def outcome_of(line: str) -> str | None:
    """The job outcome a watcher summary line reports (plain or structured), else None."""
    result = result_of(line)
    return result.outcome if result else None


@dataclass
class JobCounts:
    """Finished jobs by outcome, as the watcher reported them."""

    by_outcome: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        self.by_outcome[outcome] = self.by_outcome.get(outcome, 0) + 1

    @property
    def succeeded(self) -> int:
        return self.by_outcome.get(contract.OUTCOME_SUCCESS, 0)

    @property
    def rejected(self) -> int:
        return self.by_outcome.get(contract.OUTCOME_REJECTED, 0)

    @property
    def failed(self) -> int:
        """Failures and rejections: both count as failed jobs (the WorkerErrors metric)."""
        return self.by_outcome.get(contract.OUTCOME_FAILURE, 0) + self.rejected


class WatcherProcess:
    """One watcher subprocess for one system; its lines go to ``emit``, its summaries to ``counts``."""

    def __init__(self, spec: WatcherSpec, endpoint: str, region: str, run_dir: Path,
                 emit: Callable[[str], None]) -> None:
        self.spec = spec
        self.emit = emit
        self.counts = JobCounts()
        self.volumes, self.tmpdir = map_volumes(spec.volumes, run_dir / "volumes" / spec.prefix)
        self.env = self._environment(endpoint, region)
        self.process: subprocess.Popen | None = None
        self.missing_secrets = [name for name in spec.secrets if name not in os.environ]
        self._reader: threading.Thread | None = None
        self._lock = threading.Lock()

    def _environment(self, endpoint: str, region: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if key not in CONTAINER_VARIABLES and not key.startswith("AWS_")}
        env.update({name: os.environ[name] for name in self.spec.secrets if name in os.environ})
        env.update(self.spec.environment)
        env[contract.ENV_VOLUMES] = ",".join(str(path) for _, path in self.volumes)
        env.update(TMPDIR=str(self.tmpdir), AWS_ENDPOINT_URL=endpoint, AWS_REGION=region, AWS_DEFAULT_REGION=region,
                   AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local", PYTHONUNBUFFERED="1")
        return env

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        self.process = spawn([sys.executable, "-m", "watchbot_cfn.runtime.cli", "listen", self.spec.command],
                             env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._read, args=(self.process,), daemon=True,
                                        name=f"watcher-{self.spec.prefix}")
        self._reader.start()

    def _read(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            result = result_of(line)
            if result:
                with self._lock:
                    self.counts.add(result.outcome)
            self.emit(line)
            note = result_note(result, self.spec.dead_letter_threshold) if result else None
            if note:
                self.emit(f"[local] {note}")

    def signal_stop(self) -> None:
        """Ask the watcher to drain (a second call makes it stop running jobs at once)."""
        if self.running:
            assert self.process is not None
            try:
                self.process.terminate()
            except ProcessLookupError:
                pass

    def wait(self, timeout: float) -> int | None:
        if self.process is None:
            return None
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.finish_reading()
        return code

    def kill(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=0)
            self.finish_reading()

    def finish_reading(self) -> None:
        if self._reader is not None:
            self._reader.join(5)

    def snapshot(self) -> JobCounts:
        with self._lock:
            return JobCounts(dict(self.counts.by_outcome))


def queue_depths(sqs: Any, url: str | None) -> tuple[int, int]:
    """(visible, in flight) of a queue; (0, 0) when there is none."""
    if not url:
        return 0, 0
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])

