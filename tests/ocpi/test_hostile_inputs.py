"""Hostile and broken input from a partner, one by one: each is a 4xx or an OCPI 2001 whose
message names what is wrong, nothing of it is stored, and the pages that show prices still
render afterwards. Never a 500 (T-13)."""

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from ocpi_peer.transport import authorization_header, dumps
from payments.models import Cdr, ChargingSession
from stations.models import Location, Tariff
from tests.ocpi.examples import example
from tests.payments.charging import push_stations
from tests.payments.settling import cdr

pytestmark = pytest.mark.django_db(transaction=True)

OUT_OF_CALENDAR = "9999-12-31T23:59:59-23:59"  # UTC would be 10000-01-01


def tariff() -> dict:
    return {**copy.deepcopy(example("tariff_4_complex.json")), "country_code": "NL"} | {
        "party_id": "SIM",
        "id": "14",
    }


def location() -> dict:
    data = copy.deepcopy(example("location_example.json"))
    return {**data, "country_code": "NL", "party_id": "SIM", "id": "LOC1"}


def session() -> dict:
    data = copy.deepcopy(example("session_example_2_short_finished.json"))
    return {**data, "country_code": "NL", "party_id": "SIM", "id": "S1"}


def changed(make: Callable[[], dict], change: Callable[[dict], Any]) -> bytes:
    data = make()
    change(data)
    return dumps(data)  # Decimals are written as the JSON numbers they are: 1E+1000


def component(data: dict) -> dict:
    return data["elements"][0]["price_components"][0]


def connector(data: dict) -> dict:
    return data["evses"][0]["connectors"][0]


TARIFFS = {
    "a price of 1e1000": (
        lambda t: component(t).update(price=Decimal("1e1000")),
        "elements.0.price_components.0.price: must be at most 1000000000",
    ),
    "a negative price": (
        lambda t: component(t).update(price=Decimal("-0.25")),
        "elements.0.price_components.0.price: must be at least 0",
    ),
    "a price with 30 decimals": (
        lambda t: component(t).update(price=Decimal("0." + "1" * 30)),
        "elements.0.price_components.0.price: must have at most 20 decimal places",
    ),
    "a VAT of 1000 %": (
        lambda t: component(t).update(vat=Decimal(1000)),
        "elements.0.price_components.0.vat: must be at most 100",
    ),
    "a step size of 10**30": (
        lambda t: component(t).update(step_size=10**30),
        "elements.0.price_components.0.step_size: Ensure this value is less than or equal",
    ),
    "a max_price of 1e15": (
        lambda t: t.update(max_price={"excl_vat": Decimal("1e15")}),
        "max_price.excl_vat: must be at most 1000000000",
    ),
    "a min_price with more decimals than its column": (
        lambda t: t.update(min_price={"excl_vat": Decimal("0.12345")}),
        "min_price.excl_vat: must have at most 4 decimal places",
    ),
    "a max_kwh of 1e100": (
        lambda t: t["elements"][0].update(restrictions={"max_kwh": Decimal("1e100")}),
        "elements.0.restrictions.max_kwh: must be at most 1000000000",
    ),
    "a max_duration of 10**20 s": (
        lambda t: t["elements"][0].update(restrictions={"max_duration": 10**20}),
        "elements.0.restrictions.max_duration: Ensure this value is less than or equal",
    ),
    "a day that is not in the calendar": (
        lambda t: t["elements"][0].update(restrictions={"end_date": "2026-02-31"}),
        "elements.0.restrictions.end_date: 2026-02-31 is no day of the calendar",
    ),
    "a last_updated past the calendar's end": (
        lambda t: t.update(last_updated=OUT_OF_CALENDAR),
        f"last_updated: '{OUT_OF_CALENDAR}' is out of range",
    ),
    "a start_date_time before the calendar's start": (
        lambda t: t.update(start_date_time="0001-01-01T00:00:00+01:00"),
        "start_date_time: '0001-01-01T00:00:00+01:00' is out of range",
    ),
    "a NUL in the energy mix": (
        lambda t: t.update(energy_mix={"supplier_name": "Green\x00Power"}),
        "energy_mix: text may not contain the NUL character",
    ),
    "a NUL in an alternative text": (
        lambda t: t.update(tariff_alt_text=[{"language": "en", "text": "\x00"}]),
        "tariff_alt_text.0: text may not contain the NUL character",
    ),
    "a party_id of 100,000 characters": (
        lambda t: t.update(party_id="X" * 100_000),
        "party_id: Ensure this field has no more than 3 characters",
    ),
}


