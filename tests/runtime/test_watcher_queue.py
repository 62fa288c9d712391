"""SQS faults are waited out; batch replies are checked entry by entry."""

from __future__ import annotations

import threading

from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from tests.runtime.helpers import CapturingLogger, FakeSqs
from watchbot_cfn.runtime.queue import Backoff, BatchEntry, QueueClient, is_ownership_lost, is_retryable


def client_error(code: str, status: int, operation: str = "ReceiveMessage", message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


def make(sqs: FakeSqs) -> tuple[QueueClient, CapturingLogger]:
    logger = CapturingLogger()
    return QueueClient("http://q", sqs, logger, max_backoff=0.01), logger


def test_receive_waits_out_throttling_5xx_refused_connections_and_timeouts():
    sqs = FakeSqs()
    sqs.script("receive_message",
               client_error("ThrottlingException", 400), client_error("InternalError", 500),
               EndpointConnectionError(endpoint_url="http://q"), ReadTimeoutError(endpoint_url="http://q"),
               client_error("AWS.SimpleQueueService.NonExistentQueue", 400),
               {"Messages": [{"MessageId": "a"}]})
    queue, logger = make(sqs)
    assert queue.receive(5, visibility_timeout=30) == [{"MessageId": "a"}]
    assert len(sqs.of("receive_message")) == 6
    assert sum("ReceiveMessage failed" in line for line in logger.lines) == 5
    request = sqs.of("receive_message")[0]
    assert request["MaxNumberOfMessages"] == 5 and request["WaitTimeSeconds"] == 20
    assert request["VisibilityTimeout"] == 30


def test_receive_never_asks_for_more_than_ten():
    sqs = FakeSqs()
    queue, _ = make(sqs)
    queue.receive(64, visibility_timeout=30)
    assert sqs.of("receive_message")[0]["MaxNumberOfMessages"] == 10


def test_receive_gives_up_only_when_interrupted():
    sqs = FakeSqs()
    interrupt = threading.Event()

    def fail(_):
        interrupt.set()
        raise EndpointConnectionError(endpoint_url="http://q")
    sqs.script("receive_message", fail)
    queue, _ = make(sqs)
    assert queue.receive(1, 30, interrupt=interrupt) == []


def test_every_entry_of_a_batch_reply_is_checked():
    sqs = FakeSqs()
    sqs.script("delete_message_batch", {
        "Successful": [{"Id": "0"}],
        "Failed": [
            {"Id": "1", "SenderFault": True, "Code": "ReceiptHandleIsInvalid", "Message": "bad handle"},
            {"Id": "2", "SenderFault": True, "Code": "InvalidParameterValue",
             "Message": "Value x for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."},
            {"Id": "3", "SenderFault": False, "Code": "InternalError", "Message": "try again"},
        ]})  # entry 4 is not mentioned at all
    queue, _ = make(sqs)
    entries = [BatchEntry(f"m{i}", f"rh{i}") for i in range(5)]
    outcomes = {o.key: o for o in queue.delete(entries)}
    assert outcomes["m0"].ok
    assert outcomes["m1"].lost and outcomes["m2"].lost
    assert outcomes["m3"].ok  # SQS's own fault: retried, then the default reply succeeds
    assert outcomes["m4"].ok  # no word on it: sent again, and the default reply succeeds
    retried = sqs.of("delete_message_batch")[1]["Entries"]
    assert [entry["ReceiptHandle"] for entry in retried] == ["rh3", "rh4"]


def test_an_empty_answer_is_no_answer_and_its_entries_are_sent_again():
    sqs = FakeSqs()
    sqs.script("delete_message_batch", {}, {})  # a 200 with an empty body, twice
    queue, logger = make(sqs)
    outcomes = queue.delete([BatchEntry("m0", "rh0"), BatchEntry("m1", "rh1")])
    assert [(o.key, o.ok) for o in outcomes] == [("m0", True), ("m1", True)]
    calls = sqs.of("delete_message_batch")
    assert len(calls) == 3 and calls[2]["Entries"] == calls[0]["Entries"]
    assert sum("answered without a result for 2 of its entries" in line for line in logger.lines) == 2


def test_empty_answers_until_the_deadline_fail_the_entries_as_unanswered():
    sqs = FakeSqs()
    sqs.script("change_message_visibility_batch", *[{}] * 200)
    queue, _ = make(sqs)
    [outcome] = queue.change_visibility([BatchEntry("m", "rh", 5)], give_up_after=0.05)
    assert not outcome.ok and not outcome.lost and outcome.reason == "no result for this entry"


def test_any_exception_from_a_call_keeps_the_batch_for_another_try():
    # botocore's credential refresh raises these, not its own errors.
    sqs = FakeSqs()
    sqs.script("delete_message_batch", RuntimeError("Credentials were refreshed, but the refreshed credentials "
                                                    "are still expired."), KeyError("AccessKeyId"))
    faults = []
    logger = CapturingLogger()
    queue = QueueClient("http://q", sqs, logger, max_backoff=0.01, on_fault=lambda: faults.append(1))
    [outcome] = queue.delete([BatchEntry("m", "rh")])
    assert outcome.ok and len(sqs.of("delete_message_batch")) == 3 and len(faults) == 2
    failures = [line for line in logger.lines if "DeleteMessageBatch failed" in line]
    assert "RuntimeError" in failures[0] and "KeyError" in failures[1]


def test_a_receive_waits_out_a_credential_refresh_error():
    sqs = FakeSqs()
    sqs.script("receive_message", KeyError("AccessKeyId"), {"Messages": [{"MessageId": "m"}]})
    queue, logger = make(sqs)
    assert queue.receive(1, 30) == [{"MessageId": "m"}]
    assert any("ReceiveMessage failed (KeyError" in line for line in logger.lines)


def test_a_whole_batch_call_fault_is_retried_then_succeeds():
    sqs = FakeSqs()
    sqs.script("change_message_visibility_batch", client_error("ServiceUnavailable", 503),
               EndpointConnectionError(endpoint_url="http://q"))
    queue, _ = make(sqs)
    outcomes = queue.change_visibility([BatchEntry("m", "rh", 8)])
    assert [o.ok for o in outcomes] == [True]
    last = sqs.of("change_message_visibility_batch")[-1]["Entries"][0]
    assert last == {"Id": "0", "ReceiptHandle": "rh", "VisibilityTimeout": 8}


def test_a_refused_batch_is_not_retried():
    sqs = FakeSqs()
    sqs.script("delete_message_batch", client_error("AccessDenied", 403, "DeleteMessageBatch", "no"))
    queue, _ = make(sqs)
    outcomes = queue.delete([BatchEntry("m", "rh")])
    assert not outcomes[0].ok and not outcomes[0].lost and "AccessDenied" in outcomes[0].reason
    assert len(sqs.of("delete_message_batch")) == 1


def test_faults_past_the_deadline_fail_the_entries():
    sqs = FakeSqs()
    sqs.script("delete_message_batch", *[EndpointConnectionError(endpoint_url="http://q")] * 50)
    queue, _ = make(sqs)
    outcomes = queue.delete([BatchEntry("m", "rh")], give_up_after=0.05)
    assert not outcomes[0].ok and "EndpointConnectionError" in outcomes[0].reason


def test_classification():
    assert is_retryable(client_error("Throttling", 400))
    assert is_retryable(client_error("Whatever", 502))
    assert not is_retryable(client_error("AccessDenied", 403))
    assert is_retryable(RuntimeError("refreshed credentials are still expired")) and is_retryable(KeyError("x"))
    assert is_ownership_lost("ReceiptHandleIsInvalid")
    assert is_ownership_lost("MessageNotInflight")
    assert not is_ownership_lost("InvalidParameterValue", "Value 50000 for parameter VisibilityTimeout is invalid")


def test_backoff_is_capped():
    backoff = Backoff(base=0.5, cap=20)
    delays = [backoff.next_delay() for _ in range(30)]
    assert max(delays) <= 20 and delays[0] <= 0.5 and max(delays[10:]) >= 10
