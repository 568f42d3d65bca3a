"""What a driver sees before paying: the price list in German or English and what 10, 20 and
40 kWh cost at the connector's power, incl. VAT (2.1.1: the country's rate added)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from stations.models import Connector
from stations.tariffs import connector_power_kw, shown_price, vat_rate
from tests.stations.station_data import energy, store_location, store_tariff

pytestmark = pytest.mark.django_db

D = Decimal
NOON = datetime(2026, 6, 1, 12, tzinfo=UTC)
# A start fee, energy, and charging time after 3 h; 19 % VAT everywhere.
BERLIN_AD_HOC = [
    {
        "price_components": [
            {"type": "FLAT", "price": "1.00", "vat": "19", "step_size": 1},
            {"type": "ENERGY", "price": "0.50", "vat": "19", "step_size": 1},
        ]
    },
    {
        "price_components": [{"type": "TIME", "price": "3.00", "vat": "19", "step_size": 60}],
        "restrictions": {"min_duration": 3 * 3600},
    },
]


@pytest.fixture
def berlin() -> Connector:
    """AC, three phases, 230 V, 16 A: 11.04 kW."""
    store_tariff(
        BERLIN_AD_HOC,
        tariff_id="ADHOC",
        type="AD_HOC_PAYMENT",
        tariff_alt_text=[
            {"language": "en", "text": "Card payment at the charger"},
            {"language": "de", "text": "Kartenzahlung an der Säule"},
        ],
    )
    return store_location(tariff_ids=["ADHOC"])


def test_the_price_reads_in_german_with_estimates(berlin: Connector) -> None:
    shown = shown_price(berlin, at=NOON, locale="de")
    assert shown.lines == (
        "0,595 € pro kWh",
        "0,0595 € pro Minute Ladezeit nach 3 h (abgerechnet je angefangene Minute)",
        "1,19 € je Ladevorgang",
    )
    # 10 kWh: 1.00 + 5.00; 40 kWh take 217.4 min, 38 started minutes after 3 h at 3.00 €/h
    assert [e.text for e in shown.estimates] == [
        "10 kWh ≈ 7,14 €",
        "20 kWh ≈ 13,09 €",
        "40 kWh ≈ 27,25 €",
    ]
    assert shown.alt_text == "Kartenzahlung an der Säule"
    assert shown.unpriceable_reason is None


def test_the_price_reads_in_english_with_estimates(berlin: Connector) -> None:
    shown = shown_price(berlin, at=NOON, locale="en")
    assert shown.lines == (
        "€0.595 per kWh",
        "€0.0595 per minute charging after 3 h (billed per started minute)",
        "€1.19 per session",
    )
    assert [e.text for e in shown.estimates] == [
        "10 kWh ≈ €7.14",
        "20 kWh ≈ €13.09",
        "40 kWh ≈ €27.25",
    ]
    assert shown.alt_text == "Card payment at the charger"


def test_estimates_are_exact_and_rounded_only_for_display(berlin: Connector) -> None:
    shown = shown_price(berlin, at=NOON, locale="de")
    forty = shown.estimates[2]
    assert forty.energy_kwh == D(40)
    assert forty.cost.excl_vat == D("22.90")  # 20.00 energy + 1.00 flat + 38 min at 3.00 €/h
    assert forty.amount == D("27.25")
    assert forty.incl_vat
    assert shown.power_kw == D("11.04")
    assert shown.currency == "EUR"
    assert shown.time_zone == "Europe/Berlin"
    assert shown.tariff.ocpi_id == "ADHOC"


def test_a_211_tariff_is_shown_with_the_countrys_vat_added() -> None:
    store_tariff([energy("0.50", vat=None)], version="2.1.1", tariff_id="11")
    connector = store_location(version="2.1.1", country="AUT", time_zone=None, tariff_ids=["11"])
    shown = shown_price(connector, at=NOON, locale="de")
    assert shown.vat_fallback == D(20)
    assert shown.lines == ("0,60 € pro kWh",)
    assert shown.estimates[1].text == "20 kWh ≈ 12,00 €"


def test_without_a_known_vat_rate_a_211_price_says_it_excludes_vat() -> None:
    store_tariff([energy("0.50", vat=None)], version="2.1.1", tariff_id="11")
    connector = store_location(version="2.1.1", country="ESP", time_zone=None, tariff_ids=["11"])
    german = shown_price(connector, at=NOON, locale="de")
    english = shown_price(connector, at=NOON, locale="en")
    assert german.vat_fallback is None
    assert german.lines == ("0,50 € pro kWh (zzgl. MwSt.)",)
    assert german.estimates[1].text == "20 kWh ≈ 10,00 € zzgl. MwSt."
    assert not german.estimates[1].incl_vat
    assert english.estimates[1].text == "20 kWh ≈ €10.00 excl. VAT"


def test_the_vat_setting_overrides_the_built_in_rates(settings) -> None:
    settings.VAT_FALLBACK_RATES = {"ESP": "21", "AT": 10}
    assert vat_rate("ESP") == D(21)
    assert vat_rate("ES") == D(21)
    assert vat_rate("AUT") == D(10)
    assert vat_rate("DEU") is None  # the setting replaces the table, it does not extend it
    settings.VAT_FALLBACK_RATES = {"DE": 19.0}
    with pytest.raises(ImproperlyConfigured, match="VAT_FALLBACK_RATES"):
        vat_rate("DEU")


def test_the_built_in_vat_rates_answer_to_both_country_codes() -> None:
    assert vat_rate("DEU") == vat_rate("DE") == D(19)
    assert vat_rate("CHE") == D("8.1")
    assert vat_rate("ESP") is None  # the Canary Islands charge IGIC, not VAT
    assert vat_rate("XYZ") is None


def test_current_restrictions_see_the_current_summed_over_phases() -> None:
    """3 × 16 A = 48 A: the "below 32 A" price does not apply to this connector."""
    store_tariff([energy("0.30", max_current="32"), energy("0.60")], tariff_id="AMP")
    shown = shown_price(store_location(tariff_ids=["AMP"]), at=NOON, locale="en")
    assert shown.estimates[0].cost.excl_vat == D("6.00")


@pytest.mark.parametrize(
    ("power_type", "voltage", "amperage", "watts", "kw"),
    [
        ("AC_1_PHASE", 230, 16, None, "3.68"),
        ("AC_2_PHASE", 230, 16, None, "7.36"),
        ("AC_2_PHASE_SPLIT", 120, 40, None, "9.6"),
        ("AC_3_PHASE", 230, 32, None, "22.08"),
        ("DC", 500, 125, None, "62.5"),
        ("DC", 920, 500, 150000, "150"),  # the stated power wins over voltage × amperage
        ("AC_3_PHASE", 0, 0, None, None),
    ],
)
def test_the_connectors_power_comes_from_its_own_numbers(
    power_type: str, voltage: int, amperage: int, watts: int | None, kw: str | None
) -> None:
    connector = Connector(
        power_type=power_type,
        max_voltage=voltage,
        max_amperage=amperage,
        max_electric_power=watts,
    )
    assert connector_power_kw(connector) == (None if kw is None else D(kw))


def test_a_connector_that_states_no_power_shows_the_price_list_without_estimates() -> None:
    store_tariff([energy("0.50")], tariff_id="T1")
    connector = store_location(voltage=0, amperage=0, tariff_ids=["T1"])
    shown = shown_price(connector, at=NOON, locale="de")
    assert shown.lines == ("0,595 € pro kWh",)
    assert shown.estimates == ()
    assert "power" in shown.unpriceable_reason


def test_a_connector_without_an_applicable_tariff_shows_nothing() -> None:
    assert shown_price(store_location(tariff_ids=["MISSING"]), at=NOON, locale="de") is None
