"""Faults inside the watcher's own code paths, injected in-process: every path settles the message once."""

from __future__ import annotations

import threading

from tests.runtime.test_watcher_loop import Harness, entry
from tests.support.filtermatch import matches
from watchbot_cfn import contract
from watchbot_cfn.runtime import watcher as watcher_module

ERRORS = contract.METRIC_FILTERS[0].plain_pattern


def returns(harness: Harness) -> dict[str, int]:
    return {e["ReceiptHandle"]: e["VisibilityTimeout"]
            for call in harness.sqs.of("change_message_visibility_batch") for e in call["Entries"]}


def test_an_internal_error_in_a_job_thread_returns_the_message_with_backoff_and_counts_a_failure(tmp_path,
                                                                                                 monkeypatch):
    def broken(*args, **kwargs):
        raise UnicodeEncodeError("utf-8", "x", 0, 1, "injected")
    monkeypatch.setattr(watcher_module, "worker_environment", broken)
    harness = Harness(tmp_path, "true")
    harness.sqs.script("receive_message", {"Messages": [entry(0, receives=3)]}, {"Messages": [entry(1)]})
    with harness:
        harness.until(lambda: harness.watcher.stats.get("returned") == 2)
        assert harness.watcher.heartbeat.tracking() == 0  # nothing is extended without a job
    assert returns(harness) == {"rh0": 8, "rh1": 2}  # 2 ** receives, as the contract says
    failures = [line for line in harness.logger.lines if matches(ERRORS, line)]
    assert len(failures) == 2 and all("internal error" in line for line in failures)
    assert harness.watcher.stats.get("internal_error") == 2 and harness.watcher.scheduler.running == 0


def test_a_job_thread_that_cannot_start_frees_its_slot_and_returns_the_message(tmp_path, monkeypatch):
    real_start = threading.Thread.start
    refused = []

    def start(self):
        if self.name.startswith("job-") and not refused:
            refused.append(self.name)
            raise RuntimeError("can't start new thread")
        return real_start(self)
    monkeypatch.setattr(threading.Thread, "start", start)
    harness = Harness(tmp_path, "true")
    harness.sqs.script("receive_message", {"Messages": [entry(0, receives=2)]}, {"Messages": [entry(1)]})
    with harness:
        harness.until(lambda: harness.watcher.stats.get("success") == 1)  # the one slot was freed
        harness.until(lambda: harness.watcher.stats.get("deleted") == 1)
        harness.until(lambda: harness.watcher.heartbeat.tracking() == 0)  # extended until its delete landed
    assert refused == ["job-m0"]
    assert returns(harness) == {"rh0": 4}
    [failure] = [line for line in harness.logger.lines if matches(ERRORS, line)]
    assert "no thread could be started" in failure


def test_a_copy_of_a_running_message_is_left_to_the_running_job(tmp_path):
    harness = Harness(tmp_path, "sleep 0.5", concurrency="2")
    newer = {**entry(0, receives=2), "ReceiptHandle": "rh0-newer"}
    harness.sqs.script("receive_message", {"Messages": [entry(0)]}, {"Messages": [newer]})
    with harness:
        harness.until(lambda: harness.watcher.stats.get("deleted") == 1)
    assert harness.watcher.stats.get("success") == 1 and harness.watcher.stats.get("received_while_running") == 1
    # the copy arrived while the job ran (a slot was free): the job settles with the newer handle
    deleted = [e["ReceiptHandle"] for call in harness.sqs.of("delete_message_batch") for e in call["Entries"]]
    assert deleted == ["rh0-newer"]
