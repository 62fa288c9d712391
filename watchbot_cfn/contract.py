"""Facts the template, the runtime watcher and the operator tools must agree on.

Standard library only (``records.py`` is too): the runtime imports this module inside users' containers.
The metric filter patterns and the watcher's log lines are defined here together
so that one change moves both sides, and tests check a real line against each
pattern.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from watchbot_cfn.records import record

__all__ = ["CONCURRENCY", "DEFAULT_DEAD_LETTER_THRESHOLD", "DEFAULT_DRAIN_TIMEOUT", "DEFAULT_STOP_TIMEOUT",
    "DRAIN_TIMEOUT", "ENV_CONCURRENCY", "ENV_DRAIN_TIMEOUT", "ENV_FIFO", "ENV_LOG_GROUP", "ENV_MAX_JOB_DURATION",
    "ENV_PROGRESS_TABLE", "ENV_QUEUE_URL", "ENV_STRING_LIMIT", "ENV_STRUCTURED_LOGGING", "ENV_TASK_PROTECTION",
    "ENV_VISIBILITY_TIMEOUT", "ENV_VOLUMES", "ENV_WORK_TOPIC", "ENV_WRITABLE_FILESYSTEM", "EXIT_BAD_CONFIG",
    "EXIT_NOOP", "EXIT_REJECTED", "EXIT_SUCCESS", "FAILED_OUTCOMES", "FAILURE_MARKER", "FIFO", "KIND_BOOL",
    "KIND_INT", "KIND_PATHS", "KIND_SECONDS", "KIND_TEXT", "LEVELS", "LEVEL_ERROR", "LEVEL_INFO", "LEVEL_WARN",
    "LOG_GROUP", "MAX_JOB_DURATION_LIMIT", "MAX_JOB_DURATION", "MAX_STOP_TIMEOUT", "MAX_VISIBILITY",
    "METRIC_FILTERS", "METRIC_MESSAGE_RECEIVES", "METRIC_RESPONSE_DURATION", "METRIC_WORKER_DURATION",
    "METRIC_WORKER_ERRORS", "OUTCOME_BY_EXIT", "OUTCOME_FAILURE", "OUTCOME_NOOP", "OUTCOME_REJECTED",
    "OUTCOME_SUCCESS", "PROGRESS_TABLE", "QUEUE_URL", "RESERVED_FIELDS", "SETTINGS", "SHUTDOWN_MARGIN",
    "SOURCE_WATCHER", "SOURCE_WORKER", "STRUCTURED_LOGGING", "TASK_PROTECTION", "VISIBILITY_TIMEOUT",
    "DEFAULT_VISIBILITY_TIMEOUT",
    "VOLUMES", "WORKER_EVENT_ERROR", "WORKER_EVENT_FAILURE", "WORKER_EVENT_SUCCESS", "WORKER_FIRST_RECEIVE_TIMESTAMP",
    "WORKER_MESSAGE", "WORKER_MESSAGE_FILE", "WORKER_MESSAGE_ID", "WORKER_RECEIVE_COUNT", "WORKER_RESERVED",
    "WORKER_SENT_TIMESTAMP", "WORKER_SUBJECT", "WORKER_SUBJECT_FILE", "WORKER_VARIABLES", "WORK_TOPIC",
    "WRITABLE_FILESYSTEM", "JobSummary", "MetricFilterSpec", "Setting", "SettingError", "backoff_seconds",
    "plain_failure_text", "plain_line", "plain_result_lines", "plain_summary_text", "stop_timeout_for",
    "structured_line", "structured_result_fields", "structured_result_line", "structured_worker_line",
    "utc_timestamp", "volume_problem", "worker_json"]

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
ENV_CONCURRENCY = "concurrency"
ENV_DRAIN_TIMEOUT = "drainTimeout"
ENV_VISIBILITY_TIMEOUT = "visibilityTimeout"
ENV_TASK_PROTECTION = "taskProtection"

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
#: Path of a file holding the SNS subject, set when the subject cannot be an environment string.
WORKER_SUBJECT_FILE = "SubjectFile"

#: Every variable the watcher sets for a job.
WORKER_VARIABLES = (WORKER_MESSAGE, WORKER_SUBJECT, WORKER_MESSAGE_ID, WORKER_SENT_TIMESTAMP,
                    WORKER_FIRST_RECEIVE_TIMESTAMP, WORKER_RECEIVE_COUNT, WORKER_MESSAGE_FILE, WORKER_SUBJECT_FILE)

#: Linux limit for one environment string ("NAME=value"), MAX_ARG_STRLEN.
ENV_STRING_LIMIT = 128 * 1024

# --- Exit codes -------------------------------------------------------------

EXIT_SUCCESS = 0
EXIT_REJECTED = 3
EXIT_NOOP = 4
#: The watcher's own exit code for unusable configuration.
EXIT_BAD_CONFIG = 2

# --- Queue and retry figures ------------------------------------------------

DEFAULT_VISIBILITY_TIMEOUT = 180
MAX_VISIBILITY = 43_200
MAX_JOB_DURATION_LIMIT = 43_200
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


# --- Watcher settings: one row per container variable -------------------------
#
# The template writes these variables and the watcher reads them. Each row is
# the one definition of a variable's name, kind, default and bounds: the
# template derives the option's check, its docs and the names ``env`` may not
# override from it; the runtime parses its environment with it. Adding a
# setting is a row here, the code that uses it, and its tests.

KIND_TEXT = "text"  # any non-empty string
KIND_BOOL = "bool"  # true/false (also 1/0, yes/no, on/off when read)
KIND_INT = "int"  # a whole number within bounds
KIND_SECONDS = "seconds"  # a number of seconds (fractions allowed) within bounds
KIND_PATHS = "paths"  # comma-separated absolute paths

_TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
_FALSE_WORDS = frozenset({"false", "0", "no", "off", ""})


class SettingError(ValueError):
    """A container variable has a value the watcher cannot use; the message names it."""


@record
class Setting:
    """One container variable: what the template may write and what the watcher accepts.

    Each row is the one declaration of its variable. The option that writes it (``setting(row)`` in
    ``options.py``) and the watcher's field that reads it (``read(row)`` in ``runtime/config.py``) point at the
    row itself, never at a name.
    """

    env: str  # the variable's name in the container
    kind: str  # one of the KIND_* values
    doc: str  # one line for docs/runtime.md
    default: Any = None  # what the watcher assumes when the variable is unset; None: required or unused
    low: float | None = None
    high: float | None = None
    derived_from: str | None = None  # the option it is derived from, when it is not written as is

    def problem(self, value: Any) -> str | None:
        """Why a template-side value cannot be written here, or None when it can."""
        if self.kind == KIND_BOOL:
            return None if isinstance(value, bool) else "expected true or false"
        if self.kind in (KIND_INT, KIND_SECONDS):
            whole = self.kind == KIND_INT
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (whole and isinstance(value, float)):
                return f"expected {self.allowed}"
            number = float(value)
            if not math.isfinite(number):
                return f"expected {self.allowed}"
            if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
                return f"expected {self.allowed}"
            return None
        if self.kind == KIND_TEXT:
            return None if isinstance(value, str) and value else "expected a non-empty string"
        if self.kind == KIND_PATHS:
            for path in value:
                trouble = volume_problem(path)
                if trouble:
                    return trouble
            return None
        raise ValueError(f"unknown setting kind {self.kind!r}")

    @property
    def allowed(self) -> str:
        """What the variable accepts, in words: the docs and both sides' errors say this."""
        if self.kind == KIND_BOOL:
            return "true or false"
        if self.kind in (KIND_INT, KIND_SECONDS):
            what = "a whole number" if self.kind == KIND_INT else "a number of seconds"
            if self.low is not None and self.high is not None:
                return f"{what} from {_figure(self.low)} to {_figure(self.high)}"
            if self.low is not None:
                return f"{what} of at least {_figure(self.low)}"
            return what
        if self.kind == KIND_PATHS:
            return "comma-separated absolute paths, none of them /"
        return "a non-empty string"

    def format(self, value: Any) -> str:
        """The container variable's text for a template-side value."""
        if self.kind == KIND_BOOL:
            return "true" if value else "false"
        if self.kind == KIND_PATHS:
            return ",".join(value)
        return str(value)

    def parse(self, raw: str | None) -> Any:
        """The watcher's value for the variable's text; unset or blank gives the default."""
        if self.kind == KIND_PATHS:
            paths = tuple(part.strip() for part in (raw or "").split(",") if part.strip())
            for path in paths:
                trouble = volume_problem(path)
                if trouble:
                    raise SettingError(f"{self.env} entries must be {trouble}, got {path!r}")
            return paths
        if raw is None or raw.strip() == "":
            return self.default
        text = raw.strip()
        if self.kind == KIND_BOOL:
            if text.lower() in _TRUE_WORDS:
                return True
            if text.lower() in _FALSE_WORDS:
                return False
            raise SettingError(f"{self.env} must be true or false, got {raw!r}")
        if self.kind == KIND_TEXT:
            return text
        try:
            value: float = int(text) if self.kind == KIND_INT else float(text)
        except ValueError:
            kind = "a whole number" if self.kind == KIND_INT else "a number of seconds"
            raise SettingError(f"{self.env} must be {kind}, got {raw!r}") from None
        if self.problem(value) is not None:
            raise SettingError(f"{self.env} must be between {_figure(self.low)} and {_figure(self.high)}, "
                               f"got {raw!r}")
        return value


