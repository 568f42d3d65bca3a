"""What pricing reads from a CDR (and a Session's charging periods), in 2.2.1 and in 2.1.1's
differences: `location` for `cdr_location`, `stop_date_time`, a plain `total_cost` excl. VAT, no
`tariff_id` on periods, and FLAT as a dimension."""

import copy
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rest_framework.serializers import ValidationError

from ocpi_peer import versions
from stations.pricing import Price
from stations.tariffs import CdrPricing, TariffPeriod, cdr_pricing, tariff_period
from tests.ocpi.examples import example

D = Decimal
V221 = versions.get("2.2.1")
V211 = versions.get("2.1.1")

# The 2.1.1 spec's CDR example (mod_cdrs.md), with a FLAT dimension added to its period.
CDR_211 = {
    "id": "12345",
    "start_date_time": "2015-06-29T21:39:09Z",
    "stop_date_time": "2015-06-29T23:37:32Z",
    "auth_id": "DE8ACC12E46L89",
    "auth_method": "WHITELIST",
    "location": {
        "id": "LOC1",
        "type": "ON_STREET",
        "name": "Gent Zuid",
        "address": "F.Rooseveltlaan 3A",
        "city": "Gent",
        "postal_code": "9000",
        "country": "BE",
        "coordinates": {"latitude": "3.729944", "longitude": "51.047599"},
        "evses": [],
        "last_updated": "2015-06-29T21:39:01Z",
    },
    "currency": "EUR",
    "tariffs": [
        {
            "id": "12",
            "currency": "EUR",
            "elements": [
                {"price_components": [{"type": "TIME", "price": "2.00", "step_size": 300}]}
            ],
            "last_updated": "2015-02-02T14:15:01Z",
        }
    ],
    "charging_periods": [
        {
            "start_date_time": "2015-06-29T21:39:09Z",
            "dimensions": [{"type": "TIME", "volume": D("1.973")}, {"type": "FLAT", "volume": 1}],
        }
    ],
    "total_cost": D("4.00"),
    "total_energy": D("15.342"),
    "total_time": D("1.973"),
    "last_updated": "2015-06-29T22:01:13Z",
}


def test_the_official_cdr_reads_into_what_pricing_needs() -> None:
    cdr = cdr_pricing(V221.read(V221.cdr_pricing, example("cdr_example.json")))
    assert isinstance(cdr, CdrPricing)
    assert cdr.start == datetime(2015, 6, 29, 21, 39, 9, tzinfo=UTC)
    assert cdr.end == datetime(2015, 6, 29, 23, 37, 32, tzinfo=UTC)
    assert cdr.currency == "EUR"
    assert cdr.country == "BEL"
    assert cdr.time_zone == "Europe/Brussels"  # CdrLocation has no time_zone; Belgium has one
    assert cdr.total_cost == Price(D("4.00"), D("4.40"))
    assert (cdr.total_energy, cdr.total_time, cdr.total_parking_time) == (
        D("15.342"),
        D("1.973"),
        None,
    )
    [period] = cdr.periods
    assert period.tariff_id == "12"
    assert dict(period.period.dimensions) == {"TIME": D("1.973")}
    assert list(cdr.tariffs) == ["12"]
    assert cdr.tariffs["12"].elements[0].price_components[0].price == D("2.00")
    assert cdr.tariffs["12"].time_zone == "Europe/Brussels"
    assert cdr.tariff_ids_stated


def test_a_time_zone_in_the_cdr_location_is_used() -> None:
    data = copy.deepcopy(example("cdr_example.json"))
    data["cdr_location"] |= {"country": "ESP", "time_zone": "Atlantic/Canary"}
    assert cdr_pricing(V221.read(V221.cdr_pricing, data)).time_zone == "Atlantic/Canary"
    del data["cdr_location"]["time_zone"]
    spain = cdr_pricing(V221.read(V221.cdr_pricing, data))
    assert spain.time_zone is None  # Spain has two clocks


def test_session_charging_periods_read_with_and_without_a_tariff() -> None:
    periods = example("session_example_2_short_finished.json")["charging_periods"]
    read = [tariff_period(V221.read(V221.charging_period, p)) for p in periods]
    assert [p.tariff_id for p in read] == [None, None, "12"]
    assert dict(read[1].period.dimensions) == {"ENERGY": D(41000), "MIN_CURRENT": D(34)}
    assert all(isinstance(p, TariffPeriod) for p in read)


def test_a_dimension_given_twice_in_one_period_is_refused() -> None:
    period = {
        "start_date_time": "2015-06-29T21:39:09Z",
        "dimensions": [{"type": "ENERGY", "volume": 1}, {"type": "ENERGY", "volume": 2}],
    }
    with pytest.raises(ValidationError, match="ENERGY is given twice"):
        V221.read(V221.charging_period, period)


def test_a_cdr_without_its_totals_is_refused_with_the_field_named() -> None:
    data = copy.deepcopy(example("cdr_example.json"))
    del data["total_cost"]
    with pytest.raises(ValidationError) as refused:
        V221.read(V221.cdr_pricing, data)
    assert "total_cost" in refused.value.detail


def test_221_has_no_flat_dimension() -> None:
    period = {
        "start_date_time": "2015-06-29T21:39:09Z",
        "dimensions": [{"type": "FLAT", "volume": 1}],
    }
    with pytest.raises(ValidationError):
        V221.read(V221.charging_period, period)


def test_a_211_cdr_reads_its_own_shape() -> None:
    cdr = cdr_pricing(V211.read(V211.cdr_pricing, copy.deepcopy(CDR_211)))
    assert cdr.end == datetime(2015, 6, 29, 23, 37, 32, tzinfo=UTC)  # from stop_date_time
    assert cdr.total_cost == Price(D("4.00"), None)  # excl. VAT, nothing said about VAT
    assert cdr.country == "BE"
    assert cdr.time_zone == "Europe/Brussels"
    assert not cdr.tariff_ids_stated
    [period] = cdr.periods
    assert period.tariff_id is None
    assert dict(period.period.dimensions) == {"TIME": D("1.973"), "FLAT": D(1)}
    assert cdr.tariffs["12"].vat_stated is False


def test_a_211_cdr_uses_the_time_zone_of_its_location() -> None:
    data = copy.deepcopy(CDR_211)
    data["location"] |= {"country": "PRT", "time_zone": "Atlantic/Azores"}
    assert cdr_pricing(V211.read(V211.cdr_pricing, data)).time_zone == "Atlantic/Azores"


def test_a_211_period_has_no_tariff_id_to_read() -> None:
    period = {
        "start_date_time": "2015-06-29T21:39:09Z",
        "dimensions": [{"type": "TIME", "volume": 1}],
        "tariff_id": "12",
    }
    assert tariff_period(V211.read(V211.charging_period, period)).tariff_id is None
