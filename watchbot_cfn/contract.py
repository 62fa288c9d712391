"""Facts the template, the runtime watcher and the operator tools must agree on.

Standard library only: the runtime imports this module inside users' containers.
The metric filter patterns and the watcher's log lines are defined here together
so that one change moves both sides, and tests check a real line against each
pattern.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

# --- Container environment (set by the template, read by the watcher) -------

ENV_QUEUE_URL = "QueueUrl"
ENV_LOG_GROUP = "LogGroup"
ENV_WORK_TOPIC = "WorkTopic"
ENV_WRITABLE_FILESYSTEM = "writableFilesystem"
ENV_MAX_JOB_DURATION = "maxJobDuration"
ENV_VOLUMES = "Volumes"
ENV_FIFO = "Fifo"
ENV_STRUCTURED_LOGGING = "structuredLogging"
ENV_PROGRESS_TABLE = "ProgressTable"
#: Jobs one watcher runs at once (this project's addition; default 1).
ENV_CONCURRENCY = "concurrency"
#: Seconds the watcher lets running jobs finish after SIGTERM (this project's addition).
ENV_DRAIN_TIMEOUT = "drainTimeout"
#: Seconds a received message stays hidden; the watcher extends it while a job
#: runs. Must equal the work queue's VisibilityTimeout (this project's addition).
ENV_VISIBILITY_TIMEOUT = "visibilityTimeout"

# --- Worker environment (per message) ---------------------------------------

WORKER_MESSAGE = "Message"
WORKER_SUBJECT = "Subject"
WORKER_MESSAGE_ID = "MessageId"
WORKER_SENT_TIMESTAMP = "SentTimestamp"
WORKER_FIRST_RECEIVE_TIMESTAMP = "ApproximateFirstReceiveTimestamp"
WORKER_RECEIVE_COUNT = "ApproximateReceiveCount"
#: Path of a file holding the whole message body; always set, even when
#: ``Message`` is too large for one environment string.
WORKER_MESSAGE_FILE = "MessageFile"

#: Linux limit for one environment string ("NAME=value"), MAX_ARG_STRLEN.
ENV_STRING_LIMIT = 128 * 1024

# --- Exit codes -------------------------------------------------------------

EXIT_SUCCESS = 0
EXIT_REJECTED = 3
EXIT_NOOP = 4
#: The watcher's own exit code for unusable configuration.
EXIT_BAD_CONFIG = 2

# --- Queue and retry figures ------------------------------------------------

VISIBILITY_TIMEOUT = 180
MAX_VISIBILITY = 43_200
MAX_JOB_DURATION = 43_200
DEFAULT_DEAD_LETTER_THRESHOLD = 10
DEFAULT_DRAIN_TIMEOUT = 25
#: ECS stopTimeout the task definition sets; the drain timeout must fit inside it.
DEFAULT_STOP_TIMEOUT = 30
#: Seconds the watcher may still need after its drain deadline: SIGTERM-to-SIGKILL
#: grace for jobs still running, then returning their messages. A task's
#: stopTimeout should be at least drainTimeout + SHUTDOWN_MARGIN.
SHUTDOWN_MARGIN = 5


def stop_timeout_for(drain_timeout: float) -> int:
    """The smallest ECS stopTimeout that lets a watcher with ``drain_timeout`` shut down cleanly."""
    return int(-(-drain_timeout // 1)) + SHUTDOWN_MARGIN


def backoff_seconds(receive_count: int) -> int:
    """Visibility for a returned message: 2 ** receives, capped by SQS's 12 h."""
    if receive_count >= 16:  # 2**16 > 43,200: avoid computing huge powers
        return MAX_VISIBILITY
    return min(2 ** max(receive_count, 0), MAX_VISIBILITY)


# --- Log lines --------------------------------------------------------------

SOURCE_WATCHER = "watcher"
SOURCE_WORKER = "worker"
#: Every plain line that reports a failed job contains this marker.
FAILURE_MARKER = "[failure]"
#: Structured ``event`` values.
EVENT_FAILURE = "failure"
EVENT_SUMMARY = "summary"
EVENT_LOG = "log"


