"""A real HTTP receiver for webhook tests: http.server in a thread on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> dict:
        return json.loads(self.body)


def verify(secret: str, headers: dict[str, str], body: bytes, *, tolerance_s: float = 300) -> bool:
    """The receiver's check, as docs/api.md shows it."""
    timestamp = headers["X-Webhook-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(timestamp)) <= tolerance_s
    return fresh and hmac.compare_digest(expected, headers["X-Signature-256"])


@dataclass
class Receiver:
    """Records every POST; ``answer(n)`` gives the n-th request's (status, headers) (from 0)."""

    answer: Callable[[int], tuple[int, dict[str, str]]] = lambda n: (200, {})
    received: list[Received] = field(default_factory=list)
    requests_seen: int = 0

    def __post_init__(self) -> None:
        receiver = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    n = receiver.requests_seen
                    receiver.requests_seen += 1
                code, extra = receiver.answer(n)
                if 200 <= code < 300:
                    with lock:
                        receiver.received.append(Received(dict(self.headers), body, time.time()))
                self.send_response(code)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
