"""The watcher loop in-process against a scripted SQS: slots, FIFO, failures to start, draining."""

from __future__ import annotations

import os
import threading

from tests.runtime.helpers import CapturingLogger, FakeSqs
from tests.support.waiting import wait_for
from watchbot_cfn import contract
from watchbot_cfn.runtime.children import DirectChildren
from watchbot_cfn.runtime.config import load_config
from watchbot_cfn.runtime.message import MessageFiles
from watchbot_cfn.runtime.queue import QueueClient
from watchbot_cfn.runtime.watcher import Watcher


def entry(index: int, receives: int = 1) -> dict:
    return {"MessageId": f"m{index}", "ReceiptHandle": f"rh{index}", "Body": str(index),
            "Attributes": {"ApproximateReceiveCount": str(receives), "SentTimestamp": "1700000000000"}}


class Harness:
    def __init__(self, tmp_path, command: str, children=None, **env: str) -> None:
        self.sqs = FakeSqs()
        self.sqs.receive_delay = 0.02
        self.logger = CapturingLogger()
        config = load_config(command, {contract.ENV_QUEUE_URL: "http://q", contract.ENV_DRAIN_TIMEOUT: "2", **env})
        self.watcher = Watcher(config, QueueClient("http://q", self.sqs, self.logger, max_backoff=0.01),
                               self.logger, MessageFiles(str(tmp_path / "messages")),
                               children=children or DirectChildren(), environ=dict(os.environ))
        self.running_at_receive: list[tuple[int, int]] = []
        original = self.sqs.receive_message

        def receive(**kwargs):
            # slots in use when this receive goes out: running jobs plus every reservation
            # (this receive's own included)
            self.running_at_receive.append((self.watcher.scheduler.running + self.watcher.scheduler.reserved,
                                            kwargs["MaxNumberOfMessages"]))
            return original(**kwargs)
        self.sqs.receive_message = receive
        self.code: list[int] = []
        self.thread = threading.Thread(target=lambda: self.code.append(self.watcher.run()), daemon=True)

    def __enter__(self) -> Harness:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.watcher.request_stop()
        self.thread.join(10)
        assert self.code == [0]

    def until(self, predicate, timeout: float = 5.0) -> None:
        assert wait_for(predicate, timeout, 0.01), "\n".join(self.logger.lines)


def test_receives_ask_for_free_slots_first_then_for_a_bounded_prefetch(tmp_path):
    harness = Harness(tmp_path, "sleep 0.2", concurrency="3")
    harness.sqs.script("receive_message", {"Messages": [entry(0), entry(1)]}, {"Messages": [entry(2)]},
                       {"Messages": [entry(3), entry(4), entry(5)]})
    with harness:
        harness.until(lambda: harness.watcher.stats.get("success") == 6)
    assert harness.running_at_receive[0] == (3, 3)  # no job has finished yet: only the free slots
    limit = 3 + harness.watcher.scheduler.prefetch_limit
    assert harness.watcher.scheduler.prefetch_limit == 3
    assert all(in_use <= limit and 1 <= asked <= in_use for in_use, asked in harness.running_at_receive)


def group_entry(index: int, group: str, receives: int = 1) -> dict:
    message = entry(index, receives)
    message["Attributes"]["MessageGroupId"] = group
    message["Body"] = f"{group} {index}"
    return message


def test_fifo_groups_run_in_parallel_in_order_and_a_returned_message_takes_its_group_back(tmp_path):
    record = tmp_path / "record"
    # group a: a0 succeeds, a1 fails (exit 4): a2 and a3, held behind it, must go back at once
    command = (f'echo "start $Message" >> {record}; sleep 0.2; echo "end $Message" >> {record}; '
               'case "$Message" in "a 1") exit 4;; esac')
    harness = Harness(tmp_path, command, concurrency="4", Fifo="true")
    first = [group_entry(0, "a"), group_entry(1, "a"), group_entry(4, "b"), group_entry(2, "a")]
    harness.sqs.script("receive_message", {"Messages": first}, {"Messages": [group_entry(3, "a"), group_entry(5, "b")]})
    with harness:
        harness.until(lambda: harness.watcher.stats.get("success") == 3 and harness.watcher.stats.get("noop") == 1
                      and harness.watcher.stats.get("returned") == 3)
    lines = record.read_text().splitlines()
    assert [line for line in lines if " a " in line] == ["start a 0", "end a 0", "start a 1", "end a 1"]
    assert [line for line in lines if " b " in line] == ["start b 4", "end b 4", "start b 5", "end b 5"]
    assert lines.index("start b 4") < lines.index("end a 0")  # the groups ran side by side
    returns = {e["ReceiptHandle"]: e["VisibilityTimeout"]
               for call in harness.sqs.of("change_message_visibility_batch") for e in call["Entries"]}
    assert returns == {"rh1": 2, "rh2": 0, "rh3": 0}  # the no-op with backoff, those behind it at once
    asked = [call["MaxNumberOfMessages"] for call in harness.sqs.of("receive_message")]
    assert asked[:2] == [4, 2]  # the free slots, then the slots not taken by a group's first message


class Unstartable(DirectChildren):
    def spawn(self, args, **kwargs):
        raise OSError(7, "Argument list too long")


def test_a_command_that_cannot_start_fails_its_message_not_the_watcher(tmp_path):
    harness = Harness(tmp_path, "true", children=Unstartable())
    harness.sqs.script("receive_message", {"Messages": [entry(0, receives=3)]}, {"Messages": [entry(1)]})
    with harness:
        harness.until(lambda: harness.watcher.stats.get("returned") == 2)
    lines = harness.logger.lines
    assert sum("[failure] could not start the command" in line for line in lines) == 2
    returns = [e for call in harness.sqs.of("change_message_visibility_batch") for e in call["Entries"]]
    assert {e["ReceiptHandle"]: e["VisibilityTimeout"] for e in returns} == {"rh0": 8, "rh1": 2}


def test_exit_codes_map_to_delete_or_return(tmp_path):
    harness = Harness(tmp_path, 'exit "$Message"', concurrency="4")
    harness.sqs.script("receive_message", {"Messages": [
        {**entry(0), "Body": "0"}, {**entry(3), "Body": "3"}, {**entry(4, receives=2), "Body": "4"},
        {**entry(9, receives=20), "Body": "9"}]})
    with harness:
        harness.until(lambda: harness.watcher.stats.get("deleted") == 2 and harness.watcher.stats.get("returned") == 2)
    deleted = {e["ReceiptHandle"] for c in harness.sqs.of("delete_message_batch") for e in c["Entries"]}
    returned = {e["ReceiptHandle"]: e["VisibilityTimeout"]
                for c in harness.sqs.of("change_message_visibility_batch") for e in c["Entries"]}
    assert deleted == {"rh0", "rh3"}
    assert returned["rh4"] == 4
    assert 43_100 < returned["rh9"] <= 43_200  # 2 ** 20 capped by SQS's 12 hours


def test_a_stop_with_nothing_running_returns_promptly(tmp_path):
    harness = Harness(tmp_path, "true")
    harness.thread.start()
    harness.until(lambda: any("listening on" in line for line in harness.logger.lines))
    harness.watcher.request_stop()
    harness.thread.join(2)  # promptly: no job to wait for, and the receive on the wire is not waited out
    assert not harness.thread.is_alive() and harness.code == [0]
    assert any("stopped:" in line for line in harness.logger.lines)
