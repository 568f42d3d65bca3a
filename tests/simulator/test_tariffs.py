"""The Tariffs Sender: the catalogue the connectors name, paged like the locations (§5, T-19)."""

from decimal import Decimal

import httpx
import pytest

from cpo_simulator import CpoSimulator
from cpo_simulator.transport import load_json
from tests.simulator.pulling import crawl, headers_for, stamp


def tariffs(sim: CpoSimulator, version: str = "2.2.1", query: str = "") -> list[dict]:
    url = f"{sim.base_url}/ocpi/{version}/tariffs{query}"
    return [
        t for page in crawl(url, headers_for(sim, version)) for t in load_json(page.content)["data"]
    ]


def incl_vat(component: dict) -> Decimal:
    return component["price"] * (1 + component["vat"] / 100)


def test_the_default_catalogue_is_the_ac_and_the_dc_tariff_the_connectors_name() -> None:
    with CpoSimulator(location_count=3) as sim:
        served = tariffs(sim)
        named = {
            tariff_id
            for index in range(3)
            for evse in sim.location(index)["evses"]
            for connector in evse["connectors"]
            for tariff_id in connector["tariff_ids"]
        }
    assert [t["id"] for t in served] == ["TARIFF-AC", "TARIFF-DC"]
    assert named == {"TARIFF-AC", "TARIFF-DC"}
    ac = sim.location(0)["evses"][0]
    assert ac["connectors"][0]["power_type"].startswith("AC")
    assert ac["connectors"][0]["tariff_ids"] == ["TARIFF-AC"]


def test_a_221_tariff_is_a_realistic_regular_tariff_with_vat() -> None:
    with CpoSimulator(country_code="DE", party_id="ABC") as sim:
        ac, dc = tariffs(sim)
    assert (ac["country_code"], ac["party_id"], ac["currency"], ac["type"]) == (
        "DE",
        "ABC",
        "EUR",
        "REGULAR",
    )
    start, energy, blocking = (element["price_components"][0] for element in ac["elements"])
    assert (start["type"], energy["type"], blocking["type"]) == ("FLAT", "ENERGY", "TIME")
    assert {start["vat"], energy["vat"], blocking["vat"]} == {Decimal("19.0")}  # DE's rate
    assert incl_vat(energy).quantize(Decimal("0.01")) == Decimal("0.59")
    assert incl_vat(start).quantize(Decimal("0.01")) == Decimal("0.50")
    assert ac["elements"][2]["restrictions"] == {"min_duration": 4 * 3600}
    assert incl_vat(dc["elements"][1]["price_components"][0]).quantize(Decimal("0.01")) == (
        Decimal("0.79")
    )
    for component in (start, energy, blocking):
        assert component["price"] == component["price"].quantize(Decimal("0.0001"))
        assert isinstance(component["step_size"], int)
    assert ac["last_updated"] == stamp(0) and dc["last_updated"] == stamp(1)
    assert {text["language"] for text in ac["tariff_alt_text"]} == {"en", "de"}


def test_a_211_tariff_has_no_vat_type_party_or_price_limits() -> None:
    with CpoSimulator(versions=("2.1.1",), ad_hoc_tariffs=True) as sim:
        served = tariffs(sim, "2.1.1")
    assert [t["id"] for t in served] == ["TARIFF-AC", "TARIFF-DC"]  # no twins: no type in 2.1.1
    for tariff in served:
        assert not {"country_code", "party_id", "type", "min_price", "max_price"} & set(tariff)
        assert not {"start_date_time", "end_date_time"} & set(tariff)
        for element in tariff["elements"]:
            for component in element["price_components"]:
                assert "vat" not in component
    energy = served[0]["elements"][1]["price_components"][0]
    assert energy["price"] == Decimal("0.4876")  # excl. NL's 21 % VAT, as 2.1.1 prices are