@pytest.mark.parametrize("name", TARIFFS)
def test_it_refuses_a_tariff_with(name: str, connected_cpo) -> None:
    change, message = TARIFFS[name]
    cpo = connected_cpo()
    answer = cpo.call_us("PUT", "tariffs/NL/SIM/14", content=changed(tariff, change))
    assert answer.status_code == 200 and answer.json()["status_code"] == 2001
    assert message in answer.json()["status_message"]
    assert not Tariff.objects.exists()


def test_it_still_takes_the_spec_tariff_these_were_made_from(connected_cpo) -> None:
    cpo = connected_cpo()
    answer = cpo.call_us("PUT", "tariffs/NL/SIM/14", content=dumps(tariff()))
    assert answer.json()["status_code"] == 1000 and Tariff.objects.count() == 1


LOCATIONS = {
    "a max_voltage of 10**30": (
        lambda loc: connector(loc).update(max_voltage=10**30),
        "evses.connectors.max_voltage: Ensure this value is less than or equal to 1000000000",
    ),
    "a max_electric_power of 10**12 W": (
        lambda loc: connector(loc).update(max_electric_power=10**12),
        "evses.connectors.max_electric_power: Ensure this value is less than or equal",
    ),
    "a max_voltage of 1e30": (
        lambda loc: connector(loc).update(max_voltage=Decimal("1e30")),
        "evses.connectors.max_voltage: A valid integer is required",
    ),
    "a NUL in the directions": (
        lambda loc: loc.update(directions=[{"language": "en", "text": "left\x00"}]),
        "directions.0: text may not contain the NUL character",
    ),
    "a last_updated past the calendar's end": (
        lambda loc: loc["evses"][0].update(last_updated=OUT_OF_CALENDAR),
        "evses.last_updated",
    ),
}


@pytest.mark.parametrize("name", LOCATIONS)
def test_it_refuses_a_location_with(name: str, connected_cpo) -> None:
    change, message = LOCATIONS[name]
    cpo = connected_cpo()
    answer = cpo.call_us("PUT", "locations/NL/SIM/LOC1", content=changed(location, change))
    assert answer.status_code == 200 and answer.json()["status_code"] == 2001
    assert message in answer.json()["status_message"]
    assert not Location.objects.exists()


CDRS = {
    "a total_cost beyond its column": (
        {"total_cost": {"excl_vat": Decimal("1e15"), "incl_vat": Decimal("1.19e15")}},
        "total_cost.excl_vat: must be at most 99999999",
    ),
    "a total_energy beyond its column": (
        {"total_energy": Decimal("1e15")},
        "total_energy: must be at most 99999999",
    ),
    "a total_cost of 1e1000": (
        {"total_cost": {"excl_vat": Decimal("1e1000")}},
        "total_cost.excl_vat: must be at most 99999999",
    ),
    "an end past the calendar's end": (
        {"end_date_time": OUT_OF_CALENDAR},
        "end_date_time: '9999-12-31T23:59:59-23:59' is out of range",
    ),
}


@pytest.mark.parametrize("name", CDRS)
def test_it_refuses_a_cdr_with(name: str, connected_cpo) -> None:
    changes, message = CDRS[name]
    cpo = connected_cpo()
    answer = cpo.call_us("POST", "cdrs", content=dumps(cdr(**changes)))
    assert answer.status_code == 200 and answer.json()["status_code"] == 2001
    assert message in answer.json()["status_message"]
    assert not Cdr.objects.exists()


