"""Which clock a tariff's time restrictions read: the location's `time_zone`, else (2.1.1 often
has none) its country's when the country keeps one clock; otherwise the time-dependent tariff
is flagged as unpriceable there, and a tariff that does not need the clock is still priced."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from stations.models import Location
from stations.tariffs import COUNTRY_ZONES, shown_price, unpriceable_locations, zone_for
from tests.stations.station_data import energy, store_location, store_tariff

D = Decimal
# Winter: 21:30 UTC is 22:30 in Vienna and Madrid, 21:30 in the Canaries.
EVENING = datetime(2026, 1, 15, 21, 30, tzinfo=UTC)
NIGHT_RATE = [  # 2.1.1: prices excl. VAT, none stated
    energy("0.30", vat=None, start_time="22:00", end_time="06:00"),
    energy("0.50", vat=None),
]


def location(time_zone: str = "", country: str = "DEU") -> Location:
    return Location(time_zone=time_zone, country=country)


def test_the_locations_own_time_zone_is_used() -> None:
    assert zone_for(location("Europe/Lisbon", "PRT")) == "Europe/Lisbon"
    assert zone_for(location("Atlantic/Canary", "ESP")) == "Atlantic/Canary"


def test_without_a_time_zone_a_single_zone_country_gives_its_zone() -> None:
    assert zone_for(location("", "AUT")) == "Europe/Vienna"
    assert zone_for(location("", "CHE")) == "Europe/Zurich"
    assert zone_for(location("", "be")) == "Europe/Brussels"  # alpha-2, as 2.1.1's example


def test_a_time_zone_nobody_knows_falls_back_to_the_country() -> None:
    assert zone_for(location("Mars/Olympus_Mons", "DEU")) == "Europe/Berlin"


@pytest.mark.parametrize("country", ["ESP", "PRT", "USA", "RUS", "AUS", "XXX", ""])
def test_a_country_with_several_zones_or_none_known_gives_no_zone(country: str) -> None:
    assert zone_for(location("", country)) is None


def test_every_zone_in_the_country_table_exists() -> None:
    for alpha3, (alpha2, zone) in COUNTRY_ZONES.items():
        assert len(alpha3) == 3 and len(alpha2) == 2
        if zone is not None:
            ZoneInfo(zone)


def test_covers_the_eea_switzerland_and_the_united_kingdom() -> None:
    eea = "AUT BEL BGR HRV CYP CZE DNK EST FIN FRA DEU GRC HUN IRL ITA LVA LTU LUX MLT NLD POL"
    eea += " PRT ROU SVK SVN ESP SWE ISL LIE NOR CHE GBR"
    assert set(eea.split()) <= set(COUNTRY_ZONES)


@pytest.mark.django_db
def test_a_211_location_without_zone_in_a_single_zone_country_is_priced_in_local_time() -> None:
    store_tariff(NIGHT_RATE, version="2.1.1", tariff_id="11")
    connector = store_location(version="2.1.1", country="AUT", time_zone=None, tariff_ids=["11"])
    shown = shown_price(connector, at=EVENING, locale="en")
    assert shown.time_zone == "Europe/Vienna"
    assert shown.estimates[0].cost.excl_vat == D("3.00")  # 22:30 in Vienna: the night rate


@pytest.mark.django_db
def test_a_time_dependent_tariff_in_a_multi_zone_country_is_flagged_not_guessed() -> None:
    store_tariff(NIGHT_RATE, version="2.1.1", tariff_id="11")
    connector = store_location(version="2.1.1", country="ESP", time_zone=None, tariff_ids=["11"])
    shown = shown_price(connector, at=EVENING, locale="de")
    assert shown.time_zone is None
    assert shown.estimates == ()
    assert shown.unpriceable_reason == (
        "its prices depend on the local time, but it names no time zone and ESP has more than one"
    )
    assert shown.lines == (  # the price list itself needs no clock
        "0,30 € pro kWh 22:00\u201306:00 (zzgl. MwSt.)",
        "0,50 € pro kWh (zzgl. MwSt.)",
    )
    [(flagged, reason)] = unpriceable_locations(shown.tariff)
    assert flagged.pk == connector.evse.location.pk
    assert reason == shown.unpriceable_reason


@pytest.mark.django_db
def test_a_tariff_without_time_restrictions_is_priced_in_a_multi_zone_country() -> None:
    store_tariff([energy("0.50", vat=None)], version="2.1.1", tariff_id="11")
    connector = store_location(version="2.1.1", country="ESP", time_zone=None, tariff_ids=["11"])
    shown = shown_price(connector, at=EVENING, locale="en")
    assert shown.unpriceable_reason is None
    assert shown.estimates[0].cost.excl_vat == D("5.00")
    assert unpriceable_locations(shown.tariff) == []


@pytest.mark.django_db
def test_locations_with_a_known_zone_are_not_flagged() -> None:
    tariff = store_tariff(NIGHT_RATE, version="2.1.1", tariff_id="11")
    store_location(version="2.1.1", country="ESP", time_zone="Europe/Madrid", tariff_ids=["11"])
    store_location(
        version="2.1.1", location_id="LOC2", country="DEU", time_zone=None, tariff_ids=["11"]
    )
    store_location(version="2.1.1", location_id="LOC3", country="USA", time_zone=None)
    assert unpriceable_locations(tariff) == []