def test_ad_hoc_tariffs_stand_beside_the_regular_ones_on_every_connector() -> None:
    with CpoSimulator(location_count=4, ad_hoc_tariffs=True) as sim:
        served = {t["id"]: t for t in tariffs(sim)}
        connectors = [
            connector
            for index in range(4)
            for evse in sim.location(index)["evses"]
            for connector in evse["connectors"]
        ]
    assert list(served) == ["TARIFF-AC", "TARIFF-AC-ADHOC", "TARIFF-DC", "TARIFF-DC-ADHOC"]
    assert served["TARIFF-AC-ADHOC"]["type"] == "AD_HOC_PAYMENT"
    assert served["TARIFF-AC"]["type"] == "REGULAR"
    ad_hoc = served["TARIFF-AC-ADHOC"]["elements"][0]["price_components"][0]
    assert ad_hoc["type"] == "ENERGY"  # no start fee for the card payer
    assert incl_vat(ad_hoc).quantize(Decimal("0.01")) == Decimal("0.69")
    for connector in connectors:
        regular, twin = connector["tariff_ids"]
        assert twin == regular + "-ADHOC"
        assert served[regular]["type"] == "REGULAR"


def test_more_tariffs_spread_over_the_locations_and_every_named_one_exists() -> None:
    with CpoSimulator(location_count=12, tariff_count=5) as sim:
        served = {t["id"] for t in tariffs(sim)}
        named = {
            tariff_id
            for index in range(12)
            for evse in sim.location(index)["evses"]
            for connector in evse["connectors"]
            for tariff_id in connector["tariff_ids"]
        }
    assert served == {"TARIFF-AC", "TARIFF-DC", "TARIFF-AC-2", "TARIFF-DC-2", "TARIFF-AC-3"}
    assert named == served


def test_one_tariff_serves_every_connector_and_none_leaves_them_without() -> None:
    with CpoSimulator(location_count=2, tariff_count=1) as one:
        assert [t["id"] for t in tariffs(one)] == ["TARIFF-AC"]
        dc_connector = one.location(1)["evses"][1]["connectors"][0]
        assert dc_connector["power_type"] == "DC" and dc_connector["tariff_ids"] == ["TARIFF-AC"]
    with CpoSimulator(versions=("2.1.1",), location_count=2, tariff_count=0) as none:
        assert tariffs(none, "2.1.1") == []
        connector = none.location(0, "2.1.1")["evses"][0]["connectors"][0]
        assert "tariff_id" not in connector


def test_the_list_pages_and_filters_exactly_like_the_locations() -> None:
    with CpoSimulator(tariff_count=9, ad_hoc_tariffs=True, page_size=4) as sim:
        headers = headers_for(sim)
        pages = list(crawl(f"{sim.base_url}/ocpi/2.2.1/tariffs", headers))
        window = list(
            crawl(
                f"{sim.base_url}/ocpi/2.2.1/tariffs?date_from={stamp(3)}&date_to={stamp(10)}"
                "&limit=3",
                headers,
            )
        )
        capped = httpx.get(f"{sim.base_url}/ocpi/2.2.1/tariffs?limit=100", headers=headers)
    assert [len(page.json()["data"]) for page in pages] == [4, 4, 4, 4, 2]
    assert {page.headers["X-Total-Count"] for page in pages} == {"18"}
    assert {page.headers["X-Limit"] for page in pages} == {"4"}
    assert "Link" not in pages[-1].headers
    in_window = [t["last_updated"] for page in window for t in page.json()["data"]]
    assert in_window == [stamp(s) for s in range(3, 10)]
    assert {page.headers["X-Total-Count"] for page in window} == {"7"}
    assert "date_from=" in window[0].headers["Link"] and "limit=3" in window[0].headers["Link"]
    assert len(capped.json()["data"]) == 4


def test_one_tariff_by_id_and_an_unknown_one() -> None:
    with CpoSimulator() as sim:
        headers = headers_for(sim)
        found = httpx.get(f"{sim.base_url}/ocpi/2.2.1/tariffs/TARIFF-DC", headers=headers)
        unknown = httpx.get(f"{sim.base_url}/ocpi/2.2.1/tariffs/TARIFF-XX", headers=headers)
        put = httpx.put(f"{sim.base_url}/ocpi/2.2.1/tariffs", json={}, headers=headers)
    assert load_json(found.content)["data"] == sim.tariff("TARIFF-DC")
    assert unknown.status_code == 404 and unknown.json()["status_code"] == 2000
    assert put.status_code == 405


@pytest.mark.parametrize(
    "options",
    [{"tariff_count": -1}, {"evses_per_location": -1}, {"connectors_per_evse": 0}],
)
def test_an_impossible_fleet_is_refused(options: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        CpoSimulator(**options)