def test_it_refuses_a_session_whose_energy_no_column_holds(connected_cpo) -> None:
    cpo = connected_cpo()
    body = changed(session, lambda s: s.update(kwh=Decimal("1e12")))
    answer = cpo.call_us("PUT", "sessions/NL/SIM/S1", content=body)
    assert answer.json()["status_code"] == 2001
    assert "kwh: must be at most 99999999" in answer.json()["status_message"]
    assert not ChargingSession.objects.exists()


def test_it_refuses_a_session_patch_whose_token_has_no_uid(connected_cpo) -> None:
    cpo = connected_cpo()
    assert cpo.call_us("PUT", "sessions/NL/SIM/S1", content=dumps(session())).status_code == 201
    patch = {"cdr_token": {"type": "RFID"}, "last_updated": "2030-01-01T00:00:00Z"}
    answer = cpo.call_us("PATCH", "sessions/NL/SIM/S1", json=patch)
    assert answer.json()["status_code"] == 2001
    assert "cdr_token.uid" in answer.json()["status_message"]
    assert ChargingSession.objects.get().token_uid == session()["cdr_token"]["uid"]


def session_211(location: object) -> dict:
    return {
        "id": "S1",
        "start_datetime": "2026-01-01T10:00:00Z",
        "kwh": 0,
        "auth_id": "DE-CPY-C1",
        "auth_method": "AUTH_REQUEST",
        "location": location,
        "currency": "EUR",
        "status": "ACTIVE",
        "last_updated": "2026-01-01T10:00:00Z",
    }


def test_a_211_session_names_its_place_in_ids_our_columns_hold(connected_cpo) -> None:
    cpo = connected_cpo(version="2.1.1")
    long_id = session_211({"id": "L" * 100, "evses": []})
    answer = cpo.call_us("PUT", "sessions/NL/SIM/S1", content=dumps(long_id))
    assert answer.json()["status_code"] == 2001
    assert "location: its location_id must be at most 39" in answer.json()["status_message"]
    assert not ChargingSession.objects.exists()
    odd = session_211({"id": "LOC1", "evses": {"uid": "E1"}})  # an object, not a list
    assert cpo.call_us("PUT", "sessions/NL/SIM/S1", content=dumps(odd)).status_code == 201
    assert ChargingSession.objects.get().location_id == "LOC1"


BODIES = {
    "arrays nested 100,000 deep": (b"[" * 100_000 + b"]" * 100_000, "nest deeper than 20"),
    "objects nested 5,000 deep": (b'{"a":' * 5_000 + b"1" + b"}" * 5_000, "nest deeper than 20"),
    "arrays nested in a string's brackets": (
        b'{"id": "' + b"[" * 50 + b'", "x": ' + b"[" * 21 + b"]" * 21 + b"}",
        "nest deeper than 20",
    ),
    "a NaN": (b'{"id": "14", "price": NaN}', "not valid JSON"),
    "an Infinity": (b'{"id": "14", "price": -Infinity}', "not valid JSON"),
    "bytes that are not UTF-8": (b'{"id": "\xff\xfe"}', "not valid JSON"),
    "a NUL byte": (b'{"id": "1\x004"}', "not valid JSON"),
}


@pytest.mark.parametrize("name", BODIES)
def test_it_refuses_a_body_of(name: str, connected_cpo) -> None:
    body, message = BODIES[name]
    cpo = connected_cpo()
    answer = cpo.call_us("PUT", "tariffs/NL/SIM/14", content=body)
    assert answer.status_code == 400 and answer.json()["status_code"] == 2001
    assert message in answer.json()["status_message"]
    assert not Tariff.objects.exists()


