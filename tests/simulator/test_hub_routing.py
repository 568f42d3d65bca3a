"""A roaming hub in front of two CPO parties: one connection with the eMSP, the hub's own role in
the credentials, every functional request routed by its four routing headers (OCPI 2.2.1
transport, Message Routing), GET All merged over the parties, token pushes broadcast, and each
party charging and pushing under its own party."""

from datetime import timedelta
from typing import Any

import httpx
import pytest

from cpo_simulator import HubSimulator
from tests.helpers import wait_until
from tests.simulator import routing
from tests.simulator.emsp import RecordingEmsp
from tests.simulator.pulling import EPOCH, crawl, stamp
from tests.simulator.routing import EMSP, HUB, PARTY_A, PARTY_B, RoutingEmsp, party, routing_of

# the fixtures of routing.py: the recording eMSP, fronts registered with it
emsp, front_of = routing.emsp, routing.front_of

HUB_PARTY = HUB[:2]


def test_it_registers_once_with_the_hub_role_alone(emsp: RoutingEmsp, front_of: Any) -> None:
    hub = front_of([party(PARTY_A), party(PARTY_B)], hub=HUB)

    response = httpx.get(
        f"{hub.version_url('2.2.1')}/credentials", headers={"Authorization": _auth(emsp)}
    )
    assert response.json()["data"]["roles"] == [
        {
            "role": "HUB",
            "business_details": {"name": "Simulated Hub"},
            "party_id": "HUB",
            "country_code": "DE",
        }
    ]
    assert all(member.registered for member in hub.members)  # one connection for all of them
    assert {m.emsp_token for m in hub.members} == {hub.emsp_token}


@pytest.mark.parametrize(
    "missing",
    [
        "OCPI-from-country-code",
        "OCPI-from-party-id",
        "OCPI-to-country-code",
        "OCPI-to-party-id",
    ],
)
def test_it_refuses_a_request_missing_a_routing_header(
    emsp: RoutingEmsp, front_of: Any, missing: str
) -> None:
    hub = front_of([party(PARTY_A), party(PARTY_B)], hub=HUB)
    headers = {k: v for k, v in emsp.headers(PARTY_A).items() if k != missing}

    response = httpx.get(f"{hub.version_url('2.2.1')}/locations/LOC00001", headers=headers)

    assert response.status_code == 400
    assert response.json()["status_code"] == 2001
    assert missing in response.json()["status_message"]


def test_it_refuses_a_sender_that_is_not_the_registered_emsp(
    emsp: RoutingEmsp, front_of: Any
) -> None:
    hub = front_of([party(PARTY_A), party(PARTY_B)], hub=HUB)
    headers = emsp.headers(PARTY_A, **{"OCPI-from-party-id": "XXX"})

    response = httpx.get(f"{hub.version_url('2.2.1')}/locations/LOC00001", headers=headers)

    assert response.status_code == 400
    assert response.json()["status_code"] == 2001


def test_it_answers_an_unknown_receiver_with_4001(emsp: RoutingEmsp, front_of: Any) -> None:
    hub = front_of([party(PARTY_A), party(PARTY_B)], hub=HUB)

    response = emsp.get(hub, "locations/LOC00001", to=("NL", "ZZZ"))

    assert response.json()["status_code"] == 4001
    assert "NL/ZZZ" in response.json()["status_message"]


def test_it_routes_a_get_of_one_object_to_the_party_named(emsp: RoutingEmsp, front_of: Any) -> None:
    hub = front_of([party(PARTY_A), party(PARTY_B)], hub=HUB)

    of_a = emsp.get(hub, "locations/LOC00001", to=PARTY_A)
    of_b = emsp.get(hub, "locations/LOC00001", to=PARTY_B)

    assert of_a.json()["data"]["party_id"] == "AAA"
    assert of_a.json()["data"]["evses"][0]["evse_id"].startswith("NL*AAA*")
    assert of_b.json()["data"]["party_id"] == "BBB"
    assert of_b.json()["data"]["evses"][0]["evse_id"].startswith("NL*BBB*")
    assert routing_of(of_a) == ("NL", "AAA", *EMSP)
    assert routing_of(of_b) == ("NL", "BBB", *EMSP)


def test_it_merges_a_get_all_to_the_hub_and_pages_it_across_the_parties(
    emsp: RoutingEmsp, front_of: Any
) -> None:
    members = [party(PARTY_A, page_size=2), party(PARTY_B, page_size=2)]
    hub = front_of(members, hub=HUB, page_size=4)

    pages = list(crawl(f"{hub.version_url('2.2.1')}/locations", emsp.headers(HUB_PARTY)))

    assert [len(page.json()["data"]) for page in pages] == [4, 2]
    assert {page.headers["X-Total-Count"] for page in pages} == {"6"}
    assert {page.headers["X-Limit"] for page in pages} == {"4"}
    found = [(o["party_id"], o["id"]) for page in pages for o in page.json()["data"]]
    assert found == [(p, f"LOC0000{n}") for p in ("AAA", "BBB") for n in (1, 2, 3)]
    assert {routing_of(page) for page in pages} == {("DE", "HUB", *EMSP)}
    # the eMSP followed the Link with its own headers again: every page was routed to the hub
    lists = [r for r in hub.requests if r.path.endswith("/locations")]
    assert len(lists) == 2
    assert {(r.headers["OCPI-to-country-code"], r.headers["OCPI-to-party-id"]) for r in lists} == {
        HUB_PARTY
    }


