"""In-process: a message whose files cannot be written, and a job that does not end when stopped.

Neither is the job's fault, so neither may cost the message a failure or a
receive: the first waits hidden and is returned at once by a shutdown; the
second is returned by the drain before the watcher exits.
"""

from __future__ import annotations

import threading

from tests.runtime.test_watcher_loop import Harness, entry
from watchbot_cfn.runtime import watcher as watcher_module


class UnwritableFiles:
    """Stands in for MessageFiles on a volume remounted read-only."""

    directory = "/nonexistent"

    def __init__(self) -> None:
        self.tries = 0

    def write(self, message):
        self.tries += 1
        raise OSError(30, "Read-only file system")

    def remove(self, paths) -> None:
        raise AssertionError("nothing was written")


def test_a_message_whose_file_cannot_be_written_waits_hidden_and_a_shutdown_returns_it_uncounted(
        tmp_path, monkeypatch):
    monkeypatch.setattr(watcher_module, "_PREPARE_RETRY_BASE", 0.02)
    harness = Harness(tmp_path, "true")
    files = harness.watcher.files = UnwritableFiles()  # type: ignore[assignment]
    harness.sqs.script("receive_message", {"Messages": [entry(0)]})
    with harness:
        harness.until(lambda: files.tries >= 3)  # tried again, and again
        assert not harness.sqs.of("change_message_visibility_batch")  # never returned meanwhile
        assert not harness.sqs.of("delete_message_batch")
    returns = [e for call in harness.sqs.of("change_message_visibility_batch") for e in call["Entries"]]
    assert [(e["ReceiptHandle"], e["VisibilityTimeout"]) for e in returns] == [("rh0", 0)]
    stats = harness.watcher.stats
    assert stats.get("interrupted") == 1 and stats.get("prepare_retries") >= 3
    assert not stats.get("failure") and not stats.get("internal_error")
    assert any("cannot write the message file" in line for line in harness.logger.lines)


def test_a_stopped_job_that_has_not_ended_when_the_drain_gives_up_is_returned_before_the_watcher_exits(
        tmp_path, monkeypatch):
    monkeypatch.setattr(watcher_module, "_STOPPED_JOBS_WAIT", 0.2)  # shorter than the job's kill grace
    record = tmp_path / "started"
    harness = Harness(tmp_path, f'trap "" TERM; touch {record}; while :; do sleep 0.05; done', drainTimeout="0")
    harness.sqs.script("receive_message", {"Messages": [entry(0)]})
    with harness:
        harness.until(record.exists)
    # the job's thread ends after its SIGKILL and finds the message settled already
    harness.until(lambda: not any(thread.name == "job-m0" for thread in threading.enumerate()), 10)
    returns = [e for call in harness.sqs.of("change_message_visibility_batch") for e in call["Entries"]]
    assert [(e["ReceiptHandle"], e["VisibilityTimeout"]) for e in returns] == [("rh0", 0)]  # once
    assert harness.watcher.stats.get("interrupted") == 1
    assert any("not ended in time" in line for line in harness.logger.lines)