@dataclass(frozen=True)
class JobSummary:
    """What the watcher reports once per finished job; feeds three metrics."""

    outcome: str  # success | rejected | noop | failure
    exit_code: int | None  # None when killed by a signal or never started
    duration: int  # ms the job ran
    receives: int  # ApproximateReceiveCount
    response_duration: int  # ms from SentTimestamp to finish


def utc_timestamp(now: datetime | None = None) -> str:
    """ISO 8601 UTC with milliseconds, the time format of every log line."""
    now = now or datetime.now(timezone.utc)
    return now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def plain_line(source: str, message_id: str, text: str, time: str | None = None) -> str:
    """``[<time>] [watcher|worker] [<message id>] text``."""
    return f"[{time or utc_timestamp()}] [{source}] [{message_id}] {text}"


def plain_summary_text(summary: JobSummary) -> str:
    """Human-readable and matched positionally by the plain-mode metric filters."""
    return (
        f"completed in {summary.duration} ms after {summary.receives} receives, "
        f"{summary.response_duration} ms since sent, outcome {summary.outcome}"
    )


def plain_failure_text(reason: str) -> str:
    return f"{FAILURE_MARKER} {reason}"


def structured_line(source: str, message_id: str | None, event: str, fields: Mapping[str, Any] | None = None,
                    time: str | None = None) -> str:
    """One JSON object per line; the metric filters read its fields."""
    record: dict[str, Any] = {"time": time or utc_timestamp(), "source": source,
                              "message_id": message_id, "event": event}
    if fields:
        record.update(fields)
    return json.dumps(record, separators=(",", ":"), default=str)


def structured_summary_fields(summary: JobSummary) -> dict[str, Any]:
    return {"outcome": summary.outcome, "code": summary.exit_code, "duration": summary.duration,
            "receives": summary.receives, "response_duration": summary.response_duration}


# --- Metric filters (CloudWatch Logs filter syntax) -------------------------

@dataclass(frozen=True)
class MetricFilterSpec:
    """One metric, with the pattern and value for each log mode."""

    metric: str
    plain_pattern: str
    plain_value: str
    structured_pattern: str
    structured_value: str
    unit: str


# Space-delimited patterns: a [bracketed] run is one field. ``source=*watcher*``
# matches the watcher's own lines whether or not CloudWatch strips the brackets,
# and keeps a worker that prints look-alike text from being counted.
_PLAIN_SUMMARY_FIELDS = (f"[time, source=*{SOURCE_WATCHER}*, message_id, w_completed=completed, w_in=in, duration, "
                         "w_ms=ms, w_after=after, receives, w_receives, response_duration, ...]")
_PLAIN_FAILURE_FIELDS = (f"[time, source=*{SOURCE_WATCHER}*, message_id, "
                         f"marker=*{FAILURE_MARKER.strip('[]')}*, ...]")

METRIC_FILTERS: tuple[MetricFilterSpec, ...] = (
    MetricFilterSpec("WorkerErrors", _PLAIN_FAILURE_FIELDS, "1",
                     f'{{ $.event = "{EVENT_FAILURE}" }}', "1", "Count"),
    MetricFilterSpec("WorkerDuration", _PLAIN_SUMMARY_FIELDS, "$duration",
                     f'{{ $.event = "{EVENT_SUMMARY}" && $.duration = * }}', "$.duration", "Milliseconds"),
    MetricFilterSpec("MessageReceives", _PLAIN_SUMMARY_FIELDS, "$receives",
                     f'{{ $.event = "{EVENT_SUMMARY}" && $.receives = * }}', "$.receives", "Count"),
    MetricFilterSpec("ResponseDuration", _PLAIN_SUMMARY_FIELDS, "$response_duration",
                     f'{{ $.event = "{EVENT_SUMMARY}" && $.response_duration = * }}', "$.response_duration",
                     "Milliseconds"),
)
