"""ECS task scale-in protection while jobs run, through the ECS agent.

ECS stops a protected task neither for a scale-in nor for a deployment, so a
busy task is never interrupted and only idle ones go. The ECS agent offers
``PUT $ECS_AGENT_URI/task-protection/v1/state`` with ``{"ProtectionEnabled":
true, "ExpiresInMinutes": N}`` (1 to 2,880 minutes) or ``{"ProtectionEnabled":
false}``; it answers 200 with ``{"protection": {...}}``, 200 with
``{"failure": {...}}`` when ECS refused, or an error status with
``{"error": {...}}``.

One thread makes every call, never a job's: when a job starts it protects the
task for as long as any running job may still take (its ``maxJobDuration``
plus a minute, or an hour and a minute for jobs without a limit), renews that
every half of the job time limit (5 s to 30 minutes) and at once when a new
job could outlive it, and clears it once no job has run for a second (and
when the watcher stops). A job's command waits for
the first call of a busy spell for a second at most, so it starts protected
when the agent answers; a call that fails (an error answer, a refused
connection, a timeout of 2 s) is logged once per failing spell and retried,
and never stops or holds up a job again until a call has worked.
"""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from watchbot_cfn.runtime.job import KILL_GRACE
from watchbot_cfn.runtime.logger import Logger

__all__ = ["AgentClient", "ENV_AGENT_URI", "ProtectionError", "TaskProtection", "task_protection"]

#: Set by ECS in every container of a task; absent when the watcher runs elsewhere.
ENV_AGENT_URI = "ECS_AGENT_URI"
_PATH = "/task-protection/v1/state"
#: Seconds one agent call may take (connection and answer).
AGENT_TIMEOUT = 2.0
#: ExpiresInMinutes bounds the agent accepts.
MIN_MINUTES, MAX_MINUTES = 1, 2880
#: Added to the longest time a running job may still take (kill grace, settling, clocks).
COVER_MARGIN = 60.0
#: Jobs without maxJobDuration: protected this long at a time ...
UNLIMITED_COVER = 3600.0
#: ... and renewed at least this often (also the most time between renewals with a limit).
MAX_RENEWAL = 1800.0
#: Renewals come no more often than this, however short maxJobDuration is.
MIN_RENEWAL = 5.0
#: A job's command waits at most this long for the first call of a busy spell.
FIRST_JOB_WAIT = 1.0
#: Protection is cleared once no job has run for this long (back-to-back jobs keep it).
CLEAR_AFTER = 1.0
#: After a failed call, the next one comes this soon (doubling, up to the renewal period).
RETRY_AFTER = 2.0


class ProtectionError(Exception):
    """The agent did not set the protection; the message says why."""


class AgentClient:
    """The agent's task protection endpoint, over HTTP with the standard library only."""

    def __init__(self, agent_uri: str, timeout: float = AGENT_TIMEOUT) -> None:
        self.url = agent_uri.rstrip("/") + _PATH
        self.timeout = timeout
        # The agent is a link-local address: never through an HTTP proxy the container may set.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def put(self, enabled: bool, minutes: int | None = None) -> dict[str, Any]:
        """Set (with ``minutes``) or clear the protection; the agent's ``protection`` object."""
        body: dict[str, Any] = {"ProtectionEnabled": enabled}
        if enabled and minutes is not None:
            body["ExpiresInMinutes"] = minutes
        request = urllib.request.Request(self.url, data=json.dumps(body).encode(), method="PUT",
                                         headers={"Content-Type": "application/json"})
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as error:
            raise ProtectionError(f"HTTP {error.code}{_detail(_read(error))}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise ProtectionError(f"{type(reason).__name__}: {reason}" if not isinstance(reason, str)
                                  else reason) from None
        answer = _json(text)
        protection = answer.get("protection") if isinstance(answer, dict) else None
        if status != 200 or not isinstance(protection, dict):
            raise ProtectionError(f"HTTP {status}{_detail(text)}")
        if protection.get("ProtectionEnabled") is not enabled:
            raise ProtectionError(f"the agent answered ProtectionEnabled {protection.get('ProtectionEnabled')!r}")
        return protection


