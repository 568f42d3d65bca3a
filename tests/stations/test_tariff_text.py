"""The price list a driver reads, in German and English, and the "20 kWh ≈ 11,80 €" line."""

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from stations import l10n
from stations.money import round_to_minor
from stations.pricing import (
    Price,
    PriceComponent,
    Tariff,
    TariffElement,
    TariffRestrictions,
    estimate,
)
from stations.wording import describe_tariff
from tests.stations.tariff_json import load_example, read_tariff

D = Decimal


def format_amount(amount: Decimal, currency: str, locale: l10n.Locale) -> str:
    with translation.override(locale):
        return l10n.amount(amount, currency)


# Vienna, 20 % VAT: a start fee, energy, charging time after 4 h, parking by day, a cap.
VIENNA = Tariff(
    currency="EUR",
    elements=(
        TariffElement(
            (
                PriceComponent("FLAT", D("1.00"), D(20), 1),
                PriceComponent("ENERGY", D("0.50"), D(20), 1),
            )
        ),
        TariffElement(
            (PriceComponent("TIME", D("5.00"), D(20), 60),),
            TariffRestrictions(min_duration=4 * 3600),
        ),
        TariffElement(
            (PriceComponent("PARKING_TIME", D("6.00"), D(20), 900),),
            TariffRestrictions(
                start_time=time(8),
                end_time=time(20),
                day_of_week=frozenset(
                    {"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"}
                ),
            ),
        ),
    ),
    max_price=Price(D("30.00"), D("36.00")),
    time_zone="Europe/Vienna",
)


def test_a_tariff_reads_in_german() -> None:
    assert " · ".join(describe_tariff(VIENNA, "de")) == (
        "0,60 € pro kWh"
        " · 0,10 € pro Minute Ladezeit nach 4 h (abgerechnet je angefangene Minute)"
        " · 1,20 € je Ladevorgang"
        " · 0,12 € pro Minute Standzeit ohne Laden Mo\u2013Sa, 08:00\u201320:00"
        " (abgerechnet je angefangene 15 min)"
        " · höchstens 36,00 € je Ladevorgang"
    )


def test_a_tariff_reads_in_english() -> None:
    assert describe_tariff(VIENNA, "en") == [
        "€0.60 per kWh",
        "€0.10 per minute charging after 4 h (billed per started minute)",
        "€1.20 per session",
        "€0.12 per minute parked without charging Mon\u2013Sat, 08:00\u201320:00"
        " (billed per started 15 min)",
        "maximum €36.00 per session",
    ]


def test_the_complex_example_reads_in_german() -> None:
    """tariff_4: time is per minute even where that is not a whole cent (1.25 €/h plus 20 %
    is 0,025 € a minute); the session fee follows the time prices, the parking fees last."""
    tariff = read_tariff(load_example("tariff_4_complex.json"))
    assert describe_tariff(tariff, "de") == [
        "0,02 € pro Minute Ladezeit unter 32 A (abgerechnet je angefangene 15 min)",
        "0,04 € pro Minute Ladezeit Mo\u2013Fr, ab 32 A (abgerechnet je angefangene 10 min)",
        "0,025 € pro Minute Ladezeit am Wochenende, ab 32 A (abgerechnet je angefangene 10 min)",
        "2,875 € je Ladevorgang",
        "0,0917 € pro Minute Standzeit ohne Laden Mo\u2013Fr, 09:00\u201318:00"
        " (abgerechnet je angefangene 5 min)",
        "0,11 € pro Minute Standzeit ohne Laden samstags, 10:00\u201317:00"
        " (abgerechnet je angefangene 5 min)",
    ]


def test_the_step_size_example_reads_in_english() -> None:
    """tariff_14 has no VAT: the prices are shown as they are; 00:00 as an end is 24:00. The
    charging prices come first, the parking fees (1.00 €/h is 0.0167 a minute) after them."""
    tariff = read_tariff(load_example("tariff_14_step_size.json"))
    assert describe_tariff(tariff, "en") == [
        "€0.02 per minute charging 00:00\u201317:00 (billed per started 30 min)",
        "€0.04 per minute charging 17:00\u201320:00 (billed per started 15 min)",
        "€0.04 per minute charging 20:00\u201324:00 (billed per started 15 min)",
        "€0.0167 per minute parked without charging 00:00\u201317:00 (billed per started 15 min)",
        "€0.0167 per minute parked without charging 17:00\u201320:00 (billed per started 15 min)",
    ]


def test_a_minimum_price_is_not_a_start_fee() -> None:
    tariff = read_tariff(load_example("tariff_12_025kwh_min_price.json"))
    assert describe_tariff(tariff, "en") == ["€0.275 per kWh", "minimum €0.55 per session"]
    assert describe_tariff(tariff, "de") == ["0,275 € pro kWh", "mindestens 0,55 € je Ladevorgang"]


def test_reservation_prices_read_apart_from_the_session() -> None:
    tariff = read_tariff(load_example("tariff_17_reservation_with_expire_fee.json"))
    assert describe_tariff(tariff, "de") == [
        "0,275 € pro kWh",
        "0,60 € je Ladevorgang",
        "4,80 € bei verfallener Reservierung",
        "0,04 € pro Minute Reservierung (abgerechnet je angefangene 10 min)",
    ]
    assert describe_tariff(tariff, "en")[2:] == [
        "€4.80 if a reservation expires",
        "€0.04 per minute reserved (billed per started 10 min)",
    ]