def _figure(value: float | None) -> str:
    if value is None:
        return "any"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def volume_problem(path: str) -> str | None:
    """Why ``path`` cannot be a volume the watcher empties, or None.

    A volume is emptied between jobs, so it must be an absolute path that is
    not the filesystem root however it is spelled (``//``, ``/a/..``).
    """
    if not isinstance(path, str) or not path.startswith("/"):
        return "absolute paths other than /"
    if os.path.normpath(path) in ("/", "//"):
        return "absolute paths other than /"
    return None


#: Seconds ECS waits after SIGTERM at most (Fargate's and EC2's StopTimeout limit).
MAX_STOP_TIMEOUT = 120

QUEUE_URL = Setting(ENV_QUEUE_URL, KIND_TEXT, "URL of the work queue the watcher polls.")
LOG_GROUP = Setting(ENV_LOG_GROUP, KIND_TEXT, "Name of the system's log group (for the worker and tools).")
WORK_TOPIC = Setting(ENV_WORK_TOPIC, KIND_TEXT, "ARN of the SNS topic that feeds the queue (standard queues "
                     "only), so a worker can publish follow-up messages.")
PROGRESS_TABLE = Setting(ENV_PROGRESS_TABLE, KIND_TEXT, "Reduce mode: the progress table, for the worker's "
                         "progress client.")