def _read(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read()
    except OSError:
        return b""


def _json(text: bytes) -> Any:
    try:
        return json.loads(text or b"null")
    except ValueError:
        return None


def _detail(text: bytes) -> str:
    """`` (Code: Message)`` from the agent's failure or error object, when it gave one."""
    answer = _json(text)
    if not isinstance(answer, dict):
        return ""
    for key, code, message in (("failure", "Reason", "Detail"), ("error", "Code", "Message")):
        found = answer.get(key)
        if isinstance(found, dict):
            words = ": ".join(str(found[name]) for name in (code, message) if found.get(name))
            return f" ({words})" if words else ""
    return ""


class TaskProtection:
    """Keeps the task protected while any job runs; all agent calls on its own thread."""

    def __init__(self, client: AgentClient, logger: Logger, max_job_duration: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.clock = clock  # every decision reads this clock, so tests move time instead of waiting
        self.logger = logger
        self.max_job_duration = max_job_duration
        self.renewal = (min(max((max_job_duration + KILL_GRACE) / 2, MIN_RENEWAL), MAX_RENEWAL)
                        if max_job_duration > 0 else MAX_RENEWAL)
        self._cond = threading.Condition()
        self._jobs: dict[int, float | None] = {}  # by job token: when it must have ended (None: no limit)
        self._maybe_protected = False  # a set was sent and no clear has worked since
        self._expires = 0.0  # monotonic end of the last protection the agent confirmed; 0: none
        self._renewed = 0.0
        self._idle_since = clock()
        self._failing = False
        self._retry_at = 0.0
        self._retry_delay = RETRY_AFTER
        self._said_on = False
        self._attempted = threading.Event()  # the first set of this busy spell is answered (or there is none)
        self._attempted.set()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="task-protection", daemon=True)

    def start(self) -> TaskProtection:
        self._thread.start()
        return self

    # -- from job threads (never blocks on the agent beyond FIRST_JOB_WAIT) -------------

    def job_started(self, token: int) -> None:
        """A job is about to run its command; wait (briefly) for the task to be protected."""
        now = self.clock()
        with self._cond:
            self._jobs[token] = now + self.max_job_duration if self.max_job_duration > 0 else None
            if self._expires <= now and not self._failing and not self._closed:
                self._attempted.clear()
            self._cond.notify_all()
        self._attempted.wait(FIRST_JOB_WAIT)

    def job_ended(self, token: int) -> None:
        with self._cond:
            self._jobs.pop(token, None)
            if not self._jobs:
                self._idle_since = self.clock()
            self._cond.notify_all()

    def stop(self) -> None:
        """The watcher stops: clear the protection now (one last call; ``join`` waits for it)."""
        with self._cond:
            self._closed = True
            self._jobs.clear()
            self._cond.notify_all()
        self._attempted.set()

    def poke(self) -> None:
        """Decide again now: the clock given to the constructor moved without the thread knowing."""
        with self._cond:
            self._cond.notify_all()

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for the last call; False if it is still on the wire."""
        if self._thread.is_alive():
            self._thread.join(max(timeout, 0.0))
        return not self._thread.is_alive()

    # -- the protection thread -------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                action, minutes = self._next_action()
                while action is None:
                    if self._closed:
                        return
                    self._cond.wait(self._wait_time())
                    action, minutes = self._next_action()
            self._call(action, minutes)
            if self._closed and action == "clear":
                return  # one last clear when stopping, whatever its answer

    def _next_action(self) -> tuple[str | None, int]:
        """("set", minutes), ("clear", 0) or (None, 0), decided under the lock."""
        now = self.clock()
        if self._failing and now < self._retry_at and not self._closed:
            return None, 0
        if self._jobs and not self._closed:
            deadlines = [deadline for deadline in self._jobs.values() if deadline is not None]
            if len(deadlines) < len(self._jobs):  # no time limit: keep an hour ahead, renewed periodically
                cover, outlived = UNLIMITED_COVER + COVER_MARGIN, False
            else:  # a job that started since the last call may need longer than the protection lasts
                cover = max(max(deadlines) - now, 0.0) + COVER_MARGIN
                outlived = max(deadlines) + COVER_MARGIN > self._expires
            minutes = min(max(math.ceil(cover / 60), MIN_MINUTES), MAX_MINUTES)
            needed = self._expires <= now or outlived or now - self._renewed >= self.renewal
            return ("set", minutes) if needed else (None, 0)
        if self._maybe_protected and (self._closed or now - self._idle_since >= CLEAR_AFTER):
            return "clear", 0
        return None, 0

    def _wait_time(self) -> float | None:
        """Seconds until ``_next_action`` may change without a notification; None: only a notification."""
        now = self.clock()
        if self._failing:
            return max(self._retry_at - now, 0.01)
        if self._jobs:
            return max(self._renewed + self.renewal - now, 0.01)
        if self._maybe_protected:
            return max(self._idle_since + CLEAR_AFTER - now, 0.01)
        return None

    def _call(self, action: str, minutes: int) -> None:
        enabled = action == "set"
        began = self.clock()
        if enabled:
            with self._cond:
                self._maybe_protected = True
        try:
            self.client.put(enabled, minutes if enabled else None)
        except ProtectionError as error:
            self._failed(action, str(error))
        else:
            with self._cond:
                self._maybe_protected = enabled
                self._expires = began + minutes * 60 if enabled else 0.0
                self._renewed = began
                self._retry_delay = RETRY_AFTER
                recovered, self._failing = self._failing, False
                first, self._said_on = not self._said_on and enabled, self._said_on or enabled
            if recovered:
                self.logger.notice(f"task protection works again ({'set' if enabled else 'cleared'})")
            elif first:
                self.logger.notice("task protection: the task is protected from scale-in while jobs run "
                                   f"(ECS agent; {minutes} min at a time, renewed every {self.renewal:g} s)")
        finally:
            if enabled:
                self._attempted.set()

    def _failed(self, action: str, reason: str) -> None:
        with self._cond:
            first = not self._failing
            self._failing = True
            self._retry_at = self.clock() + self._retry_delay
            self._retry_delay = min(self._retry_delay * 2, max(self.renewal, RETRY_AFTER))
        if first:
            what = "protect the task from scale-in" if action == "set" else "clear the task's scale-in protection"
            self.logger.notice(f"task protection: could not {what} through the ECS agent ({reason}); jobs go on, "
                               "and the watcher keeps trying (said once until a call works)", level="warning")


def task_protection(enabled: bool, environ: Mapping[str, str], logger: Logger,
                    max_job_duration: float = 0.0) -> TaskProtection | None:
    """The protection for a watcher with ``taskProtection`` = ``enabled``; None off ECS (no agent) or when off."""
    agent_uri = (environ.get(ENV_AGENT_URI) or "").strip()
    if not enabled or not agent_uri:
        return None
    return TaskProtection(AgentClient(agent_uri), logger, max_job_duration)
