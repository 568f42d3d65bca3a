"""The simulator's versions list and version details, in both versions' shapes (checklist §2)."""

import base64
from decimal import Decimal

import httpx
import pytest

from cpo_simulator import CpoSimulator


def auth(token: str, *, base64_form: bool) -> dict[str, str]:
    value = base64.b64encode(token.encode()).decode() if base64_form else token
    return {"Authorization": f"Token {value}"}


def test_versions_list_has_one_entry_per_offered_version() -> None:
    with CpoSimulator(versions=("2.1.1", "2.2.1")) as sim:
        response = httpx.get(sim.versions_url, headers=auth(sim.token_a, base64_form=True))
    assert response.status_code == 200
    body = response.json()
    assert body["status_code"] == 1000
    assert body["data"] == [
        {"version": "2.1.1", "url": f"{sim.base_url}/ocpi/2.1.1"},
        {"version": "2.2.1", "url": f"{sim.base_url}/ocpi/2.2.1"},
    ]
    assert len(body["timestamp"]) == 20 and body["timestamp"].endswith("Z")


def test_221_details_list_cpo_interfaces_with_roles() -> None:
    with CpoSimulator() as sim:
        response = httpx.get(
            f"{sim.base_url}/ocpi/2.2.1", headers=auth(sim.token_a, base64_form=True)
        )
    data = response.json()["data"]
    assert data["version"] == "2.2.1"
    roles = {endpoint["identifier"]: endpoint["role"] for endpoint in data["endpoints"]}
    assert roles == {
        "credentials": "SENDER",
        "locations": "SENDER",
        "tariffs": "SENDER",
        "sessions": "SENDER",
        "cdrs": "SENDER",
        "tokens": "RECEIVER",
        "commands": "RECEIVER",
    }
    for endpoint in data["endpoints"]:
        assert endpoint["url"] == f"{sim.base_url}/ocpi/2.2.1/{endpoint['identifier']}"


def test_211_details_have_no_roles() -> None:
    with CpoSimulator(versions=("2.1.1",)) as sim:
        response = httpx.get(
            f"{sim.base_url}/ocpi/2.1.1", headers=auth(sim.token_a, base64_form=False)
        )
    endpoints = response.json()["data"]["endpoints"]
    assert {endpoint["identifier"] for endpoint in endpoints} == {
        "credentials",
        "locations",
        "tariffs",
        "sessions",
        "cdrs",
        "tokens",
        "commands",
    }
    assert all(set(endpoint) == {"identifier", "url"} for endpoint in endpoints)


def test_omitted_modules_are_not_published_and_not_served() -> None:
    with CpoSimulator(omit_modules=("cdrs", "commands")) as sim:
        headers = auth(sim.token_a, base64_form=True)
        details = httpx.get(f"{sim.base_url}/ocpi/2.2.1", headers=headers).json()["data"]
        missing = httpx.get(f"{sim.base_url}/ocpi/2.2.1/cdrs", headers=headers)
    published = {endpoint["identifier"] for endpoint in details["endpoints"]}
    assert "cdrs" not in published and "commands" not in published
    assert "locations" in published
    assert missing.status_code == 404
    assert missing.json()["status_code"] == 2000


def test_a_version_it_does_not_offer_is_404_with_envelope() -> None:
    with CpoSimulator(versions=("2.0",)) as sim:
        versions = httpx.get(sim.versions_url, headers=auth(sim.token_a, base64_form=False))
        other = httpx.get(f"{sim.base_url}/ocpi/2.2.1", headers=auth(sim.token_a, base64_form=True))
    assert [entry["version"] for entry in versions.json()["data"]] == ["2.0"]
    assert other.status_code == 404
    assert other.json()["status_code"] == 2000


def test_request_and_correlation_ids_are_echoed_or_generated() -> None:
    with CpoSimulator() as sim:
        headers = auth(sim.token_a, base64_form=True)
        echoed = httpx.get(
            sim.versions_url, headers={**headers, "X-Request-ID": "r1", "X-Correlation-ID": "c1"}
        )
        generated = httpx.get(sim.versions_url, headers=headers)
    assert (echoed.headers["X-Request-ID"], echoed.headers["X-Correlation-ID"]) == ("r1", "c1")
    assert generated.headers["X-Request-ID"] and generated.headers["X-Correlation-ID"]


def test_requests_are_recorded_with_their_answer() -> None:
    with CpoSimulator() as sim:
        httpx.get(f"{sim.versions_url}?probe=1", headers=auth(sim.token_a, base64_form=True))
    (recorded,) = sim.requests
    assert (recorded.method, recorded.path, recorded.query, recorded.status) == (
        "GET",
        "/ocpi/versions",
        {"probe": "1"},
        200,
    )
    assert recorded.headers["authorization"].startswith("Token ")


def test_writes_on_versions_are_refused() -> None:
    with CpoSimulator() as sim:
        response = httpx.post(
            sim.versions_url, headers=auth(sim.token_a, base64_form=True), json={}
        )
    assert response.status_code == 405
    assert response.json()["status_code"] == 2000


def test_stopped_simulator_refuses_connections() -> None:
    sim = CpoSimulator().start()
    sim.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(sim.versions_url)


def test_amounts_travel_as_exact_decimals_both_ways() -> None:
    with CpoSimulator() as sim:
        sim.call_us("POST", sim.versions_url, token=sim.token_a, json={"amount": Decimal("0.2500")})
    (recorded,) = sim.requests
    assert recorded.body == b'{"amount": 0.2500}'
    assert recorded.json == {"amount": Decimal("0.2500")}
