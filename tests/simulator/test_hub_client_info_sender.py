"""The hub's own HubClientInfo: a Sender list of the parties behind it with their connection
status, the ClientInfo of each pushed to the eMSP once registered and whenever it changes (a
configuration module: no routing headers), and a party that is not CONNECTED unreachable."""

from typing import Any

import httpx

from cpo_simulator import HubSimulator
from cpo_simulator.transport import parse_datetime
from tests.helpers import wait_until
from tests.simulator import routing
from tests.simulator.pulling import crawl
from tests.simulator.routing import HUB, PARTY_A, PARTY_B, RoutingEmsp, party

# the fixtures of routing.py: the recording eMSP, fronts registered with it
emsp, front_of = routing.emsp, routing.front_of


def test_it_publishes_hubclientinfo_as_sender(emsp: RoutingEmsp, front_of: Any) -> None:
    hub = front_of([party(PARTY_A), party(PARTY_B)], hub=HUB)

    details = httpx.get(hub.version_url("2.2.1"), headers=emsp.headers(None)).json()["data"]

    assert {
        "identifier": "hubclientinfo",
        "role": "SENDER",
        "url": f"{hub.version_url('2.2.1')}/hubclientinfo",
    } in details["endpoints"]


def test_it_pushes_every_party_connected_once_registered(emsp: RoutingEmsp, front_of: Any) -> None:
    front_of([party(PARTY_A), party(PARTY_B)], hub=HUB)

    puts = emsp.calls_to("hubclientinfo", "PUT")

    assert [put.path for put in puts] == [
        "/2.2.1/hubclientinfo/NL/AAA",
        "/2.2.1/hubclientinfo/NL/BBB",
    ]
    assert [(p.body["country_code"], p.body["party_id"], p.body["role"]) for p in puts] == [
        ("NL", "AAA", "CPO"),
        ("NL", "BBB", "CPO"),
    ]
    assert {put.body["status"] for put in puts} == {"CONNECTED"}
    assert not any(name.startswith("ocpi-") for put in puts for name in put.headers)


def test_it_pushes_them_once_the_emsp_registered_with_it(emsp: RoutingEmsp) -> None:
    with HubSimulator([party(PARTY_A), party(PARTY_B)], hub=HUB) as hub:
        answer = emsp.register_with(hub)

        assert answer.json()["status_code"] == 1000
        wait_until(lambda: len(emsp.calls_to("hubclientinfo", "PUT")) >= 2)
        assert [put.path for put in emsp.calls_to("hubclientinfo", "PUT")] == [
            "/2.2.1/hubclientinfo/NL/AAA",
            "/2.2.1/hubclientinfo/NL/BBB",
        ]


def test_it_pushes_nothing_to_an_emsp_without_a_receiver() -> None:
    emsp = RoutingEmsp(hubclientinfo=False)
    try:
        hub = HubSimulator([party(PARTY_A)], hub=HUB).start()
        try:
            hub.register_with(emsp.versions_url, emsp.token_a)
            assert hub.registered
            assert hub.set_client_status(hub.members[0], "OFFLINE") is None
        finally:
            hub.stop()
    finally:
        emsp.close()

    assert emsp.calls_to("hubclientinfo") == []


def test_it_serves_the_client_info_list_paged(emsp: RoutingEmsp, front_of: Any) -> None:
    hub = front_of([party(PARTY_A), party(PARTY_B)], hub=HUB, page_size=1)

    pages = list(crawl(f"{hub.version_url('2.2.1')}/hubclientinfo", emsp.headers(None)))

    assert [page.headers["X-Total-Count"] for page in pages] == ["2", "2"]
    infos = [info for page in pages for info in page.json()["data"]]
    assert [(i["country_code"], i["party_id"], i["status"]) for i in infos] == [
        ("NL", "AAA", "CONNECTED"),
        ("NL", "BBB", "CONNECTED"),
    ]
    assert all(parse_datetime(i["last_updated"]) for i in infos)


def test_a_status_change_is_pushed_and_listed(emsp: RoutingEmsp, front_of: Any) -> None:
    hub = front_of([party(PARTY_A), party(PARTY_B)], hub=HUB)

    answer = hub.set_client_status(hub.members[1], "OFFLINE")

    assert answer is not None and answer.json()["status_code"] == 1000
    last = emsp.calls_to("hubclientinfo", "PUT")[-1]
    assert last.path == "/2.2.1/hubclientinfo/NL/BBB"
    assert last.body["status"] == "OFFLINE"
    listed = httpx.get(f"{hub.version_url('2.2.1')}/hubclientinfo", headers=emsp.headers(None))
    assert [i["status"] for i in listed.json()["data"]] == ["CONNECTED", "OFFLINE"]
    assert listed.json()["data"][1]["last_updated"] == last.body["last_updated"]


def test_a_party_not_connected_is_unreachable_and_left_out_of_merged_lists(
    emsp: RoutingEmsp, front_of: Any
) -> None:
    hub = front_of([party(PARTY_A), party(PARTY_B)], hub=HUB)
    hub.set_client_status(("nl", "bbb"), "SUSPENDED")

    direct = emsp.get(hub, "locations/LOC00001", to=PARTY_B)
    merged = emsp.get(hub, "locations", to=HUB[:2])

    assert direct.json()["status_code"] == 4003
    assert {o["party_id"] for o in merged.json()["data"]} == {"AAA"}
    hub.set_client_status(("NL", "BBB"), "CONNECTED")
    assert emsp.get(hub, "locations/LOC00001", to=PARTY_B).json()["status_code"] == 1000
