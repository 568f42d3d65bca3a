"""What a driver is shown before paying at a 2.3.0 tariff: `tax_included` decides whether the
prices carry tax. Components without `vat` take the country's rate on top (NO), or are the
gross price already (YES); with no tax applicable (N/A) the price is the price."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from stations.tariffs import shown_price
from tests.stations.station_data import store_location, store_tariff

pytestmark = pytest.mark.django_db

D = Decimal
NOON = datetime(2026, 6, 1, 12, tzinfo=UTC)
ENERGY_NO_VAT = [{"price_components": [{"type": "ENERGY", "price": "0.50", "step_size": 1}]}]


def shown_at(tax_included: str, *, country: str = "DEU", time_zone: str = "Europe/Berlin"):
    store_tariff(ENERGY_NO_VAT, version="2.3.0", tariff_id="T", tax_included=tax_included)
    connector = store_location(
        version="2.3.0", tariff_ids=["T"], country=country, time_zone=time_zone
    )
    return shown_price(connector, at=NOON, locale="en")


def test_prices_without_tax_get_the_countrys_rate_on_top() -> None:
    shown = shown_at("NO")
    assert shown.lines == ("€0.595 per kWh",)
    assert shown.not_payable_reason is None
    assert shown.estimates[1].amount == D("11.90")  # 20 kWh at 0.50 + 19 %


def test_prices_without_tax_where_we_know_no_rate_are_not_payable() -> None:
    shown = shown_at("NO", country="CAN", time_zone="America/Toronto")
    assert shown.not_payable_reason is not None
    assert "VAT" in shown.not_payable_reason


def test_prices_with_tax_included_are_what_the_driver_pays() -> None:
    shown = shown_at("YES", country="CAN", time_zone="America/Toronto")
    assert shown.not_payable_reason is None
    assert shown.estimates[1].amount == D("10.00")  # 20 kWh at 0.50, every tax included
    assert shown.estimates[1].incl_vat


def test_with_no_tax_applicable_the_price_is_the_gross_price() -> None:
    shown = shown_at("N/A")
    assert shown.not_payable_reason is None
    assert shown.lines == ("€0.50 per kWh",)
    assert shown.estimates[1].amount == D("10.00")