VOLUMES = Setting(ENV_VOLUMES, KIND_PATHS, "Task-scoped paths whose contents the watcher removes between jobs (the "
                  "directories stay: they are mount points); never a path bound from the host.", default=(),
                  derived_from="mounts")
WRITABLE_FILESYSTEM = Setting(ENV_WRITABLE_FILESYSTEM, KIND_BOOL, "The root filesystem is writable: the watcher "
                              "runs one job, then exits so the next job gets a fresh container.", default=False)
MAX_JOB_DURATION = Setting(ENV_MAX_JOB_DURATION, KIND_SECONDS, "Seconds after which a job's whole process tree "
                           "is killed and its message returned (0 = no limit).", default=0, low=0,
                           high=MAX_JOB_DURATION_LIMIT)
FIFO = Setting(ENV_FIFO, KIND_BOOL, "The work queue is FIFO (also assumed when the queue URL ends in .fifo).",
               default=False)
STRUCTURED_LOGGING = Setting(ENV_STRUCTURED_LOGGING, KIND_BOOL, "Write JSON log lines instead of plain text.",
                             default=False)
CONCURRENCY = Setting(ENV_CONCURRENCY, KIND_INT, "Jobs one watcher runs at once.", default=1, low=1, high=100)
DRAIN_TIMEOUT = Setting(ENV_DRAIN_TIMEOUT, KIND_SECONDS, "Seconds running jobs may finish after SIGTERM before "
                        "they are stopped and their messages returned.", default=DEFAULT_DRAIN_TIMEOUT,
                        low=0, high=MAX_STOP_TIMEOUT - SHUTDOWN_MARGIN)
VISIBILITY_TIMEOUT = Setting(ENV_VISIBILITY_TIMEOUT, KIND_INT, "Seconds a received message stays hidden; equals the "
                             "work queue's VisibilityTimeout, and the watcher extends it while a job runs.",
                             default=DEFAULT_VISIBILITY_TIMEOUT, low=1, high=MAX_VISIBILITY)
TASK_PROTECTION = Setting(ENV_TASK_PROTECTION, KIND_BOOL, "Protect the task from scale-in and deployments while "
                          "any job runs (through the ECS agent), so only idle tasks are stopped.", default=True)

