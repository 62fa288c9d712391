"""The recent log lines that mention one message, from the system's log group.

The watcher puts the message id on every line it writes for a job (and on
every line the worker prints), so FilterLogEvents with the quoted id as the
pattern finds a message's history without knowing its log streams.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from watchbot_cfn.aws.errors import error_code, error_message

__all__ = ["LogLines", "recent_lines", "DEFAULT_LINES", "MAX_LINE"]

DEFAULT_LINES = 50
#: Lines longer than this are cut: a worker may print a whole payload.
MAX_LINE = 2000
#: Searching a busy log group over days is slow: stop after this many pages or seconds.
MAX_PAGES = 40
MAX_SECONDS = 30.0
#: Dead letters are kept 14 days; without a send time, search that far back.
DEFAULT_LOOKBACK_MS = 14 * 24 * 3600 * 1000
#: Start a minute before the send time: clocks differ.
SLACK_MS = 60_000


@dataclass
class LogLines:
    lines: list[str] = field(default_factory=list)
    note: str = ""  # why the list may be incomplete or empty


def recent_lines(logs: Any, log_group: str, message_id: str, sent_ms: int | None, limit: int = DEFAULT_LINES,
                 clock: Callable[[], float] = time.time) -> LogLines:
    """The last ``limit`` lines of ``log_group`` that mention ``message_id`` since it was sent."""
    now_ms = int(clock() * 1000)
    start_ms = (sent_ms - SLACK_MS) if sent_ms else now_ms - DEFAULT_LOOKBACK_MS
    found: deque[str] = deque(maxlen=max(limit, 1))
    request: dict[str, Any] = {"logGroupName": log_group, "filterPattern": f'"{message_id}"',
                               "startTime": max(start_ms, 0), "endTime": now_ms + SLACK_MS}
    deadline = clock() + MAX_SECONDS
    pages = 0
    note = ""
    try:
        while True:
            answer = logs.filter_log_events(**request)
            pages += 1
            for event in answer.get("events", []):
                text = str(event.get("message", "")).rstrip("\n")
                found.append(text if len(text) <= MAX_LINE else text[:MAX_LINE] + " [...]")
            token = answer.get("nextToken")
            if not token:
                break
            if pages >= MAX_PAGES or clock() > deadline:
                note = f"search stopped after {pages} pages; older lines may be missing"
                break
            request["nextToken"] = token
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            note = f"log group {log_group} not found"
        else:
            note = f"could not read log group {log_group}: {error_code(error)}: {error_message(error)}"
    except BotoCoreError as error:
        note = f"could not read log group {log_group}: {error}"
    return LogLines(list(found), note)
