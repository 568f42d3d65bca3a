"""Credentials flows both ways, against a fake eMSP small enough to trust by reading it."""

import base64
import json
from collections.abc import Iterator
from threading import Thread
from typing import Any

import httpx
import pytest

from cpo_simulator import CpoSimulator, SimulatorError
from tests.simulator.emsp import json_server


def auth(token: str, *, base64_form: bool) -> dict[str, str]:
    value = base64.b64encode(token.encode()).decode() if base64_form else token
    return {"Authorization": f"Token {value}"}


def envelope(data: Any = None, status_code: int = 1000) -> dict[str, Any]:
    return {"data": data, "status_code": status_code, "timestamp": "2026-01-01T00:00:00Z"}


class FakeEmsp:
    """Versions, details and credentials of an eMSP offering one version.

    It accepts its tokens raw or base64, and during a credentials POST or PUT it calls the CPO's
    versions back with the token it was just given, as a real eMSP does."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.token_a = "emsp-token-a"
        self.valid = {self.token_a}  # tokens the CPO may call the fake with
        self.cpo_token: str | None = None  # the token the fake calls the CPO with
        self.callbacks: list[int] = []  # statuses of the fake's calls back to the CPO
        self.issued = 0
        self.deleted = False
        self.server = json_server(self.answer)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.versions_url = f"{self.base_url}/versions"
        Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def modern(self) -> bool:
        return self.version == "2.2.1"

    def credentials(self, token: str) -> dict[str, Any]:
        party = {"business_details": {"name": "Fake eMSP"}, "party_id": "EMS", "country_code": "DE"}
        if self.modern:
            return {"token": token, "url": self.versions_url, "roles": [{"role": "EMSP", **party}]}
        return {"token": token, "url": self.versions_url, **party}

    def answer(
        self, method: str, path: str, header: str | None, body: bytes
    ) -> tuple[int, dict[str, Any]]:
        value = (header or "").removeprefix("Token ")
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except ValueError:
            decoded = value
        if not {value, decoded} & self.valid:
            return 401, envelope(None, 2000)
        base = f"{self.base_url}/{self.version}"
        if path == "/versions":
            return 200, envelope([{"version": self.version, "url": base}])
        if path == f"/{self.version}":
            endpoints = [
                {"identifier": "credentials", "role": "SENDER", "url": f"{base}/credentials"},
                {"identifier": "locations", "role": "SENDER", "url": f"{base}/sender/locations"},
                {"identifier": "locations", "role": "RECEIVER", "url": f"{base}/locations"},
            ]
            if not self.modern:
                endpoints = [
                    {"identifier": e["identifier"], "url": e["url"]} for e in endpoints[::2]
                ]
            return 200, envelope({"version": self.version, "endpoints": endpoints})
        if path == f"/{self.version}/credentials" and method in ("POST", "PUT"):
            cpo = json.loads(body)
            check = httpx.get(cpo["url"], headers=auth(cpo["token"], base64_form=self.modern))
            self.callbacks.append(check.status_code)
            if check.status_code != 200:
                return 200, envelope(None, 3001)
            self.cpo_token = cpo["token"]
            self.issued += 1
            self.valid = {f"emsp-token-c-{self.issued}"}
            return 200, envelope(self.credentials(f"emsp-token-c-{self.issued}"))
        if path == f"/{self.version}/credentials" and method == "DELETE":
            self.deleted, self.valid = True, set()
            return 200, envelope()
        return 404, envelope(None, 2000)

    def register_with_cpo(self, sim: CpoSimulator) -> httpx.Response:
        """Flow 1: the fake registers with the CPO using the simulator's token A."""
        self.valid.add("emsp-token-b")  # stored before the POST: the CPO calls back with it
        return httpx.post(
            f"{sim.base_url}/ocpi/{self.version}/credentials",
            json=self.credentials("emsp-token-b"),
            headers=auth(sim.token_a, base64_form=self.modern),
        )


@pytest.fixture(params=["2.2.1", "2.1.1"])
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fake(version: str) -> Iterator[FakeEmsp]:
    emsp = FakeEmsp(version)
    yield emsp
    emsp.server.shutdown()
    emsp.server.server_close()


@pytest.fixture
def sim() -> Iterator[CpoSimulator]:
    with CpoSimulator(versions=("2.1.1", "2.2.1"), location_count=2) as simulator:
        yield simulator


def locations_status(sim: CpoSimulator, version: str, token: str | None) -> int:
    assert token is not None
    url = f"{sim.base_url}/ocpi/{version}/locations"
    return httpx.get(url, headers=auth(token, base64_form=version == "2.2.1")).status_code


def test_cpo_registers_with_the_emsp_rotates_and_leaves(
    sim: CpoSimulator, fake: FakeEmsp, version: str
) -> None:
    response = sim.register_with(fake.versions_url, fake.token_a)

    assert response.json()["status_code"] == 1000
    assert fake.callbacks == [200]  # token B worked while the POST was pending
    assert sim.registered and sim.emsp_version == version
    assert sim.emsp_token == "emsp-token-c-1"
    assert sim.emsp_endpoints["locations"] == f"{fake.base_url}/{version}/locations"
    assert sim.call_us("GET", "versions").status_code == 200
    token_b = fake.cpo_token
    assert token_b == sim.current_token
    assert locations_status(sim, version, token_b) == 200

    rotated = sim.rotate_with_us()

    assert rotated.json()["status_code"] == 1000
    assert fake.callbacks == [200, 200] and fake.cpo_token != token_b
    assert sim.emsp_token == "emsp-token-c-2"
    assert locations_status(sim, version, token_b) == 401
    assert locations_status(sim, version, fake.cpo_token) == 200

    left = sim.unregister_from_us()

    assert left.status_code == 200 and fake.deleted
    assert not sim.registered and sim.emsp_token is None
    assert locations_status(sim, version, fake.cpo_token) == 401


