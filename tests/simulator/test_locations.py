"""The Locations Sender: pagination, date filters, object shapes (checklist §4, T-19)."""

import re

import httpx
import pytest

from cpo_simulator import CpoSimulator
from tests.simulator.pulling import crawl, headers_for, stamp


def test_full_list_over_many_pages() -> None:
    with CpoSimulator(location_count=1234, page_size=100) as sim:
        pages = list(crawl(f"{sim.base_url}/ocpi/2.2.1/locations", headers_for(sim)))
    assert len(pages) == 13
    ids = [location["id"] for page in pages for location in page.json()["data"]]
    assert len(ids) == 1234 == len(set(ids))
    assert ids[0] == "LOC00001" and ids[-1] == "LOC01234"
    assert {page.headers["X-Total-Count"] for page in pages} == {"1234"}
    assert {page.headers["X-Limit"] for page in pages} == {"100"}
    assert "Link" not in pages[-1].headers


def test_limit_is_capped_at_page_size_and_repeated_in_next_links() -> None:
    with CpoSimulator(location_count=30, page_size=10) as sim:
        headers = headers_for(sim)
        capped = httpx.get(f"{sim.base_url}/ocpi/2.2.1/locations?limit=500", headers=headers)
        small = list(crawl(f"{sim.base_url}/ocpi/2.2.1/locations?limit=4", headers))
    assert len(capped.json()["data"]) == 10
    assert [len(page.json()["data"]) for page in small] == [4, 4, 4, 4, 4, 4, 4, 2]
    assert "limit=4" in small[0].headers["Link"]


def test_date_from_is_inclusive_and_date_to_exclusive_across_pages() -> None:
    with CpoSimulator(location_count=1234, page_size=100) as sim:
        url = f"{sim.base_url}/ocpi/2.2.1/locations?date_from={stamp(100)}&date_to={stamp(350)}"
        pages = list(crawl(url, headers_for(sim)))
    locations = [location for page in pages for location in page.json()["data"]]
    assert [location["last_updated"] for location in locations] == [
        stamp(s) for s in range(100, 350)
    ]
    assert {page.headers["X-Total-Count"] for page in pages} == {"250"}
    assert len(pages) == 3
    assert "date_from=" in pages[0].headers["Link"] and "date_to=" in pages[0].headers["Link"]


def test_fractional_date_from_rounds_up_to_the_next_object() -> None:
    with CpoSimulator(location_count=10) as sim:
        url = f"{sim.base_url}/ocpi/2.2.1/locations?date_from=2026-01-01T00:00:02.5Z"
        response = httpx.get(url, headers=headers_for(sim))
    assert response.json()["data"][0]["id"] == "LOC00004"
    assert response.headers["X-Total-Count"] == "7"


def test_offset_beyond_the_end_is_an_empty_last_page() -> None:
    with CpoSimulator(location_count=5) as sim:
        response = httpx.get(
            f"{sim.base_url}/ocpi/2.2.1/locations?offset=50", headers=headers_for(sim)
        )
    assert response.json()["data"] == []
    assert response.headers["X-Total-Count"] == "5"
    assert "Link" not in response.headers


@pytest.mark.parametrize("query", ["offset=-1", "limit=x", "date_from=yesterday"])
def test_bad_parameters_are_2001(query: str) -> None:
    with CpoSimulator(location_count=5) as sim:
        response = httpx.get(
            f"{sim.base_url}/ocpi/2.2.1/locations?{query}", headers=headers_for(sim)
        )
    assert response.json()["status_code"] == 2001


def test_221_location_shape() -> None:
    with CpoSimulator(location_count=3, country_code="BE", party_id="XYZ") as sim:
        response = httpx.get(f"{sim.base_url}/ocpi/2.2.1/locations", headers=headers_for(sim))
    location = response.json()["data"][2]
    assert (location["country_code"], location["party_id"], location["id"]) == (
        "BE",
        "XYZ",
        "LOC00003",
    )
    assert location["publish"] is True and location["country"] == "BEL"
    assert re.fullmatch(r"-?[0-9]{1,2}\.[0-9]{5,7}", location["coordinates"]["latitude"])
    assert len(location["evses"]) == 2
    for evse in location["evses"]:
        assert len(evse["connectors"]) == 2
        for connector in evse["connectors"]:
            assert {"max_voltage", "max_amperage", "tariff_ids"} <= set(connector)
            assert "voltage" not in connector
    assert response.headers["OCPI-from-party-id"] == "XYZ"


def test_211_location_shape() -> None:
    with CpoSimulator(versions=("2.1.1",), location_count=2) as sim:
        response = httpx.get(
            f"{sim.base_url}/ocpi/2.1.1/locations", headers=headers_for(sim, "2.1.1")
        )
    location = response.json()["data"][0]
    assert location["type"] == "ON_STREET"
    assert not {"country_code", "party_id", "publish", "parking_type"} & set(location)
    assert re.fullmatch(r"-?[0-9]{1,2}\.[0-9]{6}", location["coordinates"]["latitude"])
    assert location["postal_code"]
    connector = location["evses"][0]["connectors"][0]
    assert {"voltage", "amperage", "tariff_id"} <= set(connector)
    assert not {"max_voltage", "tariff_ids", "max_electric_power"} & set(connector)
    assert "OCPI-from-party-id" not in response.headers


def test_one_location_evse_or_connector_by_id() -> None:
    with CpoSimulator(location_count=3) as sim:
        headers = headers_for(sim)
        base = f"{sim.base_url}/ocpi/2.2.1/locations"
        location = httpx.get(f"{base}/LOC00002", headers=headers).json()["data"]
        evse = httpx.get(f"{base}/LOC00002/LOC00002-2", headers=headers).json()["data"]
        connector = httpx.get(f"{base}/LOC00002/LOC00002-2/1", headers=headers).json()["data"]
        unknown = httpx.get(f"{base}/LOC00004", headers=headers)
    assert location == sim.location(1)
    assert evse == location["evses"][1]
    assert connector == evse["connectors"][0]
    assert unknown.status_code == 404 and unknown.json()["status_code"] == 2003


def test_the_same_page_twice_is_identical() -> None:
    with CpoSimulator(location_count=120, page_size=50) as sim:
        url, headers = f"{sim.base_url}/ocpi/2.2.1/locations?offset=50", headers_for(sim)
        first, second = httpx.get(url, headers=headers), httpx.get(url, headers=headers)
    assert first.json()["data"] == second.json()["data"]
