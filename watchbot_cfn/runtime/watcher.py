"""The watcher loop: receive into free slots, run jobs, settle messages, drain on shutdown.

Threads: pollers (each long-polls for as many messages as there are free,
unreserved slots, and polls again as soon as a slot frees, while other jobs
run; two when there are several slots, so a freed slot need not wait for a
receive already on the wire), one thread per running job, one heartbeat and
one settler. The main thread only waits for a
signal or for the end of work, so signal handling never races a lock.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Callable, Mapping

from watchbot_cfn import contract
from watchbot_cfn.runtime.children import Children, DirectChildren
from watchbot_cfn.runtime.config import WatcherConfig
from watchbot_cfn.runtime.guard import JobGuard
from watchbot_cfn.runtime.hold import Hold
from watchbot_cfn.runtime.job import KILL_GRACE, Job, JobResult, describe, signal_name
from watchbot_cfn.runtime.logger import Logger
from watchbot_cfn.runtime.message import Message, MessageFiles, MessagePaths, worker_environment
from watchbot_cfn.runtime.queue import BATCH_LIMIT, QueueClient
from watchbot_cfn.runtime.settle import Settler
from watchbot_cfn.runtime.stats import Stats
from watchbot_cfn.runtime.visibility import Heartbeat, remaining_visibility
from watchbot_cfn.runtime.volumes import clean_volumes

__all__ = ["Slots", "Watcher"]

#: Receives in flight at once, at most (each for the slots still free).
MAX_POLLERS = 2
#: After the drain deadline: seconds for stopped jobs to end (SIGKILL comes after KILL_GRACE) ...
_STOPPED_JOBS_WAIT = KILL_GRACE + 0.5
#: ... and for the last deletes and returns to be sent; together within contract.SHUTDOWN_MARGIN.
_FINAL_SETTLE = contract.SHUTDOWN_MARGIN - _STOPPED_JOBS_WAIT


class Slots:
    """Free places for jobs, reserved by receives in flight, and the hold while volumes are cleaned.

    A receive reserves the slots it asks messages for, so the watcher never
    holds more messages than it can run, even with several receives in flight.

    Volumes are shared by every job of a watcher, so they are cleaned when no
    job runs: with one slot that is after every job, as in the original. With
    more, new receives are held back once ``capacity`` jobs have finished since
    the last cleaning, so leftovers never pile up beyond that.
    """

    def __init__(self, capacity: int, volumes: bool = False) -> None:
        self.capacity = capacity
        self.volumes = volumes
        self.running = 0
        self.reserved = 0
        self._dirty = 0
        self._cleaning = False
        self._cond = threading.Condition()

    def reserve(self, stopping: threading.Event, most: int) -> int:
        """Block until a slot is free, then reserve up to ``most``; 0 once ``stopping`` is set (then call ``wake``)."""
        with self._cond:
            while True:
                if stopping.is_set():
                    return 0
                busy = self.running + self.reserved
                held = self._cleaning or (self._dirty >= self.capacity and busy > 0)
                if not held and busy < self.capacity:
                    count = min(self.capacity - busy, most)
                    self.reserved += count
                    return count
                self._cond.wait()

    def unreserve(self, count: int) -> None:
        """Give back reservations a receive did not fill."""
        if count:
            with self._cond:
                self.reserved -= count
                self._cond.notify_all()

    def start(self) -> None:
        """A reserved slot gets its job; waits while volumes are being cleaned."""
        with self._cond:
            while self._cleaning:
                self._cond.wait()
            self.reserved -= 1
            self.running += 1

    def finish(self) -> bool:
        """A job ended; True means the caller must clean the volumes now, then call ``cleaned``."""
        with self._cond:
            self.running -= 1
            self._cond.notify_all()
            if not self.volumes:
                return False
            self._dirty += 1
            if self.running == 0:
                self._cleaning = True
                return True
            return False

    def abandon(self) -> None:
        """A started slot whose job never ran (no thread): free it; nothing was left in the volumes."""
        with self._cond:
            self.running -= 1
            self._cond.notify_all()

    def cleaned(self) -> None:
        with self._cond:
            self._cleaning = False
            self._dirty = 0
            self._cond.notify_all()

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()


class Watcher:
    """One watcher process's work; ``run`` returns the process exit code."""

    def __init__(self, config: WatcherConfig, queue: QueueClient, logger: Logger, files: MessageFiles,
                 children: Children | None = None, environ: Mapping[str, str] | None = None,
                 stats: Stats | None = None, guard: JobGuard | None = None) -> None:
        self.config = config
        self.queue = queue
        self.logger = logger
        self.files = files
        self.children = children or DirectChildren()
        self.environ = dict(os.environ if environ is None else environ)
        self.stats = stats or Stats()
        self.stopping = threading.Event()
        self.heartbeat = Heartbeat(queue, logger, self.stats, config.visibility_timeout, config.heartbeat_interval)
        self.settler = Settler(queue, logger, self.stats)
        self.slots = Slots(config.slots, volumes=bool(config.volumes))
        self.guard = guard
        self._jobs_lock = threading.Lock()
        self._jobs: dict[int, Job] = {}  # by hold token
        self._holds_lock = threading.Lock()
        self._holds: dict[str, Hold] = {}  # by message id: what this watcher holds, from receive to settle
        self._killing = False
        self._started = 0
        self._poller_done = threading.Event()
        self._pollers_lock = threading.Lock()
        # One receive in flight leaves freed slots idle for a round trip; a second
        # one fills them meanwhile. Reservations keep the total within the slots.
        single = config.fifo or config.writable_filesystem or config.slots == 1
        self._pollers = 1 if single else min(MAX_POLLERS, config.slots)
        self._pollers_running = self._pollers
        self._signals = 0
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)

    # -- main thread -------------------------------------------------------------

    def request_stop(self, signum: int | None = None) -> None:
        """Safe inside a signal handler: no locks, one write to a pipe."""
        self._signals += 1
        self._wake()

    def _wake(self) -> None:
        try:
            os.write(self._wake_write, b"\0")
        except (BlockingIOError, OSError):
            pass  # the pipe is full, so a wake-up is pending anyway

    def _sleep(self, timeout: float | None) -> None:
        select.select([self._wake_read], [], [], timeout)
        try:
            while os.read(self._wake_read, 4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def run(self) -> int:
        config = self.config
        self.heartbeat.start()
        self.settler.start()
        for index in range(self._pollers):
            threading.Thread(target=self._poll, name=f"poller-{index}", daemon=True).start()
        self.logger.notice(
            f"listening on {config.queue_url}: concurrency {config.slots}, visibility {config.visibility_timeout} s, "
            f"maxJobDuration {config.max_job_duration:g} s, drainTimeout {config.drain_timeout:g} s"
            + (", one job (writable filesystem)" if config.writable_filesystem else ""))
        while not self._signals:
            if self._poller_done.is_set() and self.slots.running == 0:
                break
            self._sleep(None)
        if self._signals:
            self._drain()
        elif not config.writable_filesystem:  # pragma: no cover - only a bug ends the pollers otherwise
            self.logger.notice("receiving stopped unexpectedly; exiting", level="error")
            self._finish_up()
            return 1
        return self._finish_up()

    def _drain(self) -> None:
        """Stop receiving now; let jobs finish until the deadline; then stop them and return their messages."""
        first_signals = self._signals
        self.stopping.set()
        self.slots.wake()
        deadline = time.monotonic() + self.config.drain_timeout
        in_flight = " (waiting for the receive in flight)" if not self._poller_done.is_set() else ""
        self.logger.notice(f"shutting down: receiving stopped{in_flight}, {self.slots.running} running job(s) "
                           f"get {self.config.drain_timeout:g} s to finish")
        while self.slots.running > 0 or not self._poller_done.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._signals > first_signals:
                break
            self._sleep(remaining)
        if self.slots.running == 0:
            return
        with self._jobs_lock:
            self._killing = True
            jobs = list(self._jobs.values())
        self.logger.notice(f"stopping {len(jobs)} job(s) and returning their messages to the queue",
                           level="warning")
        for job in jobs:
            job.stop()
        give_up = time.monotonic() + _STOPPED_JOBS_WAIT
        while self.slots.running > 0 and time.monotonic() < give_up:
            self._sleep(give_up - time.monotonic())

    def _finish_up(self) -> int:
        self.stopping.set()
        self.slots.wake()
        if not self.settler.drain(_FINAL_SETTLE):
            self.logger.notice("some deletes or returns were not sent before exit; those messages will be "
                               "delivered again", level="warning")
        self.heartbeat.close()
        self.settler.close()
        counts_by_name = self.stats.snapshot()
        if self.logger.dropped:
            counts_by_name["log_lines_dropped"] = self.logger.dropped
        counts = ", ".join(f"{name} {count}" for name, count in sorted(counts_by_name.items())) or "no jobs"
        self.logger.notice(f"stopped: {counts}")
        return 0

    # -- poller ------------------------------------------------------------------

    def _poll(self) -> None:
        single = self.config.fifo or self.config.writable_filesystem
        try:
            while not self.stopping.is_set():
                if self.config.writable_filesystem and self._started >= 1:
                    return  # the filesystem is only clean for one job: the task ends after it
                reserved = self.slots.reserve(self.stopping, 1 if single else BATCH_LIMIT)
                if reserved <= 0:
                    return
                messages: list[Message] = []
                try:
                    raw = self.queue.receive(reserved, self.config.visibility_timeout, interrupt=self.stopping)
                    messages = [m for m in (self._parse(entry) for entry in raw) if m is not None]
                except Exception as error:  # pragma: no cover - a bug must not stop the loop
                    self.logger.notice(f"receive error: {error!r}", level="error")
                    self.stopping.wait(1.0)
                started = 0
                for message in messages:
                    hold = self._hold(message)
                    if hold is None:
                        continue  # a copy of a running message: its job keeps it
                    if self.stopping.is_set():
                        self._release_unstarted(hold, 0, "the watcher is shutting down")
                        continue
                    self._start(hold)
                    started += 1
                self.slots.unreserve(reserved - started)
        finally:
            with self._pollers_lock:
                self._pollers_running -= 1
                if self._pollers_running == 0:
                    self._poller_done.set()
            self._wake()

    def _parse(self, entry: dict) -> Message | None:
        try:
            message = Message.from_sqs(entry)
        except (KeyError, TypeError, ValueError) as error:
            self.logger.notice(f"ignoring a malformed receive entry ({error!r})", level="error")
            return None
        self.stats.add("received")
        return message

    def _hold(self, message: Message) -> Hold | None:
        """Hold a received message from now until it is settled; None when this watcher already holds it."""
        with self._holds_lock:
            hold = self._holds.get(message.message_id)
            if hold is None:
                hold = self._holds[message.message_id] = Hold(message)
                self.heartbeat.track(hold)  # hidden from receipt on, even while its slot waits for cleaning
                return hold
            hold.adopt(message)
        self.heartbeat.renew(hold)
        self.stats.add("received_while_running")
        self.logger.notice("received again while its job runs (its visibility ran out); the running job keeps "
                           "it and settles it with the newer receipt handle", message.message_id, level="warning")
        return None

    def _release_unstarted(self, hold: Hold, visibility: int, why: str) -> None:
        """Return a message that never got a job."""
        message = self._unhold(hold)
        self.settler.release(message.message_id, message.receipt_handle, visibility)
        self.logger.notice(f"not started: {why}; message returned to the queue", message.message_id,
                           level="warning")

    def _unhold(self, hold: Hold) -> Message:
        """Stop extending and forget the hold; the message as last received, to settle with its handle."""
        self.heartbeat.untrack(hold)
        with self._holds_lock:
            if self._holds.get(hold.message_id) is hold:
                del self._holds[hold.message_id]
            return hold.message

    def _start(self, hold: Hold) -> None:
        self.slots.start()
        self._started += 1
        try:
            threading.Thread(target=self._run_job, args=(hold,), name=f"job-{hold.message_id}",
                             daemon=True).start()
        except BaseException as error:  # no thread to run it (a memory or process limit)
            self.slots.abandon()
            self._wake()
            self._fail_unrun(hold, f"no thread could be started for the job ({error})")

    def _fail_unrun(self, hold: Hold, why: str) -> None:
        """The watcher could not run the job: return with backoff and count a failure, never lose it."""
        message = self._unhold(hold)
        backoff = remaining_visibility(message, contract.backoff_seconds(message.receives))
        self.settler.release(message.message_id, message.receipt_handle, backoff)
        self.stats.add(contract.OUTCOME_FAILURE)
        self.stats.add("internal_error")
        self.logger.result(message.message_id, contract.JobSummary(
            outcome=contract.OUTCOME_FAILURE, exit_code=None, duration=0, receives=message.receives,
            response_duration=message.response_duration_ms(), reason=f"{why}; message returned to the queue",
            error=True))

    # -- job threads -------------------------------------------------------------

    def _run_job(self, hold: Hold) -> None:
        """Run the job; whatever happens, settle the message exactly once and free the slot."""
        paths: MessagePaths | None = None
        settle: Callable[[], None] | None = None
        try:
            message = hold.message
            try:
                paths = self.files.write(message)
            except OSError as error:
                result = JobResult(None, 0, start_error=f"cannot write the message file: {error}")
            else:
                env, left_out = worker_environment(message, self.environ, paths)
                for reason in left_out:
                    self.logger.notice(reason, message.message_id, level="warning")
                job = Job(self.config.command, env, message.message_id, self.logger, self.children,
                          self.config.max_job_duration, guard=self.guard)
                with self._jobs_lock:
                    self._jobs[hold.token] = job
                    if self._killing:
                        job.stop()
                result = job.run()
            settle = self._settlement(hold, result)
        except BaseException as error:  # a fault of the watcher's own: the message must not be lost
            settle = self._internal_error(hold, error)
        finally:
            with self._jobs_lock:
                self._jobs.pop(hold.token, None)
            try:
                if paths is not None:
                    self.files.remove(paths)
                if self.slots.finish():
                    # The message stays hidden (and extended) while the volumes are emptied after its job.
                    try:
                        clean_volumes(self.config.volumes, keep=[self.files.directory], logger=self.logger)
                    finally:
                        self.slots.cleaned()
            except BaseException as error:
                self.logger.notice(f"internal error after the job: {error!r}", hold.message_id, level="error")
            finally:
                try:
                    if settle is None:
                        settle = self._internal_error(hold, RuntimeError("the job ended without a settlement"))
                    settle()
                except BaseException as error:  # pragma: no cover - last resort: the message reappears by itself
                    self.logger.notice(f"could not settle the message: {error!r}", hold.message_id,
                                       level="error")
                self._wake()

    def _internal_error(self, hold: Hold, error: BaseException) -> Callable[[], None]:
        return lambda: self._fail_unrun(hold, f"internal error: {error!r}")

    def _settlement(self, hold: Hold, result: JobResult) -> Callable[[], None]:
        """What to do with the message, as the contract's table says; run once the job is over."""
        if result.interrupted:
            return lambda: self._settle_interrupted(hold)
        code = result.exit_code
        ran_to_exit = result.start_error is None and not result.timed_out
        outcome = contract.OUTCOME_FAILURE
        if ran_to_exit and code is not None:
            outcome = contract.OUTCOME_BY_EXIT.get(code, contract.OUTCOME_FAILURE)
        reason = ""
        if outcome == contract.OUTCOME_REJECTED:
            reason = "rejected with exit code 3; message deleted"
        elif outcome == contract.OUTCOME_FAILURE:
            reason = describe(result)
            if result.timed_out:
                reason = f"exceeded maxJobDuration of {self.config.max_job_duration:g} s and was stopped"
            reason += "; message returned to the queue"

        def settle() -> None:
            message = self._unhold(hold)  # before any delete or return
            mid = message.message_id
            if outcome in (contract.OUTCOME_SUCCESS, contract.OUTCOME_REJECTED):
                self.settler.delete(mid, message.receipt_handle)
            else:
                backoff = remaining_visibility(message, contract.backoff_seconds(message.receives))
                self.settler.release(mid, message.receipt_handle, backoff)
            self.stats.add(outcome)
            self.logger.result(mid, contract.JobSummary(
                outcome=outcome, exit_code=code, duration=result.duration_ms, receives=message.receives,
                response_duration=message.response_duration_ms(), reason=reason,
                signal=signal_name(result.signal) if result.signal is not None else None,
                error=result.start_error is not None))
        return settle

    def _settle_interrupted(self, hold: Hold) -> None:
        message = self._unhold(hold)
        self.settler.release(message.message_id, message.receipt_handle, 0)
        self.stats.add("interrupted")
        self.logger.notice("stopped by shutdown; message returned to the queue", message.message_id,
                           level="warning")
