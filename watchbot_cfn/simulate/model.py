"""The queue, the tasks and the scaling loop, simulated event by event with a minute clock.

Between minute boundaries the model is exact to the second: messages arrive
spread evenly over their minute, any idle job slot of a running task takes the
oldest visible message at once (long polling), a job holds its slot for its
duration, and the slot that has waited longest gets the next message. At each
minute boundary the minute's metrics are recorded, every scaling alarm is
evaluated on the datapoints CloudWatch would have by then, the invoked policies
change the desired count, and ECS is reconciled:

* more tasks wanted: new tasks start; each runs jobs ``start_seconds`` later;
* fewer: ECS stops tasks that are still starting first, then running ones,
  newest first, since it does not know which are working. A protected task
  that is running a job is skipped; it stops as soon as it is idle with nothing
  visible to take. A stopped task's jobs are interrupted (a Watchbot watcher
  first lets jobs finish for ``drainTimeout`` seconds and returns the others'
  messages at once; any other worker's messages reappear after the queue's
  visibility timeout).

The run lasts until the last message is done and the service has settled at
MinCapacity, or ``TAIL_MINUTES`` after the trace's last minute at most.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field

from watchbot_cfn.simulate.alarms import AlarmTracker
from watchbot_cfn.simulate.metrics import METRIC_DELAY_MINUTES, MetricStore
from watchbot_cfn.simulate.policies import Activity, Invocation, Scaler
from watchbot_cfn.simulate.reader import Setup
from watchbot_cfn.simulate.trace import Trace

__all__ = ["DEFAULT_JOB_SECONDS", "DEFAULT_START_SECONDS", "TAIL_MINUTES", "Result", "Settings", "simulate"]

DEFAULT_JOB_SECONDS = 60.0
DEFAULT_START_SECONDS = 60.0
#: How long after the trace's last minute the run may go on to drain and scale in.
TAIL_MINUTES = 24 * 60

# Event kinds, in the order they run when they fall on the same second.
_MINUTE, _READY, _DONE, _INTERRUPT, _RETURN = range(5)
_ARRIVAL_ORDER = _READY


@dataclass(frozen=True)
class Settings:
    job_seconds: float = DEFAULT_JOB_SECONDS
    start_seconds: float = DEFAULT_START_SECONDS
    tail_minutes: int = TAIL_MINUTES


@dataclass
class Result:
    """Per-minute series (index = minute) and the figures the summary and ``--json`` report."""

    arrivals: list[int] = field(default_factory=list)
    visible: list[int] = field(default_factory=list)
    in_flight: list[int] = field(default_factory=list)
    tasks: list[int] = field(default_factory=list)
    desired: list[int] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    max_tasks: int = 0
    p95_wait_seconds: float = 0.0
    task_minutes: float = 0.0
    interrupted_jobs: int = 0
    drained_minute: int | None = None
    messages: int = 0
    completed: int = 0
    minutes: int = 0

    def figures(self) -> dict[str, float | int | None]:
        """Exactly what ``--json`` prints."""
        return {
            "max_tasks": self.max_tasks,
            "p95_wait_seconds": self.p95_wait_seconds,
            "task_minutes": self.task_minutes,
            "interrupted_jobs": self.interrupted_jobs,
            "drained_minute": self.drained_minute,
        }


class _Task:
    __slots__ = ("number", "ready", "ready_at", "stopping", "jobs", "busy_seconds", "mark")

    def __init__(self, number: int, ready_at: float) -> None:
        self.number = number
        self.ready = False
        self.ready_at = ready_at
        self.stopping = False
        #: message index -> second its job ends
        self.jobs: dict[int, float] = {}
        #: slot-seconds of work since ``mark`` was last moved (its utilisation this minute)
        self.busy_seconds = 0.0
        self.mark = ready_at

    def account(self, now: float) -> None:
        """Count the work done since the last change; call before the set of jobs changes."""
        self.busy_seconds += len(self.jobs) * (now - self.mark)
        self.mark = now


def simulate(setup: Setup, trace: Trace, settings: Settings | None = None) -> Result:
    """Replay ``trace`` against the scaling set-up read from a template."""
    return _Simulation(setup, trace, settings or Settings()).run()


def _arrivals(trace: Trace, default_job: float) -> tuple[list[float], list[float]]:
    """Arrival second and job duration of every message, in arrival order.

    Within a minute, messages are spread evenly; rows that share a minute are
    interleaved in proportion, so a mix of long and short jobs stays mixed.
    """
    by_minute: dict[int, list[tuple[float, float]]] = {}
    for row in trace.rows:
        if row.messages == 0:
            continue
        job = row.job_seconds if row.job_seconds is not None else default_job
        entries = by_minute.setdefault(row.minute, [])
        entries.extend(((i + 0.5) / row.messages, job) for i in range(row.messages))
    times: list[float] = []
    jobs: list[float] = []
    for minute in sorted(by_minute):
        entries = by_minute[minute]
        if len(entries) > 1 and any(entry[1] != entries[0][1] for entry in entries):
            entries.sort(key=lambda entry: entry[0])
        count = len(entries)
        base = minute * 60.0
        times.extend(base + 60.0 * i / count for i in range(count))
        jobs.extend(entry[1] for entry in entries)
    return times, jobs


class _Simulation:
    def __init__(self, setup: Setup, trace: Trace, settings: Settings) -> None:
        self.setup = setup
        self.settings = settings
        self.concurrency = setup.concurrency
        self.arrival, self.job = _arrivals(trace, settings.job_seconds)
        self.total = len(self.arrival)
        self.started_at: list[float] = [math.nan] * self.total
        self.done = bytearray(self.total)
        self.waits: list[float] = []
        self.last_minute = trace.last_minute
        self.horizon = trace.last_minute + 1 + settings.tail_minutes
        self.result = Result(messages=self.total, max_tasks=setup.min_capacity)
        self.store = MetricStore()
        self.trackers = [AlarmTracker(spec) for spec in setup.alarms]
        self.scaler = Scaler(setup.min_capacity, setup.max_capacity)
        # queue and tasks
        self.visible: deque[int] = deque()
        self.returning = 0
        self.tasks: list[_Task] = []  # live: launched and not yet gone
        self.idle: deque[_Task] = deque()  # one entry per free slot of a running task
        self.task_numbers = 0
        self.desired = setup.min_capacity
        self.events: list[tuple[float, int, int, int, _Task | None]] = []
        self.sequence = 0
        self.next_arrival = 0
        self.completed = 0
        self.last_done = 0.0
        # per-minute counters; task-seconds integrated over the run
        self.busy = 0
        self.ready_tasks = 0
        self.clock = 0.0
        self.task_area = 0.0
        self.sent = self.received = self.deleted = 0
        # the service starts at MinCapacity, already running
        for _ in range(self.desired):
            task = self._launch(0.0)
            self._ready(task, 0.0)

    # --- bookkeeping -----------------------------------------------------------

    def _push(self, when: float, kind: int, message: int = -1, task: _Task | None = None) -> None:
        self.sequence += 1
        heapq.heappush(self.events, (when, kind, self.sequence, message, task))

    def _advance(self, now: float) -> None:
        elapsed = now - self.clock
        if elapsed > 0:
            self.task_area += len(self.tasks) * elapsed
            self.clock = now

    # --- tasks -----------------------------------------------------------------

    def _launch(self, now: float) -> _Task:
        self._advance(now)
        self.task_numbers += 1
        task = _Task(self.task_numbers, now + self.settings.start_seconds)
        self.tasks.append(task)
        return task

    def _ready(self, task: _Task, now: float) -> None:
        if task.stopping or task.ready:
            return
        task.ready = True
        task.ready_at = task.mark = now
        self.ready_tasks += 1
        self.idle.extend([task] * self.concurrency)

    def _gone(self, task: _Task, now: float) -> None:
        self._advance(now)
        self.tasks.remove(task)
        if task.ready:
            self.ready_tasks -= 1

    def _stop(self, task: _Task, now: float) -> None:
        """ECS stops the task: it takes no new message; its jobs drain or are interrupted."""
        task.stopping = True
        if not task.jobs:
            self._gone(task, now)
            return
        drain = self.setup.drain_seconds if self.setup.watcher else 0.0
        for message, end in list(task.jobs.items()):
            if end - now > drain:
                if drain > 0:
                    self._push(now + drain, _INTERRUPT, message, task)
                else:
                    self._interrupt(task, message, now)
        if not task.jobs:
            self._gone(task, now)

    def _interrupt(self, task: _Task, message: int, now: float) -> None:
        task.account(now)
        del task.jobs[message]
        self.busy -= 1
        self.result.interrupted_jobs += 1
        if self.setup.watcher:
            self.visible.appendleft(message)
        else:
            self.returning += 1
            self._push(now + self.setup.visibility_timeout, _RETURN, message)

    def _alive(self) -> int:
        return sum(1 for task in self.tasks if not task.stopping)

    def _reconcile(self, now: float) -> None:
        alive = [task for task in self.tasks if not task.stopping]
        missing = self.desired - len(alive)
        for _ in range(missing):
            task = self._launch(now)
            self._push(task.ready_at, _READY, task=task)
        if missing >= 0:
            return
        excess = -missing
        order = ([task for task in reversed(alive) if not task.ready]
                 + [task for task in reversed(alive) if task.ready])
        for task in order:
            if excess == 0:
                break
            if self.setup.protection and task.jobs:
                continue
            self._stop(task, now)
            excess -= 1

    # --- jobs ------------------------------------------------------------------

    def _dispatch(self, now: float) -> None:
        visible, idle = self.visible, self.idle
        while visible and idle:
            task = idle.popleft()
            if task.stopping:
                continue
            message = visible.popleft()
            task.account(now)
            end = now + self.job[message]
            task.jobs[message] = end
            self.busy += 1
            self.received += 1
            self.started_at[message] = now
            self._push(end, _DONE, message, task)

    def _done(self, task: _Task, message: int, now: float) -> None:
        if task.jobs.get(message) != now:
            return  # interrupted before it could finish
        task.account(now)
        del task.jobs[message]
        self.busy -= 1
        self.deleted += 1
        self.completed += 1
        self.last_done = now
        self.done[message] = 1
        self.waits.append(self.started_at[message] - self.arrival[message])
        if task.stopping:
            if not task.jobs:
                self._gone(task, now)
            return
        self.idle.append(task)
        self._dispatch(now)
        if (self.setup.protection and not task.jobs and not self.visible
                and self._alive() > self.desired):
            self._stop(task, now)

    # --- the minute clock ------------------------------------------------------

    def _minute(self, minute: int, now: float) -> bool:
        """Close the minute that just ended, scale, reconcile; True when the run is over."""
        self._advance(now)
        in_flight = self.busy + self.returning
        oldest = now - self.arrival[self.visible[0]] if self.visible else 0.0
        self.store.record({
            "visible": [float(len(self.visible))],
            "in_flight": [float(in_flight)],
            "zero": [0.0],
            "oldest_age": [oldest],
            "sent": [float(self.sent)],
            "received": [float(self.received)],
            "deleted": [float(self.deleted)],
            "running_tasks": [float(self.ready_tasks)],
            "pending_tasks": [float(len(self.tasks) - self.ready_tasks)],
            "desired_tasks": [float(self.desired)],
            "utilization": self._utilization(now),
        })
        self.sent = self.received = self.deleted = 0
        result = self.result
        result.visible.append(len(self.visible))
        result.in_flight.append(in_flight)
        result.tasks.append(len(self.tasks))
        result.desired.append(self.desired)
        result.arrivals.append(0)
        # Over once the minute just recorded shows every message done and the service settled.
        settled = (self.completed == self.total and minute > self.last_minute
                   and self.desired == self.setup.min_capacity and len(self.tasks) == self.desired
                   and not any(task.stopping for task in self.tasks))
        if settled or minute >= self.horizon:
            return True
        self._scale(now)
        self._reconcile(now)
        result.max_tasks = max(result.max_tasks, len(self.tasks))
        return False

    def _utilization(self, now: float) -> list[float]:
        """One sample per task that ran during the minute: the share of its slots that were busy."""
        samples = []
        start = now - 60.0
        for task in self.tasks:
            if not task.ready:
                continue
            task.account(now)
            span = now - max(task.ready_at, start)
            if span > 0:
                samples.append(100.0 * task.busy_seconds / (span * self.concurrency))
            task.busy_seconds = 0.0
        return samples

    def _scale(self, now: float) -> None:
        available = self.store.minutes - METRIC_DELAY_MINUTES
        if available <= 0:
            return
        invocations: list[Invocation] = []
        for tracker in self.trackers:
            tracker.evaluate(self.store, available)
            for name in tracker.invoked_policies():
                invocations.append(Invocation(self.setup.policies[name], tracker.datapoints,
                                              tracker.spec.threshold, tracker.spec.above))
        if not invocations:
            return
        activity = self.scaler.decide(now, self.desired, invocations)
        if activity is not None:
            self.desired = activity.after
            self.result.activities.append(activity)

    # --- the run ---------------------------------------------------------------

    def run(self) -> Result:
        events, arrival = self.events, self.arrival
        self._push(60.0, _MINUTE)
        minute_arrivals = 0
        while True:
            next_event = events[0] if events else None
            if self.next_arrival < self.total and (
                    next_event is None or (arrival[self.next_arrival], _ARRIVAL_ORDER) < next_event[:2]):
                now = arrival[self.next_arrival]
                self.visible.append(self.next_arrival)
                self.next_arrival += 1
                self.sent += 1
                minute_arrivals += 1
                if self.idle:
                    self._dispatch(now)
                continue
            if next_event is None:
                break
            now, kind, _, message, task = heapq.heappop(events)
            if kind == _MINUTE:
                minute = int(now // 60)
                over = self._minute(minute, now)
                self.result.arrivals[-1] = minute_arrivals
                minute_arrivals = 0
                if over:
                    break
                self._push(now + 60.0, _MINUTE)
            elif kind == _DONE:
                assert task is not None
                self._done(task, message, now)
            elif kind == _READY:
                assert task is not None
                self._ready(task, now)
                self._dispatch(now)
            elif kind == _INTERRUPT:
                assert task is not None
                if message in task.jobs:
                    self._interrupt(task, message, now)
                    if task.stopping and not task.jobs:
                        self._gone(task, now)
                self._dispatch(now)
            elif kind == _RETURN:
                self.returning -= 1
                self.visible.appendleft(message)
                self._dispatch(now)
        return self._finish()

    def _finish(self) -> Result:
        result = self.result
        end = self.clock
        waits = self.waits
        if self.completed < self.total:
            # Messages not done when the run ends waited until their job started, or until the end.
            running = {message: self.started_at[message] for task in self.tasks for message in task.jobs}
            finished = self.done
            for message in range(self.total):
                if not finished[message]:
                    waits.append(running.get(message, end) - self.arrival[message])
        result.completed = self.completed
        result.minutes = len(result.tasks)
        result.task_minutes = round(self.task_area / 60.0, 1)
        result.p95_wait_seconds = round(_percentile(waits, 95), 1) if waits else 0.0
        if self.total == 0:
            result.drained_minute = 0
        elif self.completed == self.total:
            result.drained_minute = math.ceil(self.last_done / 60.0)
        return result


def _percentile(values: list[float], percent: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]
