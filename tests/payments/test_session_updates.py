"""The Sessions Receiver as each version's spec has it: a PUT replaces the whole Session (the
optional fields it leaves out are gone); a 2.2.1 PATCH adds its `charging_periods` to ours, a
2.1.1 PATCH replaces the fields it names, the periods too (so a CPMS resending its full list
never doubles the energy we bill from); our GET answers the whole Session in the partner's
version. Over real HTTP, from a simulated CPO."""

import copy
from decimal import Decimal
from typing import Any

import pytest
import simplejson

from payments.models import ChargingSession
from tests.helpers import wait_until
from tests.ocpi.examples import example, meaningful
from tests.payments.charging import pay, push_stations, reaches

pytestmark = pytest.mark.django_db(transaction=True)

URL = "sessions/NL/SIM/S1"


def _period(start: str, kwh: str) -> dict[str, Any]:
    return {"start_date_time": start, "dimensions": [{"type": "ENERGY", "volume": Decimal(kwh)}]}


def _session(version: str) -> dict[str, Any]:
    """A finished Session of NL*SIM in `version`'s shape (2.2.1: the spec's own example)."""
    if version == "2.2.1":
        body = copy.deepcopy(example("session_example_2_short_finished.json"))
        body |= {"country_code": "NL", "party_id": "SIM", "id": "S1"}
        body["authorization_reference"] = "REF-1"
        return body
    return {
        "id": "S1",
        "start_datetime": "2015-06-29T22:39:09Z",
        "end_datetime": "2015-06-29T23:50:16Z",
        "kwh": Decimal("41.12"),
        "auth_id": "NL-TST-C12345678-S",
        "auth_method": "WHITELIST",
        "location": {
            "id": "LOC1",
            "type": "ON_STREET",
            "address": "Ketelweg 1",
            "city": "Amsterdam",
            "postal_code": "1000AA",
            "country": "NLD",
            "coordinates": {"latitude": "52.37000", "longitude": "4.89000"},
            "evses": [{"uid": "3256", "status": "CHARGING", "connectors": [{"id": "1"}]}],
            "last_updated": "2015-06-29T20:39:09Z",
        },
        "currency": "EUR",
        "charging_periods": [
            _period("2015-06-29T22:39:09Z", "0.12"),
            _period("2015-06-29T22:40:54Z", "41"),
        ],
        "total_cost": Decimal("8.50"),
        "status": "COMPLETED",
        "last_updated": "2015-06-29T23:50:17Z",
    }


def _send(cpo, method: str, body: dict[str, Any]) -> None:
    answer = cpo.call_us(method, URL, content=simplejson.dumps(body, use_decimal=True).encode())
    assert answer.status_code in (200, 201) and answer.json()["status_code"] == 1000, answer.text


def _get(cpo) -> dict[str, Any]:
    answer = cpo.call_us("GET", URL)
    assert answer.status_code == 200, answer.text
    return simplejson.loads(answer.content, use_decimal=True)["data"]


@pytest.mark.parametrize("version", ["2.2.1", "2.1.1"])
def test_get_answers_the_whole_session_in_the_partners_version(connected_cpo, version) -> None:
    cpo = connected_cpo(version=version)
    sent = _session(version)
    _send(cpo, "PUT", sent)
    assert meaningful(_get(cpo)) == meaningful(sent)
    if version == "2.1.1":
        assert {"start_datetime", "location", "auth_id"} <= _get(cpo).keys()


@pytest.mark.parametrize(
    ("version", "periods_after"),
    [("2.2.1", ["22:39:09", "22:40:54", "23:07:09", "23:55:00"]), ("2.1.1", ["23:55:00"])],
)
def test_a_patchs_periods_are_added_in_2_2_1_and_replace_ours_in_2_1_1(
    connected_cpo, version: str, periods_after: list[str]
) -> None:
    cpo = connected_cpo(version=version)
    sent = _session(version)
    _send(cpo, "PUT", sent)
    patch = {
        "kwh": Decimal("45"),
        "charging_periods": [_period("2015-06-29T23:55:00Z", "3.88")],
        "last_updated": "2015-06-29T23:55:01Z",
    }
    _send(cpo, "PATCH", patch)
    _send(cpo, "PATCH", patch)  # delivered twice: added once
    got = _get(cpo)
    assert [p["start_date_time"][11:19] for p in got["charging_periods"]] == periods_after
    assert got["kwh"] == Decimal("45") and got["last_updated"] == "2015-06-29T23:55:01Z"
    stored = ChargingSession.objects.get(session_id="S1")
    assert [p["start_date_time"][11:19] for p in stored.charging_periods] == periods_after


def test_a_put_removes_the_optional_fields_it_leaves_out(connected_cpo) -> None:
    cpo = connected_cpo()
    _send(cpo, "PUT", _session("2.2.1"))
    again = _session("2.2.1")
    for optional in ("end_date_time", "total_cost", "authorization_reference", "charging_periods"):
        del again[optional]
    again |= {"status": "ACTIVE", "last_updated": "2015-06-29T23:59:00Z"}
    _send(cpo, "PUT", again)
    got = _get(cpo)
    assert not {"end_date_time", "total_cost", "authorization_reference"} & got.keys()
    assert got.get("charging_periods", []) == []
    stored = ChargingSession.objects.get(session_id="S1")
    assert (stored.end, stored.total_cost_incl_vat, stored.total_cost_excl_vat) == (None,) * 3
    assert (stored.authorization_reference, stored.charging_periods) == ("", [])


def test_a_2_1_1_cpo_resending_its_full_list_twice_is_billed_its_own_energy(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(
        version="2.1.1",
        location_count=1,
        update_interval=0.2,
        time_scale=600,
        session_fault="duplicate_pushes",  # every PATCH (the whole list in 2.1.1) comes twice
    )
    checkout = reaches(pay(live_server.url, stripe_settings, push_stations(cpo)), "charging")
    running = cpo.wait_for_session("ACTIVE")
    wait_until(lambda: len(ChargingSession.objects.get().charging_periods) >= 2)
    final = cpo.end_session(running["id"])
    checkout = reaches(checkout, "finished")
    session = ChargingSession.objects.get(checkout=checkout)
    assert session.kwh == final["kwh"]
    assert len(session.charging_periods) == len(final["charging_periods"]) > 1
    energy = sum(
        Decimal(d["volume"])
        for p in session.charging_periods
        for d in p["dimensions"]
        if d["type"] == "ENERGY"
    )
    assert energy == final["kwh"]
    live = _get_as(cpo, running["id"])
    assert meaningful(live) == meaningful(final)


def _get_as(cpo, session_id: str) -> dict[str, Any]:
    answer = cpo.call_us("GET", f"sessions/NL/SIM/{session_id}")
    return simplejson.loads(answer.content, use_decimal=True)["data"]
