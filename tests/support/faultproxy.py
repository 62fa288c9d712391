"""An HTTP proxy on loopback in front of the moto server that injects faults into chosen SQS calls.

The watcher is pointed at the proxy (``AWS_ENDPOINT_URL``) and the test keeps
talking to moto directly, so what the test sees of the queue is the truth and
what the watcher sees is whatever the rules make of it. A rule names one
operation (the SQS action, ``DeleteMessageBatch`` say, which the JSON protocol
carries in the ``X-Amz-Target`` header) and what happens to the calls it picks:

- ``stall``: no answer at all until the client gives up (a hung endpoint);
- ``hold``: no answer while the rule's gate is closed; once it opens the call is
  forwarded and answered, if the client still waits;
- ``delay``: forwarded ``delay`` seconds late (so it also takes effect that late), then answered;
- ``error``: answered with an HTTP 500 ``InternalError``, never forwarded;
- ``throttle``: answered with an HTTP 400 ``ThrottlingException``, never forwarded;
- ``empty``: answered 200 with an empty body, never forwarded (the call did nothing);
- ``empty_after``: forwarded (the call took effect) and answered 200 with an empty body.

A rule picks calls by position: the calls numbered ``first`` up to
``first + times - 1`` (counting from 0, ``times`` None for all after that), and
among those every ``every``-th. The proxy records every call it sees, when, and
how it was answered, so tests assert on what reached the wire.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from dataclasses import dataclass, field

__all__ = ["Call", "FaultProxy", "Rule", "operation_of"]

_ERROR_BODIES = {
    "error": (500, "Internal Server Error", b'{"__type":"com.amazonaws.sqs#InternalError",'
                                            b'"message":"injected by the fault proxy"}', b"InternalError;Receiver"),
    "throttle": (400, "Bad Request", b'{"__type":"com.amazonaws.sqs#ThrottlingException",'
                                     b'"message":"Rate exceeded (injected)"}', b"ThrottlingException;Sender"),
}
_KINDS = frozenset({"stall", "hold", "delay", "error", "throttle", "empty", "empty_after"})


def _read_message(sock: socket.socket, pending: bytearray) -> bytes | None:
    """One HTTP message (request or response) with a Content-Length body; None at end of stream."""
    while b"\r\n\r\n" not in pending:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        pending.extend(chunk)
    head_end = pending.index(b"\r\n\r\n") + 4
    length = 0
    for line in bytes(pending[:head_end]).split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(pending) < head_end + length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        pending.extend(chunk)
    message = bytes(pending[:head_end + length])
    del pending[:head_end + length]
    return message


def operation_of(request: bytes) -> str:
    """The SQS action a request calls: the JSON protocol's target header, else a query ``Action=``."""
    head = request.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"x-amz-target:"):
            return line.split(b":", 1)[1].strip().rsplit(b".", 1)[-1].decode()
    body = request.split(b"\r\n\r\n", 1)[-1]
    for pair in body.split(b"&"):
        if pair.startswith(b"Action="):
            return pair[len(b"Action="):].decode()
    return ""


def _response(status: int, reason: str, body: bytes, query_error: bytes = b"") -> bytes:
    head = [f"HTTP/1.1 {status} {reason}".encode(), b"Content-Type: application/x-amz-json-1.0",
            f"Content-Length: {len(body)}".encode(), b"x-amzn-RequestId: fault-proxy"]
    if query_error:
        head.append(b"x-amzn-query-error: " + query_error)
    return b"\r\n".join(head) + b"\r\n\r\n" + body


@dataclass
class Rule:
    """Which calls of ``operation`` get the fault ``kind`` (see the module docstring)."""

    operation: str
    kind: str
    times: int | None = None
    first: int = 0
    every: int = 1
    delay: float = 0.0
    gate: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"kind {self.kind!r} is not one of {sorted(_KINDS)}")

    def picks(self, index: int) -> bool:
        if index < self.first or (self.times is not None and index >= self.first + self.times):
            return False
        return (index - self.first) % self.every == 0

    def open(self) -> None:
        """Let held calls through (``hold``)."""
        self.gate.set()


