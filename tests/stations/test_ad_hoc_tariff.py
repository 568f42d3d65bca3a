"""Which tariff a driver paying by card at the charger gets: AD_HOC_PAYMENT when one is valid,
else REGULAR or untyped, among the connector's tariffs we hold and the CPO has not deleted."""

from datetime import UTC, datetime

import pytest

from stations import services
from stations.tariffs import ad_hoc_tariff
from tests.stations.station_data import energy, partner, store_location, store_tariff

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_a_valid_ad_hoc_payment_tariff_wins_over_a_regular_one_listed_first() -> None:
    store_tariff([energy("0.40")], tariff_id="REG", type="REGULAR")
    store_tariff([energy("0.50")], tariff_id="ADHOC", type="AD_HOC_PAYMENT")
    connector = store_location(tariff_ids=["REG", "ADHOC"])
    assert ad_hoc_tariff(connector, at=NOW).ocpi_id == "ADHOC"


def test_an_expired_ad_hoc_payment_tariff_falls_back_to_the_regular_one() -> None:
    store_tariff(
        [energy("0.50")],
        tariff_id="ADHOC",
        type="AD_HOC_PAYMENT",
        end_date_time="2026-06-01T12:00:00Z",  # ends exactly now: no longer valid
    )
    store_tariff([energy("0.40")], tariff_id="REG", type="REGULAR")
    connector = store_location(tariff_ids=["ADHOC", "REG"])
    assert ad_hoc_tariff(connector, at=NOW).ocpi_id == "REG"


def test_an_ad_hoc_payment_tariff_applies_from_its_start_and_not_before() -> None:
    store_tariff(
        [energy("0.50")],
        tariff_id="NEXT",
        type="AD_HOC_PAYMENT",
        start_date_time="2026-06-01T12:00:00Z",
    )
    store_tariff([energy("0.40")], tariff_id="REG", type="REGULAR")
    connector = store_location(tariff_ids=["NEXT", "REG"])
    assert ad_hoc_tariff(connector, at=NOW).ocpi_id == "NEXT"
    assert ad_hoc_tariff(connector, at=datetime(2026, 6, 1, 11, 59, tzinfo=UTC)).ocpi_id == "REG"


def test_an_untyped_tariff_applies_to_ad_hoc_payment() -> None:
    store_tariff([energy("0.30")], tariff_id="CHEAP", type="PROFILE_CHEAP")
    store_tariff([energy("0.45")], tariff_id="ANY")
    connector = store_location(tariff_ids=["CHEAP", "ANY"])
    assert ad_hoc_tariff(connector, at=NOW).ocpi_id == "ANY"


def test_a_connector_with_only_profile_tariffs_has_no_ad_hoc_price() -> None:
    store_tariff([energy("0.30")], tariff_id="CHEAP", type="PROFILE_CHEAP")
    connector = store_location(tariff_ids=["CHEAP"])
    assert ad_hoc_tariff(connector, at=NOW) is None


def test_deleted_tariffs_are_ignored() -> None:
    store_tariff([energy("0.50")], tariff_id="ADHOC", type="AD_HOC_PAYMENT")
    store_tariff([energy("0.40")], tariff_id="REG", type="REGULAR")
    services.delete_tariff(partner=partner(), country_code="DE", party_id="ABC", tariff_id="ADHOC")
    connector = store_location(tariff_ids=["ADHOC", "REG"])
    assert ad_hoc_tariff(connector, at=NOW).ocpi_id == "REG"


def test_only_tariffs_of_the_locations_own_party_count() -> None:
    store_tariff([energy("0.10")], tariff_id="T1", party_id="XYZ", type="AD_HOC_PAYMENT")
    connector = store_location(tariff_ids=["T1"])
    assert ad_hoc_tariff(connector, at=NOW) is None
    store_tariff([energy("0.40")], tariff_id="T1")
    assert ad_hoc_tariff(connector, at=NOW).party_id == "ABC"


def test_tariff_ids_match_whatever_their_case() -> None:
    store_tariff([energy("0.40")], tariff_id="reg-1")
    connector = store_location(tariff_ids=["REG-1"])
    assert ad_hoc_tariff(connector, at=NOW).ocpi_id == "reg-1"


def test_the_connectors_order_decides_between_two_tariffs_of_one_kind() -> None:
    store_tariff([energy("0.40")], tariff_id="A")
    store_tariff([energy("0.45")], tariff_id="B")
    assert ad_hoc_tariff(store_location(tariff_ids=["B", "A"]), at=NOW).ocpi_id == "B"


def test_a_211_connectors_single_tariff_is_the_tariff() -> None:
    store_tariff([energy("0.40", vat=None)], version="2.1.1", tariff_id="11")
    connector = store_location(version="2.1.1", time_zone=None, tariff_ids=["11"])
    chosen = ad_hoc_tariff(connector, at=NOW)
    assert chosen.ocpi_id == "11"
    assert chosen.vat_stated is False


def test_a_connector_without_tariffs_has_none() -> None:
    assert ad_hoc_tariff(store_location(tariff_ids=[]), at=NOW) is None


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        ad_hoc_tariff(store_location(tariff_ids=["X"]), at=datetime(2026, 6, 1, 12))
