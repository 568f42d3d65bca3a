"""Numbers, amounts and dates as drivers read them, in German or English: one place for the tariff
wording, the receipts and the driver's pages.

Everything here writes in the active language (LocaleMiddleware's choice for a request,
`translation.override` where a language is given). The decimal separator comes from Django's
own format modules ("7,5" / "7.5"; no thousands separator, as `USE_THOUSAND_SEPARATOR` is off);
where a currency sign stands and how a date is written are entries of our gettext catalogue
(locale/de), beside the words around them. Babel's CLDR formats were the other choice; they would
change what drivers are shown ("CHF12.00", "¥" for JPY, no-break spaces), so we keep ours.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from django.utils import dateformat, formats, translation
from django.utils.translation import pgettext

from stations.money import minor_units, round_to_minor

Locale = Literal["de", "en"]
LOCALES: tuple[Locale, ...] = ("de", "en")

# The few currencies drivers know by their sign; others are written with their ISO code.
_SIGNS = {"EUR": "€", "GBP": "£", "USD": "$"}
_UP_TO_4_PLACES = (Decimal("0.01"), Decimal("0.001"), Decimal("0.0001"))


def known_locale(code: str | None) -> Locale:
    """`code` if we speak it, else English."""
    return next((known for known in LOCALES if known == code), "en")


def active_locale() -> Locale:
    """The active language, if we speak it (German for "de-at" too), else English."""
    return known_locale((translation.get_language() or "en")[:2])


def number(value: Decimal) -> str:
    """A quantity as it is, without trailing zeros: "7,5" / "7.5", "20"."""
    return formats.number_format(value.normalize())


def amount(value: Decimal, currency: str) -> str:
    """An amount as "0,2975 €" / "€0.2975", "12,00 CHF" / "CHF 12.00", "-0,20 €" / "-€0.20":
    2 to 4 decimals (half-up), so a unit price is shown as it is (not as 0,30); round a total
    with `stations.money.round_to_minor` first."""
    places = abs(value).quantize(_UP_TO_4_PLACES[-1], rounding=ROUND_HALF_UP)
    shown = next(q for q in (places.quantize(p) for p in _UP_TO_4_PLACES) if q == places)
    return _with_currency(formats.number_format(shown), currency, negative=value < 0)


def money(value: Decimal, currency: str) -> str:
    """A sum of money as it is paid: rounded half-up to the currency's minor unit and written
    with exactly its decimals ("€12.30" / "12,30 €", "JPY 500", "KWD 1.250"). Every
    amount an operator or accountant reads goes through here (case texts, ledger rows, the
    admin's lists), never minor units nor an engine's unrounded figure."""
    rounded = round_to_minor(value, currency)
    text = formats.number_format(abs(rounded), decimal_pos=minor_units(currency))
    return _with_currency(text, currency, negative=rounded < 0)


def _with_currency(text: str, currency: str, *, negative: bool) -> str:
    sign = _SIGNS.get(currency)
    if sign is not None:
        written = pgettext("an amount with its currency sign", "%(sign)s%(amount)s") % {
            "sign": sign,
            "amount": text,
        }
    else:
        written = pgettext("an amount with its ISO currency code", "%(code)s %(amount)s") % {
            "code": currency,
            "amount": text,
        }
    return f"-{written}" if negative else written


def day(value: date) -> str:
    """A date: "24.12.2024" / "2024-12-24" (ISO in English: no reader takes it for another)."""
    return dateformat.format(value, pgettext("a date, as Django's date filter writes it", "Y-m-d"))


def moment(value: datetime) -> str:
    """A moment in the zone it is in (convert it first) and that zone's abbreviation:
    "01.12.2026 14:05 CET" / "2026-12-01 14:05 CET"."""
    written = dateformat.format(
        value, pgettext("a date and time, as Django's date filter writes it", "Y-m-d H:i")
    )
    return f"{written} {value.tzname() or ''}".strip()