def test_it_passes_the_date_window_of_a_merged_list_on_to_every_party(
    emsp: RoutingEmsp, front_of: Any
) -> None:
    a, b = party(PARTY_A), party(PARTY_B)
    hub = front_of([a, b], hub=HUB)
    b.touch(2, at=EPOCH + timedelta(days=10))
    a.touch(0, at=EPOCH + timedelta(days=20))

    response = httpx.get(
        f"{hub.version_url('2.2.1')}/locations",
        params={"date_from": stamp(86400 * 5), "date_to": stamp(86400 * 15)},
        headers=emsp.headers(HUB_PARTY),
    )

    assert [(o["party_id"], o["id"]) for o in response.json()["data"]] == [("BBB", "LOC00003")]


def test_it_broadcasts_a_token_pushed_to_the_hub_and_delivers_one_pushed_to_a_party(
    emsp: RoutingEmsp, front_of: Any
) -> None:
    a, b = party(PARTY_A), party(PARTY_B)
    hub = front_of([a, b], hub=HUB)
    url = f"{hub.version_url('2.2.1')}/tokens/DE/REC"

    to_all = httpx.put(
        f"{url}/UID-ALL?type=AD_HOC_USER", json=_token("UID-ALL"), headers=emsp.headers(HUB_PARTY)
    )
    to_b = httpx.put(
        f"{url}/UID-B?type=AD_HOC_USER", json=_token("UID-B"), headers=emsp.headers(PARTY_B)
    )

    assert to_all.json()["status_code"] == 1000, to_all.text
    assert to_b.json()["status_code"] == 1000, to_b.text
    assert routing_of(to_all) == ("DE", "HUB", *EMSP)
    assert routing_of(to_b) == ("NL", "BBB", *EMSP)
    assert {key[2] for key in a.tokens} == {"UID-ALL"}
    assert {key[2] for key in b.tokens} == {"UID-ALL", "UID-B"}


def test_it_refuses_a_command_addressed_to_the_hub_itself(emsp: RoutingEmsp, front_of: Any) -> None:
    hub = front_of([party(PARTY_A), party(PARTY_B)], hub=HUB)

    response = httpx.post(
        f"{hub.version_url('2.2.1')}/commands/START_SESSION",
        json=_start(emsp),
        headers=emsp.headers(HUB_PARTY),
    )

    assert response.json()["status_code"] == 2001
    assert not any(member.commands for member in hub.members)


def test_it_starts_a_session_at_the_party_commanded_and_its_pushes_come_from_it(
    emsp: RoutingEmsp, front_of: Any
) -> None:
    a, b = party(PARTY_A), party(PARTY_B)
    hub = front_of([a, b], hub=HUB)

    answer = httpx.post(
        f"{hub.version_url('2.2.1')}/commands/START_SESSION",
        json=_start(emsp),
        headers=emsp.headers(PARTY_B),
    )

    assert answer.json()["status_code"] == 1000
    assert routing_of(answer) == ("NL", "BBB", *EMSP)
    assert a.commands == [] and len(b.commands) == 1
    session = b.wait_for_session("ACTIVE")
    assert session["party_id"] == "BBB" and session["evse_uid"] == "LOC00001-1"
    (result,) = wait_until(lambda: emsp.calls_to("results/start"))
    assert routing_of(result) == ("NL", "BBB", *EMSP)
    put = wait_until(lambda: emsp.calls_to("sessions", "PUT"))[0]
    assert put.path == f"/2.2.1/sessions/NL/BBB/{session['id']}"
    assert routing_of(put) == ("NL", "BBB", *EMSP)
    b.end_session(session["id"])
    delivery = b.wait_for_cdr(session["id"])
    assert delivery.body["party_id"] == "BBB"
    (cdr,) = emsp.calls_to("cdrs", "POST")
    assert routing_of(cdr) == ("NL", "BBB", *EMSP)


