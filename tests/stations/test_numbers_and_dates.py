"""Numbers, amounts and dates are written in the active language, the same way everywhere."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from stations import l10n

D = Decimal


@pytest.mark.parametrize(
    ("value", "currency", "german", "english"),
    [
        (D("0.2975"), "EUR", "0,2975 €", "€0.2975"),
        (D("12"), "CHF", "12,00 CHF", "CHF 12.00"),
        (D("1234.5"), "GBP", "1234,50 £", "£1234.50"),
        (D("-0.2"), "EUR", "-0,20 €", "-€0.20"),
    ],
)
def test_amounts_read_in_the_active_language(
    value: Decimal, currency: str, german: str, english: str
) -> None:
    with translation.override("de"):
        assert l10n.amount(value, currency) == german
    with translation.override("en"):
        assert l10n.amount(value, currency) == english


def test_numbers_dates_and_times_read_in_the_active_language() -> None:
    moment = datetime(2026, 12, 1, 14, 5, tzinfo=ZoneInfo("Europe/Berlin"))
    with translation.override("de"):
        assert l10n.number(D("7.50")) == "7,5"
        assert l10n.day(date(2024, 12, 24)) == "24.12.2024"
        assert l10n.moment(moment) == "01.12.2026 14:05 CET"
    with translation.override("en"):
        assert l10n.number(D("20.0")) == "20"
        assert l10n.day(date(2024, 12, 24)) == "2024-12-24"
        assert l10n.moment(moment) == "2026-12-01 14:05 CET"


def test_a_language_we_do_not_speak_reads_as_english() -> None:
    with translation.override("de-at"):
        assert l10n.active_locale() == "de"
    with translation.override("fr"):
        assert l10n.active_locale() == "en"
    assert l10n.known_locale("de") == "de"
    assert l10n.known_locale("fr") == "en"
    assert l10n.known_locale(None) == "en"
