"""The eMSP side of the hub and multi-party CPMS tests: `RoutingEmsp`, a strict 2.2.1 eMSP (DE/REC)
that the front registers with (flow 2) and that records every call it receives with all its
headers, so a test can read the routing headers of each push; and the front's parties.

It publishes Receivers for Locations, Sessions, CDRs and HubClientInfo, a Commands Sender (the
result URLs) and Credentials, and answers every push 1000."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from cpo_simulator import CpoSimulator, HubSimulator
from cpo_simulator.transport import authorization, load_json
from tests.simulator.emsp import envelope

EMSP = ("DE", "REC")
HUB = ("DE", "HUB", "Simulated Hub")
PARTY_A = ("NL", "AAA")
PARTY_B = ("NL", "BBB")


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any


class RoutingEmsp:
    token_a = "routing-emsp-token-a"
    token_c = "routing-emsp-token-c"

    def __init__(self, *, hubclientinfo: bool = True) -> None:
        self.hubclientinfo = hubclientinfo
        self.lock = threading.Lock()
        self.valid = {self.token_a}
        self.cpo_token: str | None = None
        self.calls: list[Call] = []
        emsp = self

        class Handler(BaseHTTPRequestHandler):
            def serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, data = emsp.answer(self.command, self.path, headers, body)
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.versions_url = f"{self.base_url}/versions"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        value = headers.get("authorization", "").removeprefix("Token ")
        try:
            token = base64.b64decode(value, validate=True).decode()
        except ValueError:
            return 401, envelope(None, 2000)
        with self.lock:
            if token not in self.valid:
                return 401, envelope(None, 2000)
        base = f"{self.base_url}/2.2.1"
        if path == "/versions":
            return 200, envelope([{"version": "2.2.1", "url": base}])
        if path == "/2.2.1":
            modules = [
                ("credentials", "SENDER"),
                ("locations", "RECEIVER"),
                ("sessions", "RECEIVER"),
                ("cdrs", "RECEIVER"),
                ("commands", "SENDER"),
            ] + ([("hubclientinfo", "RECEIVER")] if self.hubclientinfo else [])
            endpoints = [
                {"identifier": module, "role": role, "url": f"{base}/{module}"}
                for module, role in modules
            ]
            return 200, envelope({"version": "2.2.1", "endpoints": endpoints})
        if path == "/2.2.1/credentials" and method == "POST":
            with self.lock:
                self.valid = {self.token_c}
                self.cpo_token = json.loads(body)["token"]
            role = {
                "role": "EMSP",
                "business_details": {"name": "Routing eMSP"},
                "country_code": EMSP[0],
                "party_id": EMSP[1],
            }
            return 200, envelope({"token": self.token_c, "url": self.versions_url, "roles": [role]})
        with self.lock:
            self.calls.append(Call(method, path, headers, load_json(body) if body else None))
        return (200, envelope()) if path.startswith("/2.2.1/") else (404, envelope(None, 2000))

    def register_with(self, front: HubSimulator) -> httpx.Response:
        """Flow 1: the eMSP registers with the front, offering token B."""
        token_b = "routing-emsp-token-b"
        with self.lock:
            self.valid = {token_b}
        body = {
            "token": token_b,
            "url": self.versions_url,
            "roles": [
                {
                    "role": "EMSP",
                    "business_details": {"name": "Routing eMSP"},
                    "country_code": EMSP[0],
                    "party_id": EMSP[1],
                }
            ],
        }
        response = httpx.post(
            f"{front.version_url('2.2.1')}/credentials",
            json=body,
            headers={"Authorization": authorization(front.token_a, base64_form=True)},
        )
        self.cpo_token = response.json()["data"]["token"]
        return response

    def calls_to(self, part: str, method: str | None = None) -> list[Call]:
        prefix = f"/2.2.1/{part}"
        with self.lock:
            return [
                c
                for c in self.calls
                if c.path.startswith(prefix) and (method is None or c.method == method)
            ]

    def headers(self, to: tuple[str, str] | None, **overrides: str) -> dict[str, str]:
        """What a strict eMSP sends the front: its token, from itself to `to` (None: no to)."""
        assert self.cpo_token is not None
        headers = {
            "Authorization": authorization(self.cpo_token, base64_form=True),
            "OCPI-from-country-code": EMSP[0],
            "OCPI-from-party-id": EMSP[1],
        }
        if to is not None:
            headers |= {"OCPI-to-country-code": to[0], "OCPI-to-party-id": to[1]}
        return headers | overrides

    def get(self, front: HubSimulator, path: str, to: tuple[str, str] | None) -> httpx.Response:
        return httpx.get(f"{front.version_url('2.2.1')}/{path}", headers=self.headers(to))


def party(country_party: tuple[str, str], **options: Any) -> CpoSimulator:
    """A CPO party to put behind a front: three locations, sessions pushing every 0.1 s."""
    options = {"location_count": 3, "update_interval": 0.1} | options
    return CpoSimulator(
        country_code=country_party[0],
        party_id=country_party[1],
        name=f"Party {country_party[1]}",
        **options,
    )


def routing_of(response: httpx.Response | Call) -> tuple[str, str, str, str]:
    """(from country, from party, to country, to party) of an answer or a call."""
    headers = response.headers
    return (
        headers.get("ocpi-from-country-code", ""),
        headers.get("ocpi-from-party-id", ""),
        headers.get("ocpi-to-country-code", ""),
        headers.get("ocpi-to-party-id", ""),
    )


@pytest.fixture
def emsp() -> Iterator[RoutingEmsp]:
    receiver = RoutingEmsp()
    yield receiver
    receiver.close()


@pytest.fixture
def front_of(emsp: RoutingEmsp) -> Iterator[Any]:
    """Starts fronts registered with `emsp`; all stopped after the test."""
    started: list[HubSimulator] = []

    def start(members: list[CpoSimulator], **options: Any) -> HubSimulator:
        front = HubSimulator(members, **options).start()
        started.append(front)
        answer = front.register_with(emsp.versions_url, emsp.token_a)
        assert answer.json()["status_code"] == 1000, answer.text
        return front

    yield start
    for front in started:
        front.stop()
