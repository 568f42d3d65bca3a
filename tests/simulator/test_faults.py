"""Faults a test can switch on to play a broken CPMS."""

import threading

import httpx
import pytest

from cpo_simulator import CpoSimulator
from tests.helpers import wait_until
from tests.simulator.pulling import NEXT_LINK, headers_for


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


def test_fail_after_pages_breaks_a_pull_in_the_middle_and_can_be_cleared() -> None:
    with CpoSimulator(location_count=100, page_size=10) as sim:
        sim.fail_after_pages = 3
        headers = headers_for(sim)
        url = f"{sim.base_url}/ocpi/2.2.1/locations"
        answers = []
        next_url: str | None = url
        while next_url is not None:
            answers.append(httpx.get(next_url, headers=headers))
            link = answers[-1].headers.get("Link")
            next_url = NEXT_LINK.match(link).group(1) if link else None  # type: ignore[union-attr]
        tariffs = httpx.get(f"{sim.base_url}/ocpi/2.2.1/tariffs?offset=30", headers=headers)
        sim.fail_after_pages = None
        resumed = httpx.get(f"{url}?offset=30&limit=10", headers=headers)
    assert [a.status_code for a in answers] == [200, 200, 200, 500]
    assert answers[-1].json()["status_code"] == 3000
    assert "offset=30" in str(answers[-1].request.url)
    assert tariffs.status_code == 500  # every Sender list fails alike
    assert resumed.status_code == 200 and resumed.json()["data"][0]["id"] == "LOC00031"


def test_fail_after_zero_pages_fails_the_first_page() -> None:
    with CpoSimulator(location_count=5) as sim:
        sim.fail_after_pages = 0
        response = httpx.get(f"{sim.base_url}/ocpi/2.2.1/locations", headers=headers_for(sim))
    assert response.status_code == 500 and response.json()["status_code"] == 3000


def test_a_bad_fail_after_pages_is_refused() -> None:
    with pytest.raises(ValueError):
        CpoSimulator().fail_after_pages = -1


def get_slowly(url: str) -> httpx.Response:
    return httpx.get(url, timeout=90)


def test_latency_holds_every_answer_until_it_has_passed() -> None:
    """Without timing anything: a request waits while the latency is long, and is answered
    once it is lowered."""
    with CpoSimulator(latency=60) as sim:
        answer: list[httpx.Response] = []
        caller = threading.Thread(
            target=lambda: answer.append(httpx.get(sim.versions_url, timeout=30))
        )
        caller.start()
        wait_until(lambda: sim.requests, timeout=10)
        assert sim.requests[0].status is None and caller.is_alive() and not answer
        sim.latency = 0
        caller.join(timeout=10)
    assert not caller.is_alive()
    assert answer[0].status_code == 401  # the normal answer, only later


def test_stop_answers_requests_still_waiting_out_the_latency() -> None:
    sim = CpoSimulator(latency=60).start()
    answer: list[httpx.Response] = []
    caller = threading.Thread(target=lambda: answer.append(get_slowly(sim.versions_url)))
    caller.start()
    wait_until(lambda: sim.requests, timeout=10)
    sim.stop()
    caller.join(timeout=10)
    assert not caller.is_alive() and answer


def test_a_negative_latency_is_refused() -> None:
    with pytest.raises(ValueError):
        CpoSimulator(latency=-0.1)


def test_slash_needed_finds_only_paths_with_a_trailing_slash() -> None:
    with CpoSimulator() as sim:
        sim.fault = "slash_needed"
        plain = httpx.get(sim.versions_url)
        slashed = httpx.get(f"{sim.versions_url}/")
    assert plain.status_code == 404 and plain.json()["status_code"] == 2000
    assert slashed.status_code == 401  # found: it asks for a token as ever