@pytest.mark.parametrize("body", [b"[1]", b'"tariff"', b"14", b"null", b"true"])
def test_it_refuses_a_body_that_is_no_object(body: bytes, connected_cpo) -> None:
    cpo = connected_cpo()
    for path in ("tariffs/NL/SIM/14", "locations/NL/SIM/LOC1", "sessions/NL/SIM/S1"):
        answer = cpo.call_us("PUT", path, content=body)
        assert answer.status_code in (200, 400) and answer.json()["status_code"] == 2001
    assert cpo.call_us("POST", "cdrs", content=body).json()["status_code"] == 2001
    assert not (Tariff.objects.exists() or Location.objects.exists() or Cdr.objects.exists())


def test_it_refuses_a_5_mb_cdr_with_413_in_an_envelope(connected_cpo) -> None:
    cpo = connected_cpo()
    huge = dumps(cdr(remark="x" * 5_000_000))
    answer = cpo.call_us("POST", "cdrs", content=huge)
    assert answer.status_code == 413 and answer.json()["status_code"] == 2001
    assert not Cdr.objects.exists()


def test_it_refuses_a_content_length_that_is_no_number() -> None:
    """Through Django's own client: most servers in front of us refuse this header first."""
    answer = Client().post(
        "/ocpi/2.2.1/cdrs", b"{}", content_type="application/json", CONTENT_LENGTH="abc"
    )
    assert answer.status_code == 400 and answer.json()["status_code"] == 2001
    assert "Content-Length" in answer.json()["status_message"]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("offset=1e23", "offset"),
        ("offset=99999999999999999999999", "offset"),
        ("offset=-1", "offset"),
        ("limit=1_000", "limit"),
        ("limit=" + "9" * 5000, "limit"),
        ("date_from=" + OUT_OF_CALENDAR.replace("+", "%2B"), "out of range"),
        ("date_to=0001-01-01T00:00:00%2B01:00", "out of range"),
    ],
)
def test_it_refuses_a_list_parameter(query: str, named: str, connected_cpo, ocpi_base) -> None:
    cpo = connected_cpo()
    answer = cpo.call_us("GET", f"{ocpi_base}/2.2.1/tokens?{query}")
    assert answer.status_code == 200 and answer.json()["status_code"] == 2001
    assert named in answer.json()["status_message"]


def test_it_refuses_an_id_in_the_url_that_no_object_can_have(connected_cpo) -> None:
    """Through Django's own client: the test server would answer a NUL in a path itself."""
    cpo = connected_cpo()
    token = authorization_header(cpo.peer.emsp_token, base64_encoded=True)
    authorization = {"HTTP_AUTHORIZATION": token}
    for path in ("locations/NL/SIM/LOC%001", "tariffs/NL/SIM/" + "X" * 300):
        answer = Client().get(f"/ocpi/2.2.1/{path}", **authorization)
        assert answer.status_code == 400 and answer.json()["status_code"] == 2001
        assert "in the URL must be 1 to 255 printable characters" in answer.json()["status_message"]


def test_the_prices_shown_stay_after_a_hostile_tariff_was_refused(connected_cpo) -> None:
    cpo = connected_cpo(location_count=1)
    evse_id = push_stations(cpo)
    before = Client().get(f"/api/v1/evses/{evse_id}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert before["connectors"][0]["tariff"]["estimates"]
    hostile = cpo.tariff("TARIFF-AC")
    hostile["elements"][0]["price_components"][0]["price"] = Decimal("1e1000")
    answer = cpo.call_us("PUT", "tariffs/NL/SIM/TARIFF-AC", content=dumps(hostile))
    assert answer.json()["status_code"] == 2001
    after = Client().get(f"/api/v1/evses/{evse_id}", HTTP_ACCEPT_LANGUAGE="en")
    assert after.status_code == 200 and after.json() == before
    page = Client().get(f"/charge/{evse_id}/", HTTP_ACCEPT_LANGUAGE="en")
    estimate = before["connectors"][0]["tariff"]["estimates"][1]["text"]  # 20 kWh
    assert page.status_code == 200 and estimate in page.content.decode()
