"""The eMSP side of the simulator's charging tests: `ChargingEmsp` (the recording eMSP of
`emsp.py` plus a Sessions Receiver and command result URLs, recording every call with its
Authorization header), commands POSTed as an eMSP does, the results they bring, and the
fixtures that start simulators registered with that eMSP in each version."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx
import pytest

from cpo_simulator import CpoSimulator
from cpo_simulator.transport import authorization, load_json
from tests.helpers import wait_until
from tests.simulator.emsp import RecordingEmsp, envelope

StartCpo = Callable[..., CpoSimulator]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    header: str | None  # Authorization, as sent
    body: Any  # Decimal numbers, like the simulator writes them


class ChargingEmsp(RecordingEmsp):
    """Publishes Sessions and Locations Receivers; records every push and every POST to
    `/{version}/results/...` (the response URLs it hands out) and answers 1000."""

    def __init__(self, version: str = "2.2.1") -> None:
        self.calls: list[Call] = []
        super().__init__(version)

    def answer(
        self, method: str, path: str, header: str | None, body: bytes
    ) -> tuple[int, dict[str, Any]]:
        if self._token(header) is None:
            return 401, envelope(None, 2000)
        version, base = self.version, f"{self.base_url}/{self.version}"
        if path == f"/{version}":
            endpoints = [
                {"identifier": "credentials", "role": "SENDER", "url": f"{base}/credentials"},
                {"identifier": "locations", "role": "RECEIVER", "url": f"{base}/locations"},
                {"identifier": "tariffs", "role": "RECEIVER", "url": f"{base}/tariffs"},
                {"identifier": "sessions", "role": "RECEIVER", "url": f"{base}/sessions"},
                {"identifier": "commands", "role": "SENDER", "url": f"{base}/commands"},
            ]
            if version != "2.2.1":
                endpoints = [{k: v for k, v in e.items() if k != "role"} for e in endpoints]
            return 200, envelope({"version": version, "endpoints": endpoints})
        prefixes = tuple(f"/{version}/{part}/" for part in ("sessions", "results", "locations"))
        if path.startswith(prefixes):
            with self.lock:
                self.calls.append(Call(method, path, header, load_json(body) if body else None))
            return 200, envelope()
        return super().answer(method, path, header, body)

    def calls_to(self, part: str, method: str | None = None) -> list[Call]:
        """Calls below `/{version}/{part}/`, oldest first."""
        prefix = f"/{self.version}/{part}/"
        with self.lock:
            return [
                c
                for c in self.calls
                if c.path.startswith(prefix) and (method is None or c.method == method)
            ]

    def response_url(self, name: str) -> str:
        return f"{self.base_url}/{self.version}/results/{name}"


def modern(version: str) -> bool:
    return version == "2.2.1"


def token_for(version: str, uid: str | None = None, **changes: Any) -> dict[str, Any]:
    """A Token of the recording eMSP (DE/REC) in `version`'s shape."""
    uid = uid or str(uuid4())
    if modern(version):
        token = {
            "country_code": "DE",
            "party_id": "REC",
            "uid": uid,
            "type": "AD_HOC_USER",
            "contract_id": "DE-REC-C00000001-X",
            "issuer": "Recording eMSP",
            "valid": True,
            "whitelist": "NEVER",
            "last_updated": "2026-02-01T10:00:00Z",
        }
    else:
        token = {
            "uid": uid,
            "type": "OTHER",
            "auth_id": "DE-REC-C00000001-X",
            "issuer": "Recording eMSP",
            "valid": True,
            "whitelist": "NEVER",
            "last_updated": "2026-02-01T10:00:00Z",
        }
    return token | changes


def start_body(
    emsp: ChargingEmsp, name: str = "start", evse: str | None = "LOC00001-1", **changes: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "response_url": emsp.response_url(name),
        "token": token_for(emsp.version),
        "location_id": "LOC00001",
    }
    if evse is not None:
        body["evse_uid"] = evse
    if modern(emsp.version):
        body["authorization_reference"] = "auth-ref-0001"
    return body | changes


def command(sim: CpoSimulator, emsp: ChargingEmsp, name: str, body: Any, **kw: Any) -> Any:
    """POST a command as the eMSP does; the parsed envelope (the response when `raw`)."""
    raw = kw.pop("raw", False)
    assert emsp.cpo_token is not None
    headers = {"Authorization": authorization(emsp.cpo_token, base64_form=modern(emsp.version))}
    url = f"{sim.base_url}/ocpi/{emsp.version}/commands/{name}"
    response = httpx.post(url, json=body, headers=headers, **kw)
    return response if raw else response.json()


def results_to(emsp: ChargingEmsp, name: str) -> list[Call]:
    """What was POSTed to the response URL `name` so far."""
    return [c for c in emsp.calls_to("results") if c.path == f"/{emsp.version}/results/{name}"]


def results(emsp: ChargingEmsp, name: str, count: int = 1) -> list[Call]:
    """The first `count` results POSTed to the response URL `name`, waiting for them."""
    return wait_until(
        lambda: results_to(emsp, name)[:count] if len(results_to(emsp, name)) >= count else None
    )


@pytest.fixture(params=["2.2.1", "2.1.1"])
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def emsp(version: str) -> Iterator[ChargingEmsp]:
    receiver = ChargingEmsp(version)
    yield receiver
    receiver.close()


@pytest.fixture
def cpo(version: str, emsp: ChargingEmsp) -> Iterator[StartCpo]:
    """Simulators registered with `emsp`, pushing a PATCH every 0.1 s; all stopped after."""
    started: list[CpoSimulator] = []

    def start(**options: Any) -> CpoSimulator:
        options = {"location_count": 3, "update_interval": 0.1} | options
        sim = CpoSimulator(versions=(version,), **options).start()
        started.append(sim)
        emsp.connect(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()
