"""An HTTP proxy in front of the moto server that can leave chosen SQS calls unanswered (a hung endpoint).

Requests are read whole (headers and Content-Length body). One whose headers or
body name an operation in ``stall`` (``DeleteMessageBatch``, for example) gets
no answer until the client gives up and closes the connection, for the first
``times`` such requests; everything else is forwarded to moto and answered.
"""

from __future__ import annotations

import socket
import threading

__all__ = ["StallProxy"]


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


class StallProxy:
    def __init__(self, target_port: int, stall: str, times: int) -> None:
        self.target_port = target_port
        self.stall = stall.encode()
        self.times = times
        self.stalled = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        pending = bytearray()
        with client:
            while True:
                request = _read_message(client, pending)
                if request is None:
                    return
                with self._lock:
                    hang = self.stall in request and self.stalled < self.times
                    if hang:
                        self.stalled += 1
                if hang:
                    while client.recv(65536):  # no answer, until the client gives up
                        pass
                    return
                with socket.create_connection(("127.0.0.1", self.target_port)) as upstream:
                    upstream.sendall(request)
                    response = _read_message(upstream, bytearray())
                if response is None:
                    return
                client.sendall(response)

    def close(self) -> None:
        self._listener.close()
