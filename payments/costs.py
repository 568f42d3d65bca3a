"""What a checkout costs the driver: the price the driver was shown (the checkout's tariff
snapshot) applied to what was metered, and the min rule (ARCHITECTURE.md "Money": the driver
pays the lowest of the CPO's figure, the price shown on the same quantities, and the hold).

One path for every figure a driver or an operator sees: settlement applies the price shown to a
CDR's quantities, the expiring-hold capture and the running cost to a Session's, all through
`apply_shown`, so the live page, the cost stop, the capture and the receipt agree."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import simplejson
from rest_framework.exceptions import ValidationError

from ocpi_peer import versions
from payments.models import ChargingSession, Checkout
from stations import pricing, tariffs
from stations.money import round_to_minor
from stations.pricing import ChargingPeriod, Price, SessionCost, TariffError

# What makes the price shown inapplicable: an unreadable body, a snapshot it cannot be applied
# to, a partner's version we no longer speak.
UNPRICEABLE = (ValidationError, TariffError, LookupError, TypeError, ValueError)


def shown_tariff(checkout: Checkout) -> pricing.Tariff:
    """The tariff the driver was shown, for the engine, from the checkout's snapshot."""
    snapshot = checkout.tariff_snapshot
    fields = {
        "currency": snapshot["currency"],
        "elements": snapshot["elements"],
        "vat_stated": snapshot.get("vat_stated", True),
        # the CPO's rule as it stood when the driver paid (`CpoTerms.missing_vat_is_country_rate`)
        "missing_vat_is_fallback": snapshot.get("missing_vat_is_fallback", False),
        "min_price_excl_vat": snapshot["min_price"][0] or None,
        "min_price_incl_vat": snapshot["min_price"][1] or None,
        "max_price_excl_vat": snapshot["max_price"][0] or None,
        "max_price_incl_vat": snapshot["max_price"][1] or None,
        "tax_included": snapshot.get("tax_included"),  # 2.3.0 on
    }
    return tariffs.from_fields(fields, time_zone=snapshot.get("time_zone"))


def apply_shown(
    checkout: Checkout, quantities: tariffs.CdrPricing, memo: pricing.PricingMemo | None = None
) -> SessionCost:
    """The price shown applied to `quantities` (a CDR's or a Session's); raises one of
    UNPRICEABLE when it cannot be. `memo`: a running session's (`session_memo`)."""
    return tariffs.check_cdr(
        quantities,
        shown_tariff(checkout),
        tariff_id=checkout.tariff_snapshot["tariff_id"],
        memo=memo,
    ).cost


def cdr_quantities(version: str, body: str) -> tariffs.CdrPricing:
    """What pricing needs from a CDR as received, in `version`'s JSON."""
    spec = versions.get(version)
    return tariffs.cdr_pricing(
        spec.read(spec.cdr_pricing, simplejson.loads(body, use_decimal=True))
    )


def session_quantities(checkout: Checkout, session: ChargingSession) -> tariffs.CdrPricing:
    """A Session's quantities as a CDR states them, so the price shown is applied to them
    exactly as to a CDR. Its stored charging periods are in the partner's version's shape. A
    session that states none (OCPI makes them optional) is one period from its start holding
    its `kwh` and the charging time elapsed. A running session is priced up to its
    `last_updated`: its figures are the CPO's as of then (a CPMS's clock may run ahead of ours)."""
    version = checkout.partner.version
    spec = versions.get(version)
    periods = _read_periods(version, session.pk, session.charging_periods)
    end = session.end or checkout.ended_at or _last_moment(session, periods)
    hours = (Decimal((end - session.start).total_seconds()) / 3600).quantize(Decimal("0.0001"))
    if not periods:
        dimensions = {"ENERGY": session.kwh, "TIME": max(hours, Decimal(0))}
        periods = (
            tariffs.TariffPeriod(ChargingPeriod(start=session.start, dimensions=dimensions)),
        )
    country = checkout.evse.location.country
    return tariffs.CdrPricing(
        start=session.start,
        end=end,
        currency=session.currency or checkout.currency,
        country=country.upper(),
        time_zone=tariffs.resolve_zone(None, country),
        tariffs={},
        periods=periods,
        total_cost=Price(session.total_cost_excl_vat or Decimal(0), session.total_cost_incl_vat),
        total_energy=session.kwh,
        total_time=hours,
        tariff_ids_stated=spec.charging_period.tariff_ids_stated and bool(session.charging_periods),
    )


# Charging periods read by their version's serializer, by version and content: a Session's
# periods are read again at every update to price it (the stored JSON is not read in depth on
# arrival), and reading costs more than pricing, while a Session only ever adds periods. Bounded:
# what falls out is read again.
_PERIODS_KEPT = 50_000
_periods: OrderedDict[tuple[str, str], tariffs.TariffPeriod] = OrderedDict()
_periods_lock = threading.Lock()


# A session's periods as last read, by version and session: the next update's periods start
# with them (a Session only adds periods), so only those after them are read, and the list is
# compared instead of each period being written out again as a key. Beside them, what pricing
# found for its closed periods (`pricing.PricingMemo`): the next update prices only the periods
# after them. Bounded by the periods held: what falls out is read and priced again.
_SESSION_PERIODS_KEPT = 20_000


@dataclass
class _Kept:
    raw: list[Any]
    periods: tuple[tariffs.TariffPeriod, ...]
    memo: pricing.PricingMemo


_sessions: OrderedDict[tuple[str, int], _Kept] = OrderedDict()
_sessions_held = [0]  # periods in _sessions