@dataclass
class Call:
    """One request the proxy saw."""

    operation: str
    index: int  # its position among calls of its operation
    fault: str  # the rule's kind, or "" when forwarded untouched
    began: float
    ended: float | None = None  # when it was answered or abandoned
    answered: bool = False
    concurrent: dict[str, int] = field(default_factory=dict)  # calls in flight, by operation, when it came


class FaultProxy:
    """Forwards to moto on ``target_port``, applying ``rules`` (first matching rule wins)."""

    def __init__(self, target_port: int, rules: list[Rule] | None = None) -> None:
        self.target_port = target_port
        self.rules = list(rules or [])
        self.calls: list[Call] = []
        self._counts: dict[str, int] = {}
        self._in_flight: dict[str, int] = {}
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, rule: Rule) -> Rule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def of(self, operation: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.operation == operation]

    def in_flight(self, operation: str) -> int:
        with self._lock:
            return self._in_flight.get(operation, 0)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _admit(self, operation: str) -> tuple[Call, Rule | None]:
        with self._lock:
            index = self._counts.get(operation, 0)
            self._counts[operation] = index + 1
            rule = next((r for r in self.rules if r.operation == operation and r.picks(index)), None)
            call = Call(operation, index, rule.kind if rule else "", time.monotonic(),
                        concurrent={name: count for name, count in self._in_flight.items() if count})
            self._in_flight[operation] = self._in_flight.get(operation, 0) + 1
            self.calls.append(call)
        return call, rule

    def _finish(self, call: Call, answered: bool) -> None:
        with self._lock:
            call.ended = time.monotonic()
            call.answered = answered
            self._in_flight[call.operation] -= 1

    def _serve(self, client: socket.socket) -> None:
        pending = bytearray()
        with client:
            while True:
                try:
                    request = _read_message(client, pending)
                except OSError:
                    return
                if request is None:
                    return
                call, rule = self._admit(operation_of(request))
                answered = False
                try:
                    answer = self._answer(client, request, rule)
                    if answer is None:
                        return
                    client.sendall(answer)
                    answered = True
                except OSError:
                    return
                finally:
                    self._finish(call, answered)

    def _answer(self, client: socket.socket, request: bytes, rule: Rule | None) -> bytes | None:
        """The bytes to answer with, or None when the client went away first."""
        kind = rule.kind if rule else ""
        if kind == "stall":
            while client.recv(65536):  # no answer, until the client gives up
                pass
            return None
        if kind == "hold" and rule is not None:
            while not rule.gate.wait(0.05):
                if _closed(client):
                    return None
        if kind == "delay" and rule is not None:
            deadline = time.monotonic() + rule.delay
            while time.monotonic() < deadline:
                if _closed(client, min(0.05, max(deadline - time.monotonic(), 0.0))):
                    return None
        if kind in _ERROR_BODIES:
            status, reason, body, query_error = _ERROR_BODIES[kind]
            return _response(status, reason, body, query_error)
        if kind == "empty":
            return _response(200, "OK", b"")
        response = self._forward(request)
        if response is None:
            return None
        if kind == "empty_after":
            return _response(200, "OK", b"")
        return response

    def _forward(self, request: bytes) -> bytes | None:
        with socket.create_connection(("127.0.0.1", self.target_port)) as upstream:
            upstream.sendall(request)
            return _read_message(upstream, bytearray())

    def close(self) -> None:
        for rule in self.rules:
            rule.open()
        self._listener.close()


def _closed(sock: socket.socket, wait: float = 0.0) -> bool:
    """Whether the peer closed its end (a client that gave up on the call)."""
    readable, _, _ = select.select([sock], [], [], wait)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True
