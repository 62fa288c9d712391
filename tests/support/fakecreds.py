"""A container-credentials endpoint on loopback whose answers a test switches between good and broken.

botocore fetches credentials from ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` (as on
ECS) and refreshes them before every call once they expire within ten minutes.
The good answer expires in nine, so every call of the watcher goes through a
refresh, and switching the mode makes its next calls fail the way real
refreshes do:

- ``good``: valid credentials, expiring in nine minutes;
- ``expired``: credentials that are already expired; botocore raises a plain
  ``RuntimeError`` ("the refreshed credentials are still expired");
- ``missing``: an answer without the credential fields; botocore raises ``KeyError``.
"""

from __future__ import annotations

import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["CredentialsEndpoint"]

_MODES = ("good", "expired", "missing")


class CredentialsEndpoint:
    """Serves ``/creds``; ``mode`` says what the next fetch gets; ``fetches`` counts them by mode."""

    def __init__(self, mode: str = "good") -> None:
        self.mode = mode
        self.fetches: dict[str, int] = {name: 0 for name in _MODES}
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                body = json.dumps(endpoint._answer()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/creds"

    def env(self) -> dict[str, str]:
        """Variables that make botocore take its credentials from here (and nowhere else)."""
        return {"AWS_CONTAINER_CREDENTIALS_FULL_URI": self.url}

    def set(self, mode: str) -> None:
        if mode not in _MODES:
            raise ValueError(f"mode {mode!r} is not one of {_MODES}")
        with self._lock:
            self.mode = mode

    def _answer(self) -> dict[str, str]:
        with self._lock:
            mode = self.mode
            self.fetches[mode] += 1
        if mode == "missing":
            return {"Code": "Success", "Type": "AWS-HMAC"}
        now = datetime.datetime.now(datetime.timezone.utc)
        expires = now + (datetime.timedelta(minutes=9) if mode == "good" else -datetime.timedelta(minutes=5))
        return {"AccessKeyId": "testing", "SecretAccessKey": "testing", "Token": "testing",
                "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
