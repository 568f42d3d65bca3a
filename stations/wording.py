"""A tariff in the words a driver reads: the price list ("0,59 € pro kWh", "0,10 € pro Minute
Ladezeit nach 4 h") and the estimate line ("20 kWh ≈ 11,80 €").

The engine (`stations.pricing`) supplies the figures and knows no language; the words come from
the gettext catalogue (German in locale/de) and numbers, amounts and dates from `stations.l10n`.
The caller names the language ("de" or "en"): the page asks in the driver's language, the admin
in English.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time, timedelta
from decimal import Decimal, localcontext
from types import MappingProxyType

from django.utils import translation
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from stations import l10n
from stations.l10n import Locale
from stations.pricing import (
    DAYS_OF_WEEK,
    DayOfWeek,
    Price,
    PriceComponent,
    Tariff,
    TariffRestrictions,
    limit_price,
    unit_price,
)

_DASH = "\u2013"  # en dash, for ranges
_MIDNIGHT = time(0, 0)
_WH_PER_KWH = Decimal(1000)

# The unit after a price: (dimension, reservation kind, "minute" | "") -> words
_UNITS: Mapping[tuple[str, str | None, str], Promise] = MappingProxyType(
    {
        ("ENERGY", None, ""): gettext_lazy("per kWh"),
        ("FLAT", None, ""): gettext_lazy("per session"),
        ("TIME", None, "minute"): gettext_lazy("per minute charging"),
        ("PARKING_TIME", None, "minute"): gettext_lazy("per minute parked without charging"),
        ("FLAT", "RESERVATION", ""): gettext_lazy("per reservation"),
        ("TIME", "RESERVATION", "minute"): gettext_lazy("per minute reserved"),
        ("FLAT", "RESERVATION_EXPIRES", ""): gettext_lazy("if a reservation expires"),
        ("TIME", "RESERVATION_EXPIRES", "minute"): gettext_lazy(
            "per minute of an expired reservation"
        ),
    }
)
_DAY_ADVERBS: tuple[Promise, ...] = (
    gettext_lazy("on Mondays"),
    gettext_lazy("on Tuesdays"),
    gettext_lazy("on Wednesdays"),
    gettext_lazy("on Thursdays"),
    gettext_lazy("on Fridays"),
    gettext_lazy("on Saturdays"),
    gettext_lazy("on Sundays"),
)


# AFIR (Regulation (EU) 2023/1804) art. 5 and the German PAngV: the price per kWh first, then
# per minute, per session, then the fees for parking and idling; reservations come last.
_AFIR_ORDER: Mapping[str, int] = MappingProxyType(
    {"ENERGY": 0, "TIME": 1, "FLAT": 2, "PARKING_TIME": 3}
)
_RESERVATION_RANK = 4


def describe_tariff(
    tariff: Tariff, locale: Locale, *, vat_fallback: Decimal | None = None
) -> list[str]:
    """The tariff as lines a driver reads, in AFIR's order: "0,59 € pro kWh", "0,10 € pro
    Minute Ladezeit nach 4 h", "1,00 € je Ladevorgang", "0,10 € pro Minute Standzeit ohne Laden
    nach 1 h", then the session's minimum and maximum. Within one dimension the tariff's order
    stays (earlier elements win), so a tiered or timed price reads as the engine applies it.

    Prices include VAT whenever it is known (consumer price law wants the gross price), with up
    to 4 decimals; time is always per minute (AFIR states time prices per minute). Restrictions
    follow in plain words (a parking fee's grace time among them), then step_size (TA-12 asks
    to warn about it). Components that can never apply (after an unrestricted element of the
    same dimension) and FLAT fees of 0 are left out; a tariff that charges nothing reads
    "Kostenlos" / "Free of charge"."""
    if locale not in l10n.LOCALES:
        raise ValueError(f"unknown locale {locale!r}")
    with translation.override(locale):
        priced = any(c.price for e in tariff.elements for c in e.price_components)
        minimum = tariff.min_price is not None and tariff.min_price.excl_vat > 0
        if not priced and not minimum:
            return [_("Free of charge")]
        ranked: list[tuple[int, str]] = []
        covered: set[str] = set()  # dimensions an unrestricted element already prices
        for element in tariff.elements:
            r = element.restrictions
            kind = r.reservation if r is not None else None
            seen: set[str] = set()
            for c in element.price_components:
                if c.type in seen or (kind is None and c.type in covered):
                    continue
                seen.add(c.type)
                if c.type == "FLAT" and not c.price:
                    continue
                rank = _RESERVATION_RANK if kind is not None else _AFIR_ORDER[c.type]
                ranked.append((rank, _describe_component(tariff, c, r, vat_fallback)))
            if r is None or r == TariffRestrictions():
                covered |= seen
        lines = [text for _rank, text in sorted(ranked, key=lambda pair: pair[0])]
        if tariff.min_price is not None:
            price = limit_price(tariff, tariff.min_price, vat_fallback)
            lines.append(
                _describe_limit(price, tariff.currency, _("minimum %(amount)s per session"))
            )
        if tariff.max_price is not None:
            price = limit_price(tariff, tariff.max_price, vat_fallback)
            lines.append(
                _describe_limit(price, tariff.currency, _("maximum %(amount)s per session"))
            )
        return lines


def describe_vat_rate(rate: Decimal, locale: Locale) -> str:
    """The note under a price list whose components state no VAT and carry the country's
    rate: "incl. 19 % VAT, the country's rate" / "inkl. 19 % MwSt., der Satz des Landes"."""
    with translation.override(locale):
        return _("incl. %(rate)s %% VAT, the country's rate") % {"rate": l10n.number(rate)}


def describe_estimate(
    energy_kwh: Decimal, amount: Decimal, currency: str, locale: Locale, *, incl_vat: bool
) -> str:
    """What charging `energy_kwh` costs, as the line under the price list: "20 kWh ≈ 11,80 €",
    followed by "zzgl. MwSt." / "excl. VAT" when the VAT is not known."""
    with translation.override(locale):
        text = f"{l10n.number(energy_kwh)} kWh ≈ {l10n.amount(amount, currency)}"
        return text if incl_vat else f"{text} {_excl_vat()}"


def _excl_vat() -> str:
    return pgettext("after a price whose VAT is not known", "excl. VAT")


def _describe_component(
    tariff: Tariff,
    c: PriceComponent,
    r: TariffRestrictions | None,
    vat_fallback: Decimal | None,
) -> str:
    price = unit_price(tariff, c, vat_fallback)
    shown = price.incl_vat if price.incl_vat is not None else price.excl_vat
    kind = r.reservation if r is not None else None
    per = ""
    if c.type in ("TIME", "PARKING_TIME"):
        with localcontext(prec=60):  # the engine's precision; `l10n.amount` rounds to 4 places
            per, shown = "minute", shown / 60
    unit = _UNITS.get((c.type, kind, per)) or _UNITS[(c.type, None, per)]  # spec: FLAT, TIME
    parts = [l10n.amount(shown, tariff.currency), str(unit)]
    qualifiers = _describe_restrictions(r) if r is not None else []
    if qualifiers:
        parts.append(", ".join(qualifiers))
    notes = []
    if c.step_size > 1 and c.type in ("TIME", "PARKING_TIME"):
        size = (
            pgettext("billed per started …", "minute")
            if c.step_size == 60
            else _duration(c.step_size)
        )
        notes.append(_("billed per started %(step)s") % {"step": size})
    elif c.step_size > 1 and c.type == "ENERGY":
        size = l10n.number(Decimal(c.step_size) / _WH_PER_KWH) + " kWh"
        notes.append(_("billed per started %(step)s") % {"step": size})
    if price.incl_vat is None:
        notes.append(_excl_vat())
    if notes:
        parts.append("(" + "; ".join(notes) + ")")
    return " ".join(parts)


def _describe_limit(limit: Price, currency: str, words: str) -> str:
    """min_price / max_price: incl. VAT when known, else the net amount, saying so."""
    if limit.incl_vat is None:
        return f"{words % {'amount': l10n.amount(limit.excl_vat, currency)}} ({_excl_vat()})"
    return words % {"amount": l10n.amount(limit.incl_vat, currency)}


def _describe_restrictions(r: TariffRestrictions) -> list[str]:
    out = []
    days = _describe_days(r.day_of_week)
    if days:
        out.append(days)
    if r.start_time is not None and r.end_time is not None:
        end = "24:00" if r.end_time == _MIDNIGHT else f"{r.end_time:%H:%M}"
        out.append(f"{r.start_time:%H:%M}{_DASH}{end}")
    elif r.start_time is not None:
        out.append(_("from %(time)s") % {"time": f"{r.start_time:%H:%M}"})
    elif r.end_time is not None and r.end_time != _MIDNIGHT:
        out.append(_("until %(time)s") % {"time": f"{r.end_time:%H:%M}"})
    first_day = None if r.start_date is None else l10n.day(r.start_date)
    last_day = None if r.end_date is None else l10n.day(r.end_date - timedelta(days=1))
    if first_day and last_day:
        out.append(_("%(first)s to %(last)s") % {"first": first_day, "last": last_day})
    elif first_day:
        out.append(_("from %(date)s") % {"date": first_day})
    elif last_day:
        out.append(_("until %(date)s") % {"date": last_day})
    if r.min_duration is not None and r.max_duration is not None:
        shortest, longest = _duration(r.min_duration), _duration(r.max_duration)
        out.append(
            _("between %(shortest)s and %(longest)s") % {"shortest": shortest, "longest": longest}
        )
    elif r.min_duration is not None:
        out.append(_("after %(duration)s") % {"duration": _duration(r.min_duration)})
    elif r.max_duration is not None:
        out.append(
            _("for the first hour")
            if r.max_duration == 3600
            else _("for the first %(duration)s") % {"duration": _duration(r.max_duration)}
        )
    if r.min_kwh is not None and r.max_kwh is not None:
        low, high = l10n.number(r.min_kwh), l10n.number(r.max_kwh)
        out.append(_("from %(low)s to %(high)s kWh") % {"low": low, "high": high})
    elif r.min_kwh is not None:
        out.append(_("after %(kwh)s kWh") % {"kwh": l10n.number(r.min_kwh)})
    elif r.max_kwh is not None:
        out.append(_("for the first %(kwh)s kWh") % {"kwh": l10n.number(r.max_kwh)})
    for low_limit, high_limit, unit in (
        (r.min_power, r.max_power, "kW"),
        (r.min_current, r.max_current, "A"),
    ):
        if low_limit is not None:
            quantity = f"{l10n.number(low_limit)} {unit}"
            out.append(pgettext("a power or current", "from %(quantity)s") % {"quantity": quantity})
        if high_limit is not None:
            quantity = f"{l10n.number(high_limit)} {unit}"
            out.append(_("below %(quantity)s") % {"quantity": quantity})
    return out


def _describe_days(days: frozenset[DayOfWeek]) -> str | None:
    """Mo–Fr, am Wochenende, samstags, Mo, Mi, Fr; nothing for every day."""
    if not days or len(days) == len(DAYS_OF_WEEK):
        return None
    indexes = sorted(DAYS_OF_WEEK.index(d) for d in days)
    if indexes == [5, 6]:
        return _("on weekends")
    if len(indexes) == 1:
        return str(_DAY_ADVERBS[indexes[0]])
    names = [str(WEEKDAYS_ABBR[i]) for i in range(7)]  # Django's own: Mon / Mo, Monday first
    runs: list[list[int]] = []
    for i in indexes:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{names[run[0]]}{_DASH}{names[run[-1]]}")
        else:
            parts += [names[i] for i in run]
    return ", ".join(parts)


def _duration(seconds: int) -> str:
    """A duration as 1 h 30 min or 45 s, the same in both languages."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes else []
    parts += [f"{secs} s"] if secs or not parts else []
    return " ".join(parts)
