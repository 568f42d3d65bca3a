"""Faults a test can switch on to play a broken CPMS."""

import httpx
import pytest

from ocpi_peer.simulator import CpoSimulator


def test_garbage_answers_200_with_a_body_that_is_not_json() -> None:
    with CpoSimulator() as sim:
        sim.fault = "garbage"
        response = httpx.get(sim.versions_url)
        details = httpx.post(f"{sim.base_url}/ocpi/2.2.1/credentials", json={})
    assert response.status_code == 200 == details.status_code
    assert response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        response.json()


def test_http500_answers_500_with_a_3000_envelope() -> None:
    with CpoSimulator() as sim:
        sim.fault = "http500"
        response = httpx.get(sim.versions_url)
    assert response.status_code == 500
    assert response.json()["status_code"] == 3000


def test_clearing_the_fault_restores_normal_answers() -> None:
    with CpoSimulator() as sim:
        sim.fault = "garbage"
        sim.fault = None
        response = httpx.get(sim.versions_url)
    assert response.status_code == 401  # a normal answer: no token was sent


def test_an_unknown_fault_is_refused() -> None:
    with pytest.raises(ValueError):
        CpoSimulator().fault = "timeout_versions"