#: Every container variable the template sets for the watcher, in the order it writes them.
SETTINGS: tuple[Setting, ...] = (QUEUE_URL, LOG_GROUP, WORK_TOPIC, WRITABLE_FILESYSTEM, MAX_JOB_DURATION,
                                 VOLUMES, FIFO, STRUCTURED_LOGGING, CONCURRENCY, DRAIN_TIMEOUT, VISIBILITY_TIMEOUT,
                                 TASK_PROTECTION, PROGRESS_TABLE)


# --- Log lines --------------------------------------------------------------

SOURCE_WATCHER = "watcher"
SOURCE_WORKER = "worker"
#: Every plain line that reports a failed job contains this marker.
FAILURE_MARKER = "[failure]"
#: How a job ended, as the summary line says it (exit 0, 3, 4, anything else).
OUTCOME_SUCCESS = "success"
OUTCOME_REJECTED = "rejected"
OUTCOME_NOOP = "noop"
OUTCOME_FAILURE = "failure"
OUTCOME_BY_EXIT = {EXIT_SUCCESS: OUTCOME_SUCCESS, EXIT_REJECTED: OUTCOME_REJECTED, EXIT_NOOP: OUTCOME_NOOP}
#: Outcomes the WorkerErrors metric counts (in both modes).
FAILED_OUTCOMES = frozenset({OUTCOME_REJECTED, OUTCOME_FAILURE})

#: Bunyan levels of structured lines (the original's core fields).
LEVEL_INFO = 30
LEVEL_WARN = 40
LEVEL_ERROR = 50
LEVELS = {"info": LEVEL_INFO, "warning": LEVEL_WARN, "error": LEVEL_ERROR}
#: Structured ``worker_event`` of a job's result line, as the original's
#: workerSuccess (exit 0 and 4), workerFailure (exit 3, any other exit, a
#: signal, maxJobDuration) and workerError (the job could not be run).
WORKER_EVENT_SUCCESS = "success"
WORKER_EVENT_FAILURE = "failure"
WORKER_EVENT_ERROR = "error"
#: Fields only the watcher writes. A worker's JSON line keeps every other key
#: at the top level (its own ``level`` and ``msg`` included); its values for
#: these go under ``WORKER_RESERVED`` instead, so a worker can neither pass for
#: the watcher nor write a job result the metric filters would count.
RESERVED_FIELDS = ("v", "name", "hostname", "pid", "time", "watchbot_sqs_message_id", "worker_event")
WORKER_RESERVED = "worker_reserved"


@record
class JobSummary:
    """What the watcher reports once per finished job; feeds all four metrics."""

    outcome: str  # one of the OUTCOME_* words
    exit_code: int | None  # None when killed by a signal or never started
    duration: int  # ms the job ran
    receives: int  # ApproximateReceiveCount
    response_duration: int  # ms from SentTimestamp to finish
    reason: str = ""  # why it failed, in words; empty for success and no-op
    signal: str | None = None  # the signal that ended it, by name
    error: bool = False  # the job could not be run at all (or the watcher failed it): worker_event "error"

    @property
    def worker_event(self) -> str:
        if self.error:
            return WORKER_EVENT_ERROR
        return WORKER_EVENT_FAILURE if self.outcome in FAILED_OUTCOMES else WORKER_EVENT_SUCCESS


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


def plain_result_lines(message_id: str, summary: JobSummary, time: str | None = None) -> list[str]:
    """A failed job's ``[failure]`` line (WorkerErrors), then every job's summary line (the other metrics)."""
    lines = []
    if summary.worker_event != WORKER_EVENT_SUCCESS:
        lines.append(plain_line(SOURCE_WATCHER, message_id, plain_failure_text(summary.reason), time))
    lines.append(plain_line(SOURCE_WATCHER, message_id, plain_summary_text(summary), time))
    return lines


_HOSTNAME: list[str] = []


def _hostname() -> str:
    if not _HOSTNAME:
        import socket

        _HOSTNAME.append(socket.gethostname())
    return _HOSTNAME[0]


def _structured_core(name: str, message_id: str | None, level: int, time: str | None) -> dict[str, Any]:
    """The original's bunyan core fields, in its order."""
    record: dict[str, Any] = {"v": 0, "level": level, "name": name, "hostname": _hostname(), "pid": os.getpid(),
                              "time": time or utc_timestamp()}
    if message_id is not None:
        record["watchbot_sqs_message_id"] = message_id
    return record


