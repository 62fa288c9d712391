"""Traces of arriving messages: ``minute,messages[,job_seconds]`` CSV files.

A trace says how many messages arrive in each minute, and optionally how long
each of those jobs takes, so one file can mix long and short jobs (a minute may
appear on several rows). A header row is optional; blank lines and lines
starting with ``#`` are skipped. Every problem is reported as one line naming
the file, the line number, the field and what is allowed, before anything runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from watchbot_cfn.errors import WatchbotError

__all__ = ["MAX_MESSAGES", "MAX_MINUTE", "MAX_JOB_SECONDS", "Trace", "TraceError", "TraceRow", "load_trace",
           "parse_trace"]

#: A month of minutes: longer traces would make the simulation slow, not more useful.
MAX_MINUTE = 31 * 24 * 60
#: Messages in a whole trace; the model keeps one record per message.
MAX_MESSAGES = 2_000_000
#: SQS's 12 hours, the longest a message can stay invisible and so the longest job.
MAX_JOB_SECONDS = 43_200
HEADER_FIELDS = ("minute", "messages", "job_seconds")


class TraceError(WatchbotError, ValueError):
    """A trace file is missing or has a line that is not ``minute,messages[,job_seconds]``."""


@dataclass(frozen=True)
class TraceRow:
    """``messages`` arrive spread evenly over ``minute``; each job takes ``job_seconds`` (None: the default)."""

    minute: int
    messages: int
    job_seconds: float | None = None


@dataclass(frozen=True)
class Trace:
    rows: tuple[TraceRow, ...]
    origin: str = "trace"

    @property
    def last_minute(self) -> int:
        return max((row.minute for row in self.rows), default=0)

    @property
    def total_messages(self) -> int:
        return sum(row.messages for row in self.rows)

    def arrivals_per_minute(self) -> list[int]:
        counts = [0] * (self.last_minute + 1)
        for row in self.rows:
            counts[row.minute] += row.messages
        return counts


def load_trace(path: str) -> Trace:
    """Read and validate a trace file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TraceError(f"{path}: no such trace file") from None
    except IsADirectoryError:
        raise TraceError(f"{path}: is a directory, not a trace file") from None
    except UnicodeDecodeError:
        raise TraceError(f"{path}: not a text file (expected CSV lines minute,messages[,job_seconds])") from None
    return parse_trace(text, path)


def parse_trace(text: str, origin: str = "trace") -> Trace:
    rows: list[TraceRow] = []
    total = 0
    seen_data = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        fields = [field.strip() for field in line.split(",")]
        if not seen_data and _is_header(fields):
            seen_data = True
            continue
        seen_data = True
        row = _row(fields, origin, number)
        total += row.messages
        if total > MAX_MESSAGES:
            raise TraceError(f"{origin}: line {number}: the trace exceeds {MAX_MESSAGES:,} messages in all")
        rows.append(row)
    if not rows:
        raise TraceError(f"{origin}: no data rows; expected lines minute,messages[,job_seconds]")
    return Trace(tuple(rows), origin)


def _is_header(fields: list[str]) -> bool:
    names = [field.lower().replace("-", "_").replace(" ", "_") for field in fields]
    return len(names) in (2, 3) and tuple(names) == HEADER_FIELDS[: len(names)]


def _row(fields: list[str], origin: str, number: int) -> TraceRow:
    where = f"{origin}: line {number}"
    if len(fields) not in (2, 3):
        raise TraceError(f"{where}: expected 2 or 3 comma-separated fields (minute,messages[,job_seconds]), "
                         f"got {len(fields)}")
    minute = _integer(fields[0], "minute", where, 0, MAX_MINUTE)
    messages = _integer(fields[1], "messages", where, 0, MAX_MESSAGES)
    job_seconds = None
    if len(fields) == 3 and fields[2] != "":
        job_seconds = _seconds(fields[2], where)
    return TraceRow(minute, messages, job_seconds)


def _integer(text: str, name: str, where: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise TraceError(f"{where}: {name} {text!r} is not a whole number; expected {low} to {high:,}") from None
    if not low <= value <= high:
        raise TraceError(f"{where}: {name} {value} is out of range; expected {low} to {high:,}")
    return value


def _seconds(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 < value <= MAX_JOB_SECONDS):
        raise TraceError(f"{where}: job_seconds {text!r} must be a number of seconds above 0 and at most "
                         f"{MAX_JOB_SECONDS:,}")
    return value
