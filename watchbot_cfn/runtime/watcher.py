"""The watcher loop: receive ahead of free slots, run jobs, settle messages, drain on shutdown.

Threads: pollers (each receives as many messages as the scheduler has room
for, while other jobs run; two on a standard queue with several slots, so a
receive already on the wire never holds up the next), one thread per running
job, one heartbeat and one settler. ``Scheduler`` decides which held message
starts next and how many to receive (``schedule.py``); a finished job starts
the next one itself, so no slot waits for a receive while work is held. The
main thread only waits for a signal or for the end of work, so signal
handling never races a lock.
"""

from __future__ import annotations

import contextlib
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
from watchbot_cfn.runtime.protection import TaskProtection
from watchbot_cfn.runtime.queue import BATCH_LIMIT, Backoff, EntryOutcome, QueueClient
from watchbot_cfn.runtime.schedule import Scheduler
from watchbot_cfn.runtime.scratch import ScratchSpace
from watchbot_cfn.runtime.settle import Settler
from watchbot_cfn.runtime.stats import Stats
from watchbot_cfn.runtime.visibility import Heartbeat, remaining_visibility
from watchbot_cfn.runtime.volumes import clean_volumes

__all__ = ["Watcher"]

#: Receives in flight at once, at most, on a standard queue with several slots.
MAX_POLLERS = 2
#: After the drain deadline: seconds for stopped jobs to end (SIGKILL comes after KILL_GRACE) ...
_STOPPED_JOBS_WAIT = KILL_GRACE + 0.5
#: ... and for the last deletes and returns to be sent; together within contract.SHUTDOWN_MARGIN.
_FINAL_SETTLE = contract.SHUTDOWN_MARGIN - _STOPPED_JOBS_WAIT
#: Seconds between tries to write a message file (doubling, with jitter, up to the cap).
_PREPARE_RETRY_BASE = 1.0
_PREPARE_RETRY_CAP = 30.0
#: The variable a job's scratch directory is given in (several slots with volumes).
TMPDIR = "TMPDIR"