def test_only_the_party_whose_commands_are_down_answers_503(
    emsp: RoutingEmsp, front_of: Any
) -> None:
    a, b = party(PARTY_A), party(PARTY_B, command_fault="down")
    hub = front_of([a, b], hub=HUB)
    url = f"{hub.version_url('2.2.1')}/commands/START_SESSION"

    to_b = httpx.post(url, json=_start(emsp), headers=emsp.headers(PARTY_B))
    to_a = httpx.post(url, json=_start(emsp), headers=emsp.headers(PARTY_A))

    assert to_b.status_code == 503 and to_b.content == b""
    assert to_a.json()["status_code"] == 1000
    assert [c.command for c in b.commands] == ["START_SESSION"]  # received, nothing done
    assert b.sessions == {}
    assert a.wait_for_session("ACTIVE")["party_id"] == "AAA"


def test_a_party_behind_the_hub_pushes_its_locations_under_its_own_party(
    emsp: RoutingEmsp, front_of: Any
) -> None:
    a, b = party(PARTY_A), party(PARTY_B)
    front_of([a, b], hub=HUB)

    a.push_location(0)

    (put,) = emsp.calls_to("locations", "PUT")
    assert put.path == "/2.2.1/locations/NL/AAA/LOC00001"
    assert routing_of(put) == ("NL", "AAA", *EMSP)


def test_it_records_every_request_it_receives_with_its_headers(
    emsp: RoutingEmsp, front_of: Any
) -> None:
    hub = front_of([party(PARTY_A), party(PARTY_B)], hub=HUB)

    emsp.get(hub, "locations/LOC00002", to=PARTY_B)

    (recorded,) = [r for r in hub.requests if "/locations/" in r.path]
    assert recorded.path == "/ocpi/2.2.1/locations/LOC00002" and recorded.status == 200
    assert recorded.headers["OCPI-to-party-id"] == "BBB"
    assert recorded.headers["OCPI-from-party-id"] == "REC"


def test_stopping_the_front_stops_its_parties_sessions(emsp: RoutingEmsp, front_of: Any) -> None:
    a, b = party(PARTY_A), party(PARTY_B)
    hub = front_of([a, b], hub=HUB)
    httpx.post(
        f"{hub.version_url('2.2.1')}/commands/START_SESSION",
        json=_start(emsp),
        headers=emsp.headers(PARTY_A),
    )
    session = a.wait_for_session("ACTIVE")

    hub.stop()

    assert not a.running and not b.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(hub.versions_url)
    pushes = len(emsp.calls_to("sessions"))
    with pytest.raises(Exception, match="not running"):
        a.end_session(session["id"])
    assert len(emsp.calls_to("sessions")) == pushes


def test_a_hub_with_one_party_speaks_2_1_1_without_routing_headers() -> None:
    emsp = RecordingEmsp("2.1.1")
    member = party(PARTY_A)
    hub = HubSimulator([member], hub=HUB, versions=("2.1.1",)).start()
    try:
        answer = hub.register_with(emsp.versions_url, emsp.token_a)
        assert answer.json()["status_code"] == 1000
        assert emsp.cpo_token is not None
        response = httpx.get(
            f"{hub.version_url('2.1.1')}/locations/LOC00002",
            headers={"Authorization": f"Token {emsp.cpo_token}"},
        )
        member.push_location(0)
    finally:
        hub.stop()
        emsp.close()

    assert response.json()["status_code"] == 1000
    assert response.json()["data"]["evses"][0]["evse_id"].startswith("NL*AAA*")
    assert "OCPI-from-party-id" not in response.headers
    (push,) = emsp.pushes("PUT")
    assert push.path == "/2.1.1/locations/NL/AAA/LOC00001"


def test_a_hub_offering_2_1_1_refuses_a_second_party() -> None:
    with pytest.raises(ValueError, match=r"2\.1\.1"):
        HubSimulator([party(PARTY_A), party(PARTY_B)], hub=HUB, versions=("2.1.1", "2.2.1"))


def test_a_party_behind_a_front_does_not_serve_on_its_own() -> None:
    member = party(PARTY_A)
    HubSimulator([member], hub=HUB)

    with pytest.raises(Exception, match="front"):
        member.start()
    with pytest.raises(ValueError, match="front"):
        HubSimulator([member], hub=HUB)
    with party(PARTY_B) as serving, pytest.raises(ValueError, match="not running"):
        HubSimulator([serving], hub=HUB)


def _auth(emsp: RoutingEmsp) -> str:
    assert emsp.cpo_token is not None
    return emsp.headers(None)["Authorization"]


def _token(uid: str) -> dict[str, Any]:
    return {
        "country_code": "DE",
        "party_id": "REC",
        "uid": uid,
        "type": "AD_HOC_USER",
        "contract_id": "DE-REC-C00000001-X",
        "issuer": "Routing eMSP",
        "valid": True,
        "whitelist": "NEVER",
        "last_updated": "2026-02-01T10:00:00Z",
    }


def _start(emsp: RoutingEmsp) -> dict[str, Any]:
    return {
        "response_url": f"{emsp.base_url}/2.2.1/results/start",
        "token": _token("UID-START"),
        "location_id": "LOC00001",
        "evse_uid": "LOC00001-1",
        "authorization_reference": "auth-ref-0001",
    }
