"""A CPMS hosting two CPO parties without a hub: one connection whose credentials list one CPO
role per party; every request names one of them, lists included, so an eMSP pulls party by
party."""

from typing import Any

import httpx
import pytest

from cpo_simulator import HubSimulator, SimulatorError
from tests.simulator import routing
from tests.simulator.pulling import crawl
from tests.simulator.routing import EMSP, HUB, PARTY_A, PARTY_B, RoutingEmsp, party, routing_of

# the fixtures of routing.py: the recording eMSP, fronts registered with it
emsp, front_of = routing.emsp, routing.front_of


def test_its_credentials_carry_one_cpo_role_per_party(emsp: RoutingEmsp, front_of: Any) -> None:
    cpms = front_of([party(PARTY_A), party(PARTY_B)], hub=None)

    response = httpx.get(f"{cpms.version_url('2.2.1')}/credentials", headers=emsp.headers(None))

    assert [
        (role["role"], role["country_code"], role["party_id"], role["business_details"]["name"])
        for role in response.json()["data"]["roles"]
    ] == [("CPO", "NL", "AAA", "Party AAA"), ("CPO", "NL", "BBB", "Party BBB")]
    assert emsp.calls_to("hubclientinfo") == []  # no hub: nobody to tell who is connected


def test_it_publishes_no_hubclientinfo(emsp: RoutingEmsp, front_of: Any) -> None:
    cpms = front_of([party(PARTY_A), party(PARTY_B)], hub=None)

    details = httpx.get(cpms.version_url("2.2.1"), headers=emsp.headers(None)).json()["data"]

    assert "hubclientinfo" not in {e["identifier"] for e in details["endpoints"]}
    with pytest.raises(SimulatorError, match="HubClientInfo"):
        cpms.set_client_status(cpms.members[0], "OFFLINE")


def test_a_list_answers_only_the_party_it_is_addressed_to(emsp: RoutingEmsp, front_of: Any) -> None:
    cpms = front_of(
        [party(PARTY_A, location_count=3, page_size=2), party(PARTY_B, location_count=5)],
        hub=None,
    )
    url = f"{cpms.version_url('2.2.1')}/locations"

    pages_a = list(crawl(url, emsp.headers(PARTY_A)))
    pages_b = list(crawl(url, emsp.headers(PARTY_B)))

    assert [len(page.json()["data"]) for page in pages_a] == [2, 1]  # A's own page size
    assert {o["party_id"] for page in pages_a for o in page.json()["data"]} == {"AAA"}
    assert [len(page.json()["data"]) for page in pages_b] == [5]
    assert {o["party_id"] for page in pages_b for o in page.json()["data"]} == {"BBB"}
    assert {routing_of(page) for page in pages_a} == {("NL", "AAA", *EMSP)}
    assert {routing_of(page) for page in pages_b} == {("NL", "BBB", *EMSP)}


@pytest.mark.parametrize("to", [HUB[:2], EMSP, ("NL", "ZZZ")])
def test_a_request_to_a_party_it_does_not_host_is_an_unknown_receiver(
    emsp: RoutingEmsp, front_of: Any, to: tuple[str, str]
) -> None:
    cpms = front_of([party(PARTY_A), party(PARTY_B)], hub=None)

    response = emsp.get(cpms, "locations", to=to)

    assert response.json()["status_code"] == 4001


def test_routing_headers_are_read_case_insensitively(emsp: RoutingEmsp, front_of: Any) -> None:
    cpms = front_of([party(PARTY_A), party(PARTY_B)], hub=None)
    headers = emsp.headers(("nl", "bbb"), **{"OCPI-from-party-id": "rec"})

    response = httpx.get(f"{cpms.version_url('2.2.1')}/locations/LOC00001", headers=headers)

    assert response.json()["data"]["party_id"] == "BBB"


def test_a_cpms_refuses_a_party_twice() -> None:
    with pytest.raises(ValueError, match="different"):
        HubSimulator([party(PARTY_A), party(("nl", "aaa"))], hub=None)