def test_emsp_registers_with_the_cpo(sim: CpoSimulator, fake: FakeEmsp, version: str) -> None:
    response = fake.register_with_cpo(sim)

    body = response.json()
    assert body["status_code"] == 1000, body
    token_c = body["data"]["token"]
    assert token_c != sim.token_a and len(token_c) >= 22
    assert body["data"]["url"] == sim.versions_url
    assert ("roles" in body["data"]) == (version == "2.2.1")
    assert sim.registered and sim.emsp_token == "emsp-token-b" and sim.emsp_version == version
    assert sim.requests[-1].status == 200
    modern = version == "2.2.1"
    assert (
        httpx.get(sim.versions_url, headers=auth(sim.token_a, base64_form=modern)).status_code
        == 401
    )
    assert locations_status(sim, version, token_c) == 200

    credentials_url = f"{sim.base_url}/ocpi/{version}/credentials"
    again = httpx.post(
        credentials_url, json=fake.credentials("x"), headers=auth(token_c, base64_form=modern)
    )
    assert again.status_code == 405 and again.json()["status_code"] == 2000
    read = httpx.get(credentials_url, headers=auth(token_c, base64_form=modern))
    assert read.json()["data"]["token"] == token_c

    fake.valid.add("emsp-token-b2")
    updated = httpx.put(
        credentials_url,
        json=fake.credentials("emsp-token-b2"),
        headers=auth(token_c, base64_form=modern),
    )
    new_c = updated.json()["data"]["token"]
    assert new_c != token_c and sim.emsp_token == "emsp-token-b2"
    assert locations_status(sim, version, token_c) == 401

    deleted = httpx.delete(credentials_url, headers=auth(new_c, base64_form=modern))
    assert deleted.status_code == 200 and not sim.registered
    assert locations_status(sim, version, new_c) == 401


def test_put_before_registration_is_405() -> None:
    with CpoSimulator() as sim:
        response = httpx.put(
            f"{sim.base_url}/ocpi/2.2.1/credentials",
            json={},
            headers=auth(sim.token_a, base64_form=True),
        )
    assert response.status_code == 405
    assert response.json()["status_code"] == 2000


def test_post_when_the_emsp_cannot_be_reached_is_3001() -> None:
    with CpoSimulator() as sim:
        body = {
            "token": "b",
            "url": "http://127.0.0.1:9/versions",
            "roles": [
                {
                    "role": "EMSP",
                    "business_details": {"name": "x"},
                    "party_id": "EMS",
                    "country_code": "DE",
                }
            ],
        }
        response = httpx.post(
            f"{sim.base_url}/ocpi/2.2.1/credentials",
            json=body,
            headers=auth(sim.token_a, base64_form=True),
        )
        assert response.status_code == 200
        assert response.json()["status_code"] == 3001
        assert not sim.registered
        assert (
            httpx.get(sim.versions_url, headers=auth(sim.token_a, base64_form=True)).status_code
            == 200
        )


def test_post_on_a_version_the_emsp_does_not_offer_is_3002(sim: CpoSimulator) -> None:
    emsp = FakeEmsp("2.1.1")
    try:
        emsp.valid.add("emsp-token-b")
        body = {
            **emsp.credentials("emsp-token-b"),
            "roles": [
                {
                    "role": "EMSP",
                    "business_details": {"name": "x"},
                    "party_id": "EMS",
                    "country_code": "DE",
                }
            ],
        }
        response = httpx.post(
            f"{sim.base_url}/ocpi/2.2.1/credentials",
            json=body,
            headers=auth(sim.token_a, base64_form=True),
        )
    finally:
        emsp.server.shutdown()
        emsp.server.server_close()
    assert response.json()["status_code"] == 3002
    assert not sim.registered


@pytest.mark.parametrize(
    ("content", "http_status"),
    [
        (b"{not json", 400),
        (b'{"token": "b", "url": "http://127.0.0.1:9/versions"}', 200),
        (b"[]", 200),
    ],
)
def test_malformed_or_incomplete_credentials_are_2001(content: bytes, http_status: int) -> None:
    with CpoSimulator() as sim:
        response = httpx.post(
            f"{sim.base_url}/ocpi/2.2.1/credentials",
            content=content,
            headers={**auth(sim.token_a, base64_form=True), "Content-Type": "application/json"},
        )
    assert response.status_code == http_status
    assert response.json()["status_code"] == 2001


def test_register_with_raises_when_no_version_is_common(fake: FakeEmsp) -> None:
    with (
        CpoSimulator(versions=("2.0",)) as sim,
        pytest.raises(SimulatorError, match="no common version"),
    ):
        sim.register_with(fake.versions_url, fake.token_a)


def test_register_with_raises_when_the_emsp_is_unreachable() -> None:
    with CpoSimulator() as sim, pytest.raises(SimulatorError, match="ConnectError"):
        sim.register_with("http://127.0.0.1:9/versions", "whatever")


def test_call_us_without_authorization_sends_no_header(sim: CpoSimulator, fake: FakeEmsp) -> None:
    sim.register_with(fake.versions_url, fake.token_a)
    assert sim.call_us("GET", "versions", authorize=False).status_code == 401
    assert sim.call_us("GET", "versions", token="wrong").status_code == 401
    assert sim.call_us("GET", "versions", encode=False).status_code == 200  # the fake takes both
    wrong = {"authorization": "Token wrong"}  # replaces the simulator's own, whatever the case
    assert sim.call_us("GET", "versions", headers=wrong).status_code == 401