def _dumps(record: Mapping[str, Any]) -> str:
    """Strict JSON: a non-finite number raises rather than becoming ``Infinity``, which is not JSON."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False, default=str, allow_nan=False)


def structured_line(name: str, message_id: str | None, fields: Mapping[str, Any] | None = None,
                    level: int = LEVEL_INFO, time: str | None = None) -> str:
    """One bunyan-style JSON object: the core fields, then ``fields`` (the watcher's own, trusted)."""
    record = _structured_core(name, message_id, level, time)
    if fields:
        record.update(fields)
    return _dumps(record)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    """``1e400`` is valid JSON but no double: Python reads it as infinity, which JSON cannot write back."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is beyond a double")
    return value


def worker_json(text: str) -> dict[str, Any] | None:
    """The object a worker's line holds, or None when the line is not one JSON object."""
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def structured_worker_line(message_id: str, text: str, time: str | None = None) -> str:
    """A worker's output line: its JSON object merged at the top level, or its text in ``msg``."""
    record = _structured_core(SOURCE_WORKER, message_id, LEVEL_INFO, time)
    fields = worker_json(text)
    if fields is None:
        record["msg"] = text
        return _dumps(record)
    reserved = {key: fields.pop(key) for key in (*RESERVED_FIELDS, WORKER_RESERVED) if key in fields}
    record.update(fields)
    if reserved:
        record[WORKER_RESERVED] = reserved
    try:
        return _dumps(record)
    except (ValueError, RecursionError):  # nested deeper than json.dumps can go once a field moved down
        text_only = _structured_core(SOURCE_WORKER, message_id, LEVEL_INFO, time)
        text_only["msg"] = text
        return _dumps(text_only)


def structured_result_fields(summary: JobSummary) -> dict[str, Any]:
    """A job's result, merged into one watcher line as the original's workerSuccess/workerFailure did."""
    fields: dict[str, Any] = {"worker_event": summary.worker_event, "code": summary.exit_code}
    if summary.signal is not None:
        fields["signal"] = summary.signal
    fields.update(duration=summary.duration, response_duration=summary.response_duration,
                  receives=summary.receives, outcome=summary.outcome,
                  msg=summary.reason or plain_summary_text(summary))
    return fields


def structured_result_line(message_id: str, summary: JobSummary, time: str | None = None) -> str:
    """The one structured line per finished job; level 50 when it could not be run."""
    level = LEVEL_ERROR if summary.error else LEVEL_INFO
    return structured_line(SOURCE_WATCHER, message_id, structured_result_fields(summary), level=level, time=time)


# --- Metric filters (CloudWatch Logs filter syntax) -------------------------

#: Log metrics: a system's metric is named ``<metric>-<stack>-<prefix>`` (naming.py).
METRIC_WORKER_ERRORS = "WorkerErrors"
METRIC_WORKER_DURATION = "WorkerDuration"
METRIC_MESSAGE_RECEIVES = "MessageReceives"
METRIC_RESPONSE_DURATION = "ResponseDuration"

@record
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
# JSON patterns: only the watcher writes ``name`` "watcher" and ``worker_event``
# (RESERVED_FIELDS), so a worker's JSON line is never counted.
_RESULT = f'$.name = "{SOURCE_WATCHER}" && $.worker_event = *'
_FAILED = (f'$.name = "{SOURCE_WATCHER}" && ($.worker_event = "{WORKER_EVENT_FAILURE}" || '
           f'$.worker_event = "{WORKER_EVENT_ERROR}")')

METRIC_FILTERS: tuple[MetricFilterSpec, ...] = (
    MetricFilterSpec(METRIC_WORKER_ERRORS, _PLAIN_FAILURE_FIELDS, "1", f"{{ {_FAILED} }}", "1", "Count"),
    MetricFilterSpec(METRIC_WORKER_DURATION, _PLAIN_SUMMARY_FIELDS, "$duration",
                     f"{{ {_RESULT} && $.duration = * }}", "$.duration", "Milliseconds"),
    MetricFilterSpec(METRIC_MESSAGE_RECEIVES, _PLAIN_SUMMARY_FIELDS, "$receives",
                     f"{{ {_RESULT} && $.receives = * }}", "$.receives", "Count"),
    MetricFilterSpec(METRIC_RESPONSE_DURATION, _PLAIN_SUMMARY_FIELDS, "$response_duration",
                     f"{{ {_RESULT} && $.response_duration = * }}", "$.response_duration", "Milliseconds"),
)
