"""A Stripe that fails, then recovers: an HTTP proxy on loopback in front of localstripe.

It answers the next N requests (optionally only those whose path contains some text) with an
error of our choosing (503, 429, 400, …) and forwards the others, and it counts what reached
localstripe, so a test can say "exactly one capture" from what Stripe saw, not from our own
records. Point STRIPE_API_BASE at `url`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class _Rule:
    remaining: int
    status: int
    path_contains: str


@dataclass
class FlakyStripe:
    upstream: str
    url: str = ""
    forwarded: list[tuple[str, str]] = field(default_factory=list)  # (method, path) passed on
    failed: list[tuple[str, str]] = field(default_factory=list)
    _rules: list[_Rule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, count: int, *, status: int = 503, path_contains: str = "") -> None:
        """The next `count` requests whose path contains `path_contains` get `status`."""
        with self._lock:
            self._rules.append(_Rule(count, status, path_contains))

    def count(self, method: str, path_contains: str) -> int:
        """Requests that reached the real fake Stripe."""
        with self._lock:
            return sum(1 for m, p in self.forwarded if m == method and path_contains in p)

    def _failure_for(self, method: str, path: str) -> int | None:
        with self._lock:
            for rule in self._rules:
                if rule.remaining > 0 and rule.path_contains in path:
                    rule.remaining -= 1
                    self.failed.append((method, path))
                    return rule.status
            self.forwarded.append((method, path))
            return None


def _handler(proxy: FlakyStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status = proxy._failure_for(self.command, self.path)
            if status is not None:
                kind = "rate_limit_error" if status == 429 else "api_error"
                if 400 <= status < 429:
                    kind = "invalid_request_error"
                payload = json.dumps(
                    {"error": {"type": kind, "message": f"simulated {status}"}}
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            answer = httpx.request(
                self.command, proxy.upstream + self.path, headers=headers, content=body, timeout=30
            )
            self.send_response(answer.status_code)
            for key, value in answer.headers.items():
                if key.lower() not in _HOP and key.lower() != "content-encoding":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_GET = do_POST = do_DELETE = _any

    return Handler


@contextmanager
def flaky(upstream: str) -> Iterator[FlakyStripe]:
    proxy = FlakyStripe(upstream=upstream.rstrip("/"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy))
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
