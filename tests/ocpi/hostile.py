"""A loopback HTTP server that answers as a hostile or broken partner would, for the tests of our
outbound guard: each test says how it answers; every request that reaches it is recorded."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Respond = Callable[["Handler", "Server"], None]


class Handler(BaseHTTPRequestHandler):
    server: _HttpServer

    def serve(self) -> None:
        owner = self.server.owner
        with owner.lock:
            owner.requests.append(self.path)
        # The client may give up on us: what the dribbling tests want.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            owner.respond(self, owner)

    do_GET = do_POST = do_PUT = do_DELETE = serve

    def answer(self, status: int, data: Any = None, headers: dict[str, str] | None = None) -> None:
        """An OCPI envelope with `data`, and any extra headers."""
        payload = json.dumps(
            {"data": data, "status_code": 1000, "timestamp": "2026-01-01T00:00:00Z"}
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: Server


class Server:
    def __init__(self, respond: Respond) -> None:
        self.respond = respond
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()  # a slow answer ends when the test does
        self._http = _HttpServer(("127.0.0.1", 0), Handler)
        self._http.owner = self
        self.port = self._http.server_address[1]
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/ocpi/versions", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def stop(self) -> None:
        self.stopping.set()
        self._http.shutdown()
        self._http.server_close()


@contextmanager
def serving(respond: Respond) -> Iterator[Server]:
    server = Server(respond)
    try:
        yield server
    finally:
        server.stop()


def ok(handler: Handler, server: Server) -> None:
    handler.answer(200, [])
