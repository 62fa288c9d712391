"""A small stand-in for the ECS agent's task protection endpoint, on loopback, recording every call.

It answers as the agent does (``aws/amazon-ecs-agent``, ``tmds/handlers/taskprotection``):
200 with ``{"protection": {...}}``, or, when told to fail, 500 with
``{"error": {...}}``; told to hang, it takes the request and never answers
(until closed). GET returns the current state, so a job can ask it too.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: Where the agent lives under its address (ECS: ``/api/<container id>``), then the endpoint.
PREFIX = "/api/container-id"
PATH = PREFIX + "/task-protection/v1/state"


@dataclass(frozen=True)
class Call:
    at: float  # time.time() when it arrived
    body: dict[str, Any]

    @property
    def enabled(self) -> bool:
        return bool(self.body.get("ProtectionEnabled"))

    @property
    def minutes(self) -> int | None:
        return self.body.get("ExpiresInMinutes")


class FakeAgent:
    """``mode``: "ok", "error" (500) or "hang"; may be changed while it runs."""

    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode
        self.calls: list[Call] = []
        self.enabled = False
        self._lock = threading.Lock()
        self._closing = threading.Event()
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path != PATH:
                    return self._answer(404, {"error": {"Code": "NotFound", "Message": self.path}})
                self._answer(200, {"protection": {"ProtectionEnabled": agent.enabled, "TaskArn": "arn:task"}})

            def do_PUT(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                with agent._lock:
                    agent.calls.append(Call(time.time(), body))
                    mode = agent.mode
                if self.path != PATH:
                    return self._answer(404, {"error": {"Code": "NotFound", "Message": self.path}})
                if mode == "hang":
                    agent._closing.wait(60)
                    return
                if mode == "error":
                    return self._answer(500, {"error": {"Arn": "arn:task", "Code": "ServerException",
                                                        "Message": "the agent is having a bad day"}})
                with agent._lock:
                    agent.enabled = bool(body.get("ProtectionEnabled"))
                self._answer(200, {"protection": {"ProtectionEnabled": agent.enabled, "TaskArn": "arn:task",
                                                  "ExpirationDate": "2030-01-01T00:00:00Z"}})

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def uri(self) -> str:
        """What ECS puts in ``ECS_AGENT_URI`` (the endpoint path is added by the caller)."""
        return f"http://127.0.0.1:{self.server.server_address[1]}{PREFIX}"

    def snapshot(self) -> list[Call]:
        with self._lock:
            return list(self.calls)

    def close(self) -> None:
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeAgent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