class Watcher:
    """One watcher process's work; ``run`` returns the process exit code."""

    def __init__(self, config: WatcherConfig, queue: QueueClient, logger: Logger, files: MessageFiles,
                 children: Children | None = None, environ: Mapping[str, str] | None = None,
                 stats: Stats | None = None, guard: JobGuard | None = None,
                 protection: TaskProtection | None = None) -> None:
        self.config = config
        self.queue = queue
        self.logger = logger
        self.files = files
        self.children = children or DirectChildren()
        self.environ = dict(os.environ if environ is None else environ)
        self.stats = stats or Stats()
        self.stopping = threading.Event()
        self.heartbeat = Heartbeat(queue, logger, self.stats, config.visibility_timeout, config.heartbeat_interval)
        self.settler = Settler(queue, logger, self.stats, heartbeat=self.heartbeat)
        self.settler.on_settled = self._on_settled
        # With one slot the volumes are emptied after every job, exactly as the
        # original did; with more, each job also gets directories of its own.
        self.scratch = ScratchSpace(config.volumes, logger) if config.volumes and config.slots > 1 else None
        prefetch = 0 if config.writable_filesystem else min(config.slots, BATCH_LIMIT)
        self.scheduler = Scheduler(config.slots, fifo=config.fifo, prefetch_limit=prefetch,
                                   volumes=bool(config.volumes),
                                   space_ok=self.scratch.space_ok if self.scratch else None,
                                   batch_limit=BATCH_LIMIT)
        self.guard = guard
        self.protection = protection
        self._jobs_lock = threading.Lock()
        self._jobs: dict[int, Job] = {}  # by hold token
        self._holds_lock = threading.Lock()
        self._holds: dict[str, Hold] = {}  # by message id: what this watcher holds, from receive to settle
        self._unlocking: set[str] = set()  # FIFO messages whose settle releases their group at SQS
        self._killing = False
        self._received_any = False
        self._poller_done = threading.Event()
        self._pollers_lock = threading.Lock()
        # FIFO: one poller, whose receives the scheduler paces. Standard queues:
        # a second receive fills the room while the first is on the wire.
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

    @property
    def wake_fd(self) -> int:
        """The write end of the main thread's wake-up pipe, for ``signal.set_wakeup_fd``."""
        return self._wake_write

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
        if self.protection is not None:
            self.protection.start()
        for index in range(self._pollers):
            threading.Thread(target=self._poll, name=f"poller-{index}", daemon=True).start()
        self.logger.notice(
            f"listening on {config.queue_url}: concurrency {config.slots}, visibility {config.visibility_timeout} s, "
            f"maxJobDuration {config.max_job_duration:g} s, drainTimeout {config.drain_timeout:g} s"
            + (", FIFO" if config.fifo else "")
            + (", one job (writable filesystem)" if config.writable_filesystem else ""))
        while not self._signals:
            if self._poller_done.is_set() and self.scheduler.idle():
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
        """Stop receiving now and return held messages; let jobs finish until the deadline; then stop them."""
        first_signals = self._signals
        self.stopping.set()
        held = self.scheduler.stop()
        for hold in held:
            self._release_unstarted(hold, 0, "the watcher is shutting down")
        deadline = time.monotonic() + self.config.drain_timeout
        in_flight = " (waiting for the receive in flight)" if not self._poller_done.is_set() else ""
        returned = f", {len(held)} held message(s) returned at once" if held else ""
        self.logger.notice(f"shutting down: receiving stopped{in_flight}{returned}, {self.scheduler.running} "
                           f"running job(s) get {self.config.drain_timeout:g} s to finish")
        # A message leaves the drain's sight only once settled: a job that has
        # ended but whose message is not yet settled still holds the drain.
        while self._unsettled() or not self._poller_done.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._signals > first_signals:
                break
            self._sleep(remaining)
        if not self._unsettled():
            return
        with self._jobs_lock:
            self._killing = True
            jobs = list(self._jobs.values())
        self.logger.notice(f"stopping {len(jobs)} job(s) and returning their messages to the queue",
                           level="warning")
        for job in jobs:
            job.stop()
        give_up = time.monotonic() + _STOPPED_JOBS_WAIT
        while self._unsettled() and time.monotonic() < give_up:
            self._sleep(give_up - time.monotonic())
        for hold in self._unsettled():  # the job has not ended yet: the guard kills it when the watcher exits
            message = self._unhold(hold)
            if message is not None:
                self.settler.release(message.message_id, message.receipt_handle, 0, hold=hold)
                self.stats.add("interrupted")
                self.logger.notice("stopped by shutdown, and not ended in time; message returned to the queue",
                                   message.message_id, level="warning")

    def _unsettled(self) -> list[Hold]:
        """Every message this watcher holds and has not settled: held, running, or ended and not yet settled."""
        with self._holds_lock:
            return list(self._holds.values())

    def _finish_up(self) -> int:
        self.stopping.set()
        for hold in self.scheduler.stop():  # pragma: no cover - the drain returned them already
            self._release_unstarted(hold, 0, "the watcher is shutting down")
        final = time.monotonic() + _FINAL_SETTLE
        if self.protection is not None:
            self.protection.stop()  # cleared while the last deletes and returns go out
        if not self.settler.drain(_FINAL_SETTLE):
            self.logger.notice("some deletes or returns were not sent before exit; those messages will be "
                               "delivered again", level="warning")
        if self.protection is not None and not self.protection.join(final - time.monotonic()):
            self.logger.notice("task protection: the ECS agent did not answer the last call before exit; the "
                               "protection runs out by itself", level="warning")
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
        try:
            while not self.stopping.is_set():
                if self.config.writable_filesystem and self._received_any:
                    return  # the filesystem is only clean for one job: the task ends after it
                asked, wait = self.scheduler.reserve(self.stopping)
                if asked <= 0:
                    return
                holds: list[Hold] = []
                try:
                    raw = self.queue.receive(asked, self.config.visibility_timeout, wait_seconds=wait,
                                             interrupt=self.stopping)
                    for message in (self._parse(entry) for entry in raw):
                        hold = self._hold(message) if message is not None else None
                        if hold is not None:  # None: a copy of a message held here, which keeps it
                            holds.append(hold)
                except Exception as error:  # pragma: no cover - a bug must not stop the loop
                    self.logger.notice(f"receive error: {error!r}", level="error")
                    self.stopping.wait(1.0)
                finally:
                    refused = self.scheduler.received(holds, asked)
                self._received_any = self._received_any or bool(holds)
                for hold in refused:
                    self._release_unstarted(hold, 0, "the watcher is shutting down")
                self._dispatch()
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
                self.heartbeat.track(hold)  # hidden from receipt on, while held, running and settling
                return hold
            hold.adopt(message)
        self.heartbeat.renew(hold)
        self.stats.add("received_while_running")
        with self._jobs_lock:
            running = hold.token in self._jobs
        where = ("its job runs (its visibility ran out); the running job keeps it" if running else
                 "it waits to start here (its visibility ran out); it runs once")
        self.logger.notice(f"received again while {where} and settles it with the newer receipt handle",
                           message.message_id, level="warning")
        return None

    def _release_unstarted(self, hold: Hold, visibility: int, why: str) -> None:
        """Return a message that never got a job."""
        message = self._unhold(hold)
        if message is None:
            return
        self.settler.release(message.message_id, message.receipt_handle, visibility, hold=hold)
        self.stats.add("not_started")
        self.logger.notice(f"not started: {why}; message returned to the queue", message.message_id,
                           level="warning")

    def _unhold(self, hold: Hold) -> Message | None:
        """Forget the hold: the message as last received, to settle with its handle.

        None when it was settled already (the drain returned it while its job was still being stopped): every
        message is settled exactly once. The heartbeat keeps extending it until the settler is done with it (a
        delete) or takes it (a return), so every caller hands the message to ``settler.delete``/``release`` with
        ``hold=hold``.
        """
        with self._holds_lock:
            if self._holds.get(hold.message_id) is not hold:
                return None
            del self._holds[hold.message_id]
            return hold.message

    # -- starting jobs -------------------------------------------------------------

    def _dispatch(self) -> None:
        """Start every held message the scheduler lets start now."""
        while True:
            hold = self.scheduler.take()
            if hold is None:
                return
            self._start(hold)

    def _start(self, hold: Hold) -> None:
        try:
            threading.Thread(target=self._run_job, args=(hold,), name=f"job-{hold.message_id}",
                             daemon=True).start()
        except BaseException as error:  # no thread to run it (a memory or process limit)
            self.scheduler.ended(None)
            self._fail_unrun(hold, f"no thread could be started for the job ({error})")
            self._wake()

    def _fail_unrun(self, hold: Hold, why: str) -> None:
        """The watcher could not run the started job: return with backoff and count a failure, never lose it."""
        message = self._unhold(hold)
        if message is None:
            return
        backoff = remaining_visibility(message, contract.backoff_seconds(message.receives))
        behind, unlocks = self._group_settled(hold, message, returned_for=backoff)
        self.settler.release(message.message_id, message.receipt_handle, backoff, urgent=unlocks, hold=hold)
        self._return_behind(behind, message)
        self.stats.add(contract.OUTCOME_FAILURE)
        self.stats.add("internal_error")
        self.logger.result(message.message_id, contract.JobSummary(
            outcome=contract.OUTCOME_FAILURE, exit_code=None, duration=0, receives=message.receives,
            response_duration=message.response_duration_ms(), reason=f"{why}; message returned to the queue",
            error=True))

    # -- FIFO groups ---------------------------------------------------------------

    def _group_settled(self, hold: Hold, message: Message, returned_for: int | None) -> tuple[list[Hold], bool]:
        """Tell the scheduler (before anything is sent) the message is deleted (``returned_for`` None) or
        returned for that many seconds: the held messages of the group to return at once, and whether this
        settle unlocks the group at SQS (then it goes out at once, and a receive follows it)."""
        if returned_for is not None:
            self.scheduler.returned(message.message_id, returned_for)  # before the return can land
        behind, released = self.scheduler.settled(hold, kept_order=returned_for is None)
        if released:
            self._unlocking.add(message.message_id)
        return behind, released

    def _return_behind(self, behind: list[Hold], before: Message) -> None:
        for hold in behind:
            message = self._unhold(hold)
            if message is None:
                continue
            self.settler.release(message.message_id, message.receipt_handle, 0, hold=hold)
            self.stats.add("returned_behind")
            self.logger.notice(f"not started: {before.message_id}, before it in message group "
                               f"{message.group_id}, was returned, and nothing may overtake it; message returned "
                               "to the queue", message.message_id)

    def _on_settled(self, kind: str, key: str, outcome: EntryOutcome) -> None:
        try:
            self._unlocking.remove(key)
        except KeyError:
            return
        self.scheduler.group_released()

    # -- job threads -------------------------------------------------------------

    def _run_job(self, hold: Hold) -> None:
        """Run the job; whatever happens, settle the message exactly once, then free the slot.

        The message is settled as soon as the job has ended, before its files
        and directories are removed and before the volumes are emptied, which
        can take long (a job may leave 200,000 files): a shutdown meanwhile
        then has nothing of it left to return.
        """
        began = time.monotonic()
        try:
            with contextlib.ExitStack() as resources:  # released after the settle, whatever happened
                try:
                    settle = self._settlement(hold, self._execute(hold, resources))
                except BaseException as error:  # a fault of the watcher's own: the message must not be lost
                    settle = self._internal_error(hold, error)
                self._settle(hold, settle)
        finally:
            self._free_slot(hold, time.monotonic() - began)

    def _execute(self, hold: Hold, resources: contextlib.ExitStack) -> JobResult:
        """Prepare the job's files, register it where the drain and task protection see it, and run it."""
        prepared = self._prepare(hold, resources)
        if prepared is None:
            return JobResult(None, 0, interrupted=True)
        paths, scratch = prepared
        message = hold.message
        env, left_out = worker_environment(message, self.environ, paths)
        if scratch:
            env[TMPDIR] = scratch[0]
        if message.topic_message_id:  # what the publisher was told, so a sent message can be found in the log
            self.logger.notice(f"from SNS message {message.topic_message_id}", message.message_id)
        for reason in left_out:
            self.logger.notice(reason, message.message_id, level="warning")
        job = Job(self.config.command, env, message.message_id, self.logger, self.children,
                  self.config.max_job_duration, guard=self.guard)
        with self._jobs_lock:
            self._jobs[hold.token] = job
            if self._killing:
                job.stop()
        resources.callback(self._forget_job, hold.token)
        if self.protection is not None:
            self.protection.job_started(hold.token)  # a second at most, and only when not protected
            resources.callback(self._quietly, hold, self.protection.job_ended, hold.token)
        return job.run()

    def _prepare(self, hold: Hold, resources: contextlib.ExitStack) -> tuple[MessagePaths, list[str]] | None:
        """Write the message file and make the job's directories; None if the watcher stops first.

        Failing to is the watcher's own fault, never the job's (a job emptied the
        volume that holds them, a volume was remounted read-only or is full), and
        returning the message would spend one of its receives each time: so the
        message stays hidden and extended, and the write is tried again.
        """
        backoff = Backoff(base=_PREPARE_RETRY_BASE, cap=_PREPARE_RETRY_CAP)
        while True:
            paths: MessagePaths | None = None
            try:
                paths = self.files.write(hold.message)
                scratch = self.scratch.create(hold.token) if self.scratch is not None else []
            except OSError as error:
                if paths is not None:
                    self._quietly(hold, self.files.remove, paths)
                what = "the message file" if paths is None else "the job's directories"
                delay = backoff.next_delay()
                self.stats.add("prepare_retries")
                self.logger.notice(f"cannot write {what} ({error}): a fault of the watcher's, not the job's; the "
                                   f"message stays hidden and is tried again in {delay:.1f} s", hold.message_id,
                                   level="error")
                if self.stopping.wait(delay):
                    return None
                continue
            resources.callback(self._quietly, hold, self.files.remove, paths)
            if scratch and self.scratch is not None:
                resources.callback(self._quietly, hold, self.scratch.remove, scratch)
            return paths, scratch

    def _forget_job(self, token: int) -> None:
        with self._jobs_lock:
            self._jobs.pop(token, None)

    def _quietly(self, hold: Hold, release: Callable[..., object], *args: object) -> None:
        """Release one of a job's resources; a failure is logged and never changes how the message settles."""
        try:
            release(*args)
        except Exception as error:
            self.logger.notice(f"internal error after the job: {error!r}", hold.message_id, level="error")

    def _settle(self, hold: Hold, settle: Callable[[], None]) -> None:
        try:
            settle()
        except BaseException as error:  # pragma: no cover - last resort: the message reappears by itself
            self.logger.notice(f"could not settle the message: {error!r}", hold.message_id, level="error")

    def _free_slot(self, hold: Hold, seconds: float) -> None:
        """The slot is free: empty the volumes if no job runs now, then start whatever may start."""
        try:
            if self.scheduler.ended(seconds):
                # No job runs: empty the volumes before the next starts.
                try:
                    clean_volumes(self.config.volumes, keep=[self.files.directory], logger=self.logger)
                    if self.scratch is not None:
                        self.scratch.measure()
                finally:
                    self.scheduler.cleaned()
        except BaseException as error:
            self.logger.notice(f"internal error after the job: {error!r}", hold.message_id, level="error")
        finally:
            try:
                self._dispatch()
            finally:
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
            if message is None:
                return
            mid = message.message_id
            deleted = outcome in (contract.OUTCOME_SUCCESS, contract.OUTCOME_REJECTED)
            backoff = None if deleted else remaining_visibility(message, contract.backoff_seconds(message.receives))
            behind, unlocks = self._group_settled(hold, message, returned_for=backoff)
            if backoff is None:
                self.settler.delete(mid, message.receipt_handle, urgent=unlocks, hold=hold)
            else:
                self.settler.release(mid, message.receipt_handle, backoff, urgent=unlocks, hold=hold)
            self._return_behind(behind, message)
            self.stats.add(outcome)
            self.logger.result(mid, contract.JobSummary(
                outcome=outcome, exit_code=code, duration=result.duration_ms, receives=message.receives,
                response_duration=message.response_duration_ms(), reason=reason,
                signal=signal_name(result.signal) if result.signal is not None else None,
                error=result.start_error is not None))
        return settle

    def _settle_interrupted(self, hold: Hold) -> None:
        message = self._unhold(hold)
        if message is None:
            return
        behind, unlocks = self._group_settled(hold, message, returned_for=0)
        self.settler.release(message.message_id, message.receipt_handle, 0, urgent=unlocks, hold=hold)
        self._return_behind(behind, message)
        self.stats.add("interrupted")
        self.logger.notice("stopped by shutdown; message returned to the queue", message.message_id,
                           level="warning")