def test_a_free_tariff_says_so() -> None:
    tariff = read_tariff(load_example("tariff_5_free_of_charge.json"))
    assert describe_tariff(tariff, "de") == ["Kostenlos"]
    assert describe_tariff(tariff, "en") == ["Free of charge"]


def test_a_2_1_1_price_without_our_vat_rate_says_it_excludes_vat() -> None:
    tariff = Tariff(
        currency="EUR",
        elements=(TariffElement((PriceComponent("ENERGY", D("0.25"), None, 100),)),),
        vat_stated=False,
    )
    assert describe_tariff(tariff, "de") == [
        "0,25 € pro kWh (abgerechnet je angefangene 0,1 kWh; zzgl. MwSt.)"
    ]
    assert describe_tariff(tariff, "de", vat_fallback=D(19)) == [
        "0,2975 € pro kWh (abgerechnet je angefangene 0,1 kWh)"
    ]


def test_a_component_that_can_never_apply_is_left_out() -> None:
    tariff = Tariff(
        currency="GBP",
        elements=(
            TariffElement((PriceComponent("ENERGY", D("0.40"), None, 1),)),
            TariffElement(
                (PriceComponent("ENERGY", D("0.20"), None, 1),),
                TariffRestrictions(start_time=time(0), end_time=time(6)),
            ),
        ),
    )
    assert describe_tariff(tariff, "en") == ["£0.40 per kWh"]
    assert describe_tariff(tariff, "de") == ["0,40 £ pro kWh"]


RESTRICTIONS: list[tuple[dict[str, Any], str, str]] = [
    ({"day_of_week": {"SATURDAY", "SUNDAY"}}, "on weekends", "am Wochenende"),
    ({"day_of_week": {"MONDAY", "WEDNESDAY", "FRIDAY"}}, "Mon, Wed, Fri", "Mo, Mi, Fr"),
    ({"day_of_week": {"SUNDAY"}}, "on Sundays", "sonntags"),
    ({"start_time": time(22), "end_time": time(6)}, "22:00\u201306:00", "22:00\u201306:00"),
    ({"start_time": time(18)}, "from 18:00", "ab 18:00"),
    (
        {"start_date": date(2024, 12, 24), "end_date": date(2024, 12, 27)},
        "2024-12-24 to 2024-12-26",
        "24.12.2024\u201326.12.2024",
    ),
    ({"max_duration": 1800}, "for the first 30 min", "in den ersten 30 min"),
    ({"max_duration": 3600}, "for the first hour", "in der ersten Stunde"),
    (
        {"min_duration": 1800, "max_duration": 5400},
        "between 30 min and 1 h 30 min",
        "zwischen 30 min und 1 h 30 min",
    ),
    ({"min_kwh": D(20)}, "after 20 kWh", "ab 20 kWh"),
    ({"max_kwh": D("7.5")}, "for the first 7.5 kWh", "für die ersten 7,5 kWh"),
    (
        {"min_power": D(50), "max_current": D("32.0")},
        "from 50 kW, below 32 A",
        "ab 50 kW, unter 32 A",
    ),
]


@pytest.mark.parametrize(("restrictions", "english", "german"), RESTRICTIONS)
def test_restrictions_read_in_plain_words(
    restrictions: dict[str, Any], english: str, german: str
) -> None:
    tariff = Tariff(
        currency="EUR",
        elements=(
            TariffElement(
                (PriceComponent("ENERGY", D(1), None, 1),), TariffRestrictions(**restrictions)
            ),
        ),
    )
    assert describe_tariff(tariff, "en") == [f"€1.00 per kWh {english}"]
    assert describe_tariff(tariff, "de") == [f"1,00 € pro kWh {german}"]


def test_an_estimate_reads_as_an_approximate_total() -> None:
    """0.50 €/kWh plus 18 % is 0.59; 20 kWh at 11 kW."""
    tariff = Tariff(
        currency="EUR",
        elements=(TariffElement((PriceComponent("ENERGY", D("0.50"), D(18), 1),)),),
    )
    cost = estimate(
        tariff, energy_kwh=D(20), power_kw=D(11), start=datetime(2024, 1, 15, 10, tzinfo=UTC)
    )
    total = cost.rounded_total.incl_vat
    assert total is not None
    assert f"20 kWh ≈ {format_amount(total, 'EUR', 'de')}" == "20 kWh ≈ 11,80 €"
    assert f"20 kWh ≈ {format_amount(total, 'EUR', 'en')}" == "20 kWh ≈ €11.80"


def test_amounts_keep_up_to_four_decimals() -> None:
    assert format_amount(D("0.2975"), "EUR", "de") == "0,2975 €"
    assert format_amount(D("0.29755"), "EUR", "en") == "€0.2976"
    assert format_amount(D("12"), "CHF", "en") == "CHF 12.00"
    assert format_amount(round_to_minor(D("4.997"), "EUR"), "EUR", "de") == "5,00 €"
