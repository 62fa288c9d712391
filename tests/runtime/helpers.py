"""Small fakes shared by the runtime unit tests."""

from __future__ import annotations

import io
import json
import threading
import time

from watchbot_cfn.runtime.logger import Logger


class CapturingLogger(Logger):
    """A real Logger writing into memory, so tests read the exact lines."""

    def __init__(self, structured: bool = False) -> None:
        self.buffer = io.BytesIO()
        super().__init__(structured=structured, stream=self.buffer)

    @property
    def lines(self) -> list[str]:
        return self.buffer.getvalue().decode().splitlines()

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.lines]


class FakeSqs:
    """A botocore-shaped SQS client: records calls, answers from scripted replies."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.replies: dict[str, list] = {}
        self.lock = threading.Lock()
        self.receive_delay = 0.0  # an empty receive takes this long, like a (short) long poll

    def script(self, operation: str, *replies) -> None:
        self.replies.setdefault(operation, []).extend(replies)

    def _answer(self, operation: str, kwargs: dict):
        with self.lock:
            self.calls.append((operation, kwargs))
            queue = self.replies.get(operation) or []
            reply = queue.pop(0) if queue else None
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            return reply(kwargs)
        if reply is None:
            if operation == "receive_message" and self.receive_delay:
                import time

                time.sleep(self.receive_delay)
            ids = [entry["Id"] for entry in kwargs.get("Entries", [])]
            return {"Successful": [{"Id": i} for i in ids]} if ids else {"Messages": []}
        return reply

    def receive_message(self, **kwargs):
        return self._answer("receive_message", kwargs)

    def delete_message_batch(self, **kwargs):
        return self._answer("delete_message_batch", kwargs)

    def change_message_visibility_batch(self, **kwargs):
        return self._answer("change_message_visibility_batch", kwargs)

    def of(self, operation: str) -> list[dict]:
        with self.lock:
            return [kwargs for name, kwargs in self.calls if name == operation]


class ManualClock:
    """A monotonic clock the test moves by hand; counts its reads, so a test knows a thread has looked at it."""

    def __init__(self) -> None:
        self.now = time.monotonic()
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
