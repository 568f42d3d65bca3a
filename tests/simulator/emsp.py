"""An eMSP small enough to trust by reading it, for the simulator's push tests.

One OCPI version; versions, details and a credentials endpoint the simulator registers with
(flow 2, no call back); Locations and Tariffs Receivers that record every push and answer 1000.
Tokens are accepted raw or base64, as long as they are the one the eMSP issued."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cpo_simulator import CpoSimulator
from cpo_simulator.transport import load_json


@dataclass(frozen=True)
class Push:
    method: str
    path: str
    token: str
    body: Any  # parsed with Decimal numbers, like the simulator writes them


def envelope(data: Any = None, status_code: int = 1000) -> dict[str, Any]:
    return {"data": data, "status_code": status_code, "timestamp": "2026-01-01T00:00:00Z"}


Answer = Callable[[str, str, str | None, bytes], tuple[int, Any]]


def json_server(answer: Answer) -> ThreadingHTTPServer:
    """A loopback HTTP server whose every request (method, path, Authorization, body) is
    answered with `answer`'s status and JSON; the fake eMSPs differ only in that function."""

    class Handler(BaseHTTPRequestHandler):
        def serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, data = answer(self.command, self.path, self.headers.get("Authorization"), body)
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


class RecordingEmsp:
    token_a = "recording-emsp-token-a"
    token_c = "recording-emsp-token-c"

    def __init__(self, version: str = "2.2.1") -> None:
        self.version = version
        self.valid = {self.token_a}
        self.cpo_token: str | None = None  # what the CPO gave us to call it with
        self.lock = threading.Lock()
        self._pushes: list[Push] = []
        self.server = json_server(self.answer)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.versions_url = f"{self.base_url}/versions"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def connect(self, sim: CpoSimulator) -> None:
        """The simulator registers with this eMSP (flow 2)."""
        answer = sim.register_with(self.versions_url, self.token_a)
        assert answer.json()["status_code"] == 1000, answer.text
        assert sim.registered

    def pushes(self, method: str | None = None) -> list[Push]:
        with self.lock:
            return [p for p in self._pushes if method is None or p.method == method]

    def credentials(self, token: str) -> dict[str, Any]:
        party = {"business_details": {"name": "Recording eMSP"}, "party_id": "REC"}
        party["country_code"] = "DE"
        if self.version == "2.2.1":
            return {"token": token, "url": self.versions_url, "roles": [{"role": "EMSP", **party}]}
        return {"token": token, "url": self.versions_url, **party}

    def answer(
        self, method: str, path: str, header: str | None, body: bytes
    ) -> tuple[int, dict[str, Any]]:
        token = self._token(header)
        if token is None:
            return 401, envelope(None, 2000)
        base = f"{self.base_url}/{self.version}"
        if path == "/versions":
            return 200, envelope([{"version": self.version, "url": base}])
        if path == f"/{self.version}":
            endpoints = [
                {"identifier": "credentials", "role": "SENDER", "url": f"{base}/credentials"},
                {"identifier": "locations", "role": "RECEIVER", "url": f"{base}/locations"},
                {"identifier": "tariffs", "role": "RECEIVER", "url": f"{base}/tariffs"},
            ]
            if self.version != "2.2.1":
                endpoints = [{k: v for k, v in e.items() if k != "role"} for e in endpoints]
            return 200, envelope({"version": self.version, "endpoints": endpoints})
        if path == f"/{self.version}/credentials" and method == "POST":
            with self.lock:
                self.valid = {self.token_c}
                self.cpo_token = json.loads(body)["token"]
            return 200, envelope(self.credentials(self.token_c))
        if path.startswith((f"/{self.version}/locations/", f"/{self.version}/tariffs/")):
            with self.lock:
                self._pushes.append(Push(method, path, token, load_json(body) if body else None))
            return 200, envelope()
        return 404, envelope(None, 2000)

    def _token(self, header: str | None) -> str | None:
        value = (header or "").removeprefix("Token ")
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except ValueError:
            decoded = value
        with self.lock:
            found = {value, decoded} & self.valid
        return next(iter(found), None)