def session_memo(version: str, session: ChargingSession) -> pricing.PricingMemo | None:
    """The pricing memo of a session whose periods were read (`session_quantities`)."""
    with _periods_lock:
        kept = _sessions.get((version, session.pk)) if session.pk else None
    return kept.memo if kept is not None else None


def _read_periods(
    version: str, session_pk: int | None, raw: list[Any]
) -> tuple[tariffs.TariffPeriod, ...]:
    """A session's stored periods as pricing reads them; raises as `_read_period` does."""
    key = (version, session_pk or 0)
    with _periods_lock:
        found = _sessions.get(key) if session_pk else None
    if found is not None and len(found.raw) <= len(raw) and raw[: len(found.raw)] == found.raw:
        known = len(found.raw)
        periods = found.periods + tuple(_read_period(version, period) for period in raw[known:])
    else:
        periods = tuple(_read_period(version, period) for period in raw)
    if session_pk:
        with _periods_lock:
            before = _sessions.pop(key, None)
            memo = before.memo if before is not None else pricing.PricingMemo()
            _sessions[key] = _Kept(list(raw), periods, memo)
            _sessions_held[0] += len(raw) - (len(before.raw) if before is not None else 0)
            while _sessions_held[0] > _SESSION_PERIODS_KEPT and len(_sessions) > 1:
                _, dropped = _sessions.popitem(last=False)
                _sessions_held[0] -= len(dropped.raw)
    return periods


def _read_period(version: str, raw: Any) -> tariffs.TariffPeriod:
    """One stored charging period as pricing reads it; raises ValidationError as the
    version's serializer does (a period it refuses is never kept)."""
    key = (version, json.dumps(raw, sort_keys=True))
    with _periods_lock:
        found = _periods.get(key)
        if found is not None:
            _periods.move_to_end(key)
            return found
    spec = versions.get(version)
    period = tariffs.tariff_period(spec.read(spec.charging_period, raw))
    with _periods_lock:
        _periods[key] = period
        if len(_periods) > _PERIODS_KEPT:
            _periods.popitem(last=False)
    return period


def _last_moment(session: ChargingSession, periods: tuple[tariffs.TariffPeriod, ...]) -> datetime:
    latest = max((p.period.start for p in periods), default=session.start)
    return max(session.last_updated, latest, session.start)


def incl_vat(checkout: Checkout, incl: Decimal | None, excl: Decimal | None) -> Decimal | None:
    """An OCPI amount incl. VAT: as the CPO stated it, else (2.1.1 states amounts excl. VAT)
    excl. VAT plus the location country's rate; None when neither is given."""
    if incl is not None:
        return incl
    if excl is None:
        return None
    rate = tariffs.vat_rate(checkout.evse.location.country) or Decimal(0)
    return excl * (1 + rate / 100)


def operator_figure(checkout: Checkout, session: ChargingSession) -> Decimal | None:
    """What the CPO's Session says the charge costs so far, incl. VAT; None when it says
    nothing (`total_cost` is optional in OCPI)."""
    return incl_vat(checkout, session.total_cost_incl_vat, session.total_cost_excl_vat)


def shown_for_session(checkout: Checkout, session: ChargingSession) -> Decimal | None:
    """The price shown applied to the Session's quantities, incl. VAT; None when it cannot be."""
    try:
        quantities = session_quantities(checkout, session)
        memo = session_memo(checkout.partner.version, session)
        return apply_shown(checkout, quantities, memo).total.incl_vat
    except UNPRICEABLE:
        return None


def hold_is_the_cap(checkout: Checkout) -> bool:
    """Whether the tariff shown caps the session at what we hold (its max_price incl. VAT is
    at most the hold): the driver's price can then never pass the hold, so cost never needs to
    stop the session."""
    try:
        tariff = shown_tariff(checkout)
    except UNPRICEABLE:
        return False
    if tariff.max_price is None:
        return False
    rate = checkout.tariff_snapshot.get("vat_fallback")
    cap = pricing.limit_price(tariff, tariff.max_price, Decimal(rate) if rate else None).incl_vat
    return cap is not None and round_to_minor(cap, checkout.currency) <= checkout.hold_amount


Basis = Literal["operator", "shown", "hold", "none"]


@dataclass(frozen=True)
class DriverCost:
    """The min rule on one set of figures, incl. VAT and rounded to the currency's minor units.
    `amount` is None when no figure is known yet; `basis` says which figure it is ("none":
    nothing to compare it with)."""

    amount: Decimal | None
    basis: Basis
    operator: Decimal | None  # the CPO's own figure, None when it gave none


def driver_cost(
    *, currency: str, operator: Decimal | None, shown: Decimal | None, hold: Decimal
) -> DriverCost:
    """What the driver pays on these figures: the lowest of the CPO's figure, the price shown
    and the hold. With neither the CPO's figure nor the price shown, nothing is known yet."""
    rounded_operator = round_to_minor(operator, currency) if operator is not None else None
    if operator is None and shown is None:
        return DriverCost(None, "none", None)
    candidates: list[tuple[Decimal, Basis]] = []
    if rounded_operator is not None:
        candidates.append((rounded_operator, "operator"))  # first: a tie is the CPO's figure
    if shown is not None:
        candidates.append((round_to_minor(shown, currency), "shown"))
    candidates.append((round_to_minor(hold, currency), "hold"))
    amount, basis = min(candidates, key=lambda c: c[0])
    return DriverCost(max(amount, Decimal(0)), basis, rounded_operator)


def running_cost(checkout: Checkout, session: ChargingSession) -> DriverCost:
    """What the driver would pay if the session ended on the Session's current figures."""
    return driver_cost(
        currency=checkout.currency,
        operator=operator_figure(checkout, session),
        shown=shown_for_session(checkout, session),
        hold=checkout.hold_amount,
    )
