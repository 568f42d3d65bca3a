"""The tariff engine: what a session costs under an OCPI tariff, in exact decimals.

Pure Python, no Django models, no OCPI dicts and no words: the version readers
(`ocpi_peer.versions`) turn Tariff JSON and a Session's or CDR's charging periods into the
dataclasses below. Services call `price_session` (to check a CDR, TA-03, or show a running total)
and `estimate` (the cost behind the "20 kWh ≈ 11,80 €" line before a start); `unit_price` and
`limit_price` give the figures of the price list that `stations.wording` puts into words.

The rules, from OCPI 2.2.1 (branch release-2.2.1-bugfixes: mod_tariffs, and mod_cdrs "step_size"
and "ChargingPeriod") and OCPI-CHECKLIST §5.4. Where the spec leaves a choice, the choice and
its reason are written here.

Periods and quantities
    A ChargingPeriod lasts from its `start` to the next period's start, the last one to `end`.
    TIME (charging), PARKING_TIME (connected, not requesting power) and RESERVATION_TIME are
    priced exactly as the periods state them; we never derive them from the clock. OCPI writes
    them in decimal hours, which cannot express most whole seconds (5 min = 0.08333… h), so a
    volume that is a whole number of seconds written to the decimals it has (0.083333 h and
    0.0833 h both read as 300 s) is taken as that whole number of seconds; any other volume is
    kept exactly (0.1234 h stays 444.24 s). Without this, a CPO's 5-minute period at 1.20 €/h
    would cost 0.0999996 instead of the 0.10 the CPO billed. ENERGY below 0 (energy fed back)
    counts as 0: 2.2.1 tariffs have no price for it.

Where restrictions are read (TA-04)
    Each period is cut wherever a restriction can change its outcome: the local wall-clock times
    named by start_time/end_time, local midnight (dates, days of week), daylight-saving
    transitions, session start + min/max_duration, and the moment the session's energy reaches
    min_kwh/max_kwh. Restrictions are then read at the start of each slice. The CPO already has
    to start a new period at each of these moments (mod_cdrs "ChargingPeriod"), so for a proper
    CDR the cuts fall on period starts and change nothing. A coarser period (or our own
    `estimate`) is read as: reservation time first, then charging with its energy delivered
    evenly, then parking, then idle time, all scaled down if the volumes exceed the period's
    length. Current and power cannot be interpolated; they are read per period: a min_ limit
    against the period's MIN_ value, a max_ limit against its MAX_ value (as the spec's tariff_4
    examples state them), else the average; power, when no power is stated, as energy over
    charging time. A period without charging draws 0 A and 0 kW; an unknown current makes a
    current restriction fail (`estimate` takes `current_a` for that).
    Local time uses `Tariff.time_zone` (the Location's `time_zone`); a tariff with local-time
    restrictions and no time zone is refused rather than read in UTC.

Which element prices what
    For each slice and each dimension separately, the first element that has a component of that
    dimension and whose restrictions all hold (an element without restrictions always holds)
    prices it; if none does, that dimension is free in that slice. Within an element only the
    first component of a dimension counts. Elements with a `reservation` restriction price only
    reservation time (RESERVATION_TIME volumes, with their TIME component) and the reservation's
    FLAT fee, and nothing else does (TA-09). For an expired reservation (`reservation_expired`)
    RESERVATION_EXPIRES elements come first and RESERVATION elements serve as fallback, so an
    expiry fee adds to the reserved time's price (tariff_17) and an expiry rate replaces it
    (tariff_18), as the spec's note on both TIME components says.

FLAT
    The session's FLAT is charged once, looked up at the first slice that is not pure
    reservation time (TA-05, our policy for the undefined case B-10): an evening-only start fee
    is charged only if the session starts in the evening. A reservation's FLAT is charged once,
    at its first slice. An expired reservation had no session, so only its own FLAT counts.

step_size (TA-06; our reading, and why)
    Rounding happens once per session and budget, on billed totals, never per period or element:

    * ENERGY: the session's billed energy (all slices in which some ENERGY component applied,
      price 0 included) is rounded up to a multiple of the step_size, in Wh, of the component
      that priced the last billed energy; the extra is charged at that component's price and VAT.
    * TIME and PARKING_TIME are one budget: whichever was billed last decides. The total billed
      time of that dimension is rounded up with that component's step_size, in seconds, the extra
      charged at its price; the other dimension stays exact. So charging followed by billed
      parking rounds only the parking, parking that becomes free rounds the parking billed
      before (tariff_14, 19:40), and charging resumed after parking rounds the charging time
      (the checklist's "if parking is billed, round only parking" says otherwise for that last
      case; we follow the spec's general sentence: the step of the last relevant component).
    * Reservation time is a budget of its own, rounded the same way (tariff_15 to tariff_18).

    Some implementations group by step size instead: each component's step rounds the total of
    the components that share it. We do not, because the spec's own tariff_14 example (16:35,
    35 min: 25 min at 1.20 €/h with step 1800, 10 min at 2.40 €/h with step 900) bills 1.30,
    the whole 35 min rounded once to 45 min with the last step; grouping gives 30 + 15 min, 1.20.
    A step_size below 1 means no rounding (tariff_5 uses 0 on its FLAT); 1 still rounds up to a
    whole Wh or second, as the spec's 115.2 Wh example says. Consequence of the spec's rule:
    cost is not monotone in every direction. Switching from charging to a cheap billed parking
    drops the charging time's rounding, and with tiered energy prices the extra may move to a
    lower price. The tests pin both.

VAT (TA-07)
    Per component: incl = excl × (1 + vat/100). In 2.2.1 a component without `vat` has no VAT
    (incl = excl). A version without the field (2.1.1: `Tariff.vat_stated=False`) has prices excl.
    VAT whose rate we supply: `vat_fallback`; without one, every incl. VAT amount is None.

Taxes in OCPI 2.3.0 (`Tariff.tax_included`, checklist V23-02)
    NO: as above, prices exclude the tax, added on top. YES: prices include it, so incl = the
    price and excl = price × 100 / (100 + rate); when no rate is known (a North American
    tariff states none and we know none for the country) the tax's share is unknown and excl
    is taken as the whole price, so the driver's amount is still exact. N/A: no tax at all,
    whatever `vat` says (incl = excl). A component without `vat` under YES or NO names no rate
    (taxes by local law, the spec's tariff_19 and tariff_20): the reader sets
    `vat_stated=False`, so it takes `vat_fallback`. A line that costs nothing costs nothing
    incl. VAT too, whatever its rate (tariff_5's free FLAT states none).

min_price / max_price (TA-08)
    Clamp the excl. VAT total with the limits' excl_vat and, independently, the incl. VAT total
    with their incl_vat (the two can be reached at different moments). A limit without incl_vat
    gets one from the tariff's VAT rate if all its components share a single rate; otherwise an
    incl. total the limit would have moved becomes None (unknown). If min_price > max_price,
    max_price wins. Per-dimension costs are never clamped; `subtotal` is the sum before clamping.

Exactness and rounding (TA-10, STYLE §6)
    Decimal throughout, never float, in a 60-digit context. Sums and products are exact; the only
    divisions are price × seconds / 3600 (once per dimension total) and the cutting of coarse
    periods. Every returned amount is therefore exact whenever its value has a finite decimal
    expansion (every spec vector), otherwise correct to 60 significant digits. Nothing here is
    rounded to minor units: that happens once, when money is charged, with `round_to_minor`
    (`stations.money`) / `Price.rounded` / `SessionCost.rounded_total` (half-up, away from zero,
    from the ISO 4217 minor-unit table; excl. and incl. rounded independently, so tariff_2's
    4.75 / 4.997 is 4.75 / 5.00). Before rounding a quantity up to its step, values within 1e-12
    of a step multiple count as on it, so residue from cutting a coarse period never adds a whole
    step.

OCPI 2.1.1 (checklist §5.6)
    One engine: the 2.1.1 reader sets `vat_stated=False`, leaves min/max_price, min/max_current
    and reservation empty, and the 2.2.1 semantics apply (per-dimension lookup, step_size once
    per session, restrictions in local time).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from itertools import pairwise
from types import MappingProxyType
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stations.money import round_to_minor

DimensionType = Literal["ENERGY", "FLAT", "PARKING_TIME", "TIME"]
CdrDimensionType = Literal[
    "CURRENT",
    "ENERGY",
    "ENERGY_EXPORT",
    "ENERGY_IMPORT",
    "MAX_CURRENT",
    "MIN_CURRENT",
    "MAX_POWER",
    "MIN_POWER",
    "PARKING_TIME",
    "POWER",
    "RESERVATION_TIME",
    "STATE_OF_CHARGE",
    "TIME",
]
DayOfWeek = Literal["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
ReservationType = Literal["RESERVATION", "RESERVATION_EXPIRES"]
TaxIncluded = Literal["YES", "NO", "N/A"]

DIMENSION_TYPES: tuple[DimensionType, ...] = get_args(DimensionType)
DAYS_OF_WEEK: tuple[DayOfWeek, ...] = get_args(DayOfWeek)  # index is date.weekday()
RESERVATION_TYPES: tuple[ReservationType, ...] = get_args(ReservationType)


class TariffError(ValueError):
    """Input the engine cannot price: a naive datetime, a period after `end`, a negative
    duration, a local-time restriction without a time zone, an unknown time zone. (A currency
    without a minor-unit entry is `stations.money.UnknownCurrency`, raised when rounding.)"""


def _check_decimal(owner: str, name: str, value: object, *, optional: bool = False) -> None:
    """Refuse floats (and ints, bools, NaN) where money or a measurement goes."""
    if value is None and optional:
        return
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError(f"{owner}.{name} must be a finite Decimal, not {value!r}")


@dataclass(frozen=True, slots=True)
class Price:
    """An amount in the tariff's currency; `incl_vat` None means the VAT is not known."""

    excl_vat: Decimal
    incl_vat: Decimal | None = None

    def __post_init__(self) -> None:
        _check_decimal("Price", "excl_vat", self.excl_vat)
        _check_decimal("Price", "incl_vat", self.incl_vat, optional=True)

    def __add__(self, other: Price) -> Price:
        incl = None
        if self.incl_vat is not None and other.incl_vat is not None:
            incl = self.incl_vat + other.incl_vat
        return Price(self.excl_vat + other.excl_vat, incl)

    def rounded(self, currency: str) -> Price:
        """Both amounts rounded half-up to minor units, each on its own."""
        incl = None if self.incl_vat is None else round_to_minor(self.incl_vat, currency)
        return Price(round_to_minor(self.excl_vat, currency), incl)


# --- the tariff -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriceComponent:
    """Price per unit excl. VAT: per kWh, per hour, or once (FLAT). `step_size` is in Wh for
    ENERGY and in seconds for TIME and PARKING_TIME; see the module docstring for its use."""

    type: DimensionType
    price: Decimal
    vat: Decimal | None
    step_size: int

    def __post_init__(self) -> None:
        if self.type not in DIMENSION_TYPES:
            raise ValueError(f"unknown price component type {self.type!r}")
        _check_decimal("PriceComponent", "price", self.price)
        _check_decimal("PriceComponent", "vat", self.vat, optional=True)
        if not isinstance(self.step_size, int) or isinstance(self.step_size, bool):
            raise TypeError(f"PriceComponent.step_size must be an int, not {self.step_size!r}")


@dataclass(frozen=True, slots=True)
class TariffRestrictions:
    """When an element is active: every field that is set must hold (a logical AND).

    Times and dates are local wall-clock values (`Tariff.time_zone`); `end_time` before
    `start_time` wraps past midnight and `end_time` 00:00 means the end of the day; `end_date`,
    `max_*` are exclusive, `start_date`, `min_*` inclusive. kWh and durations count from the
    session's start; current (A, summed over phases) and power (kW) are the present values."""

    start_time: time | None = None
    end_time: time | None = None
    start_date: date | None = None
    end_date: date | None = None
    min_kwh: Decimal | None = None
    max_kwh: Decimal | None = None
    min_current: Decimal | None = None
    max_current: Decimal | None = None
    min_power: Decimal | None = None
    max_power: Decimal | None = None
    min_duration: int | None = None
    max_duration: int | None = None
    day_of_week: frozenset[DayOfWeek] = frozenset()
    reservation: ReservationType | None = None

    def __post_init__(self) -> None:
        for name in ("min_kwh", "max_kwh", "min_current", "max_current", "min_power", "max_power"):
            _check_decimal("TariffRestrictions", name, getattr(self, name), optional=True)
        for name in ("min_duration", "max_duration"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise TypeError(f"TariffRestrictions.{name} must be int seconds, not {value!r}")
        days = frozenset(self.day_of_week)
        if not days <= set(DAYS_OF_WEEK):
            raise ValueError(f"unknown day of week in {sorted(days)}")
        object.__setattr__(self, "day_of_week", days)
        if self.reservation is not None and self.reservation not in RESERVATION_TYPES:
            raise ValueError(f"unknown reservation restriction {self.reservation!r}")

    @property
    def local(self) -> bool:
        """Whether the restriction reads the local clock or calendar."""
        return bool(
            self.start_time is not None
            or self.end_time is not None
            or self.start_date is not None
            or self.end_date is not None
            or self.day_of_week
        )


@dataclass(frozen=True, slots=True)
class TariffElement:
    """Components that share restrictions; each is still looked up per dimension (TA-04)."""

    price_components: tuple[PriceComponent, ...]
    restrictions: TariffRestrictions | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "price_components", tuple(self.price_components))

    def component(self, dimension: DimensionType) -> PriceComponent | None:
        """The element's component for a dimension: the first one, as only one can apply."""
        return next((c for c in self.price_components if c.type == dimension), None)


@dataclass(frozen=True, slots=True)
class Tariff:
    """A CPO tariff; the order of `elements` matters. `time_zone` is the Location's (IANA
    name), needed by local-time restrictions. `vat_stated` is True where PriceComponent has a
    `vat` field (2.2.1: absent means no VAT) and False for 2.1.1, whose prices exclude a VAT it
    does not state."""

    currency: str
    elements: tuple[TariffElement, ...]
    min_price: Price | None = None
    max_price: Price | None = None
    time_zone: str | None = None
    vat_stated: bool = True
    # A component without `vat` takes `vat_fallback` (like 2.1.1) rather than 0 %: what the
    # driver's price uses, where a 2.2.1 CPO's silence is not taken as "no VAT" (`component_vat`).
    missing_vat_is_fallback: bool = False
    # 2.3.0 on: whether the components' prices include tax; None before 2.3.0 (they exclude it).
    tax_included: TaxIncluded | None = None

    @property
    def prices_include_tax(self) -> bool:
        return self.tax_included == "YES"

    def __post_init__(self) -> None:
        object.__setattr__(self, "elements", tuple(self.elements))
        if self.tax_included not in (None, *get_args(TaxIncluded)):
            raise ValueError(f"unknown tax_included {self.tax_included!r}")
        if not isinstance(self.currency, str) or len(self.currency) != 3:
            raise ValueError(f"currency must be an ISO 4217 code, not {self.currency!r}")
        if self.time_zone is not None:
            _zone(self.time_zone)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TariffError(f"unknown time zone {name!r}") from None


# --- the session ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChargingPeriod:
    """One OCPI ChargingPeriod: from `start` (aware; kept in UTC) to the next period's start.

    `dimensions` maps CdrDimensionType to volume: ENERGY kWh; TIME, PARKING_TIME and
    RESERVATION_TIME hours; CURRENT, MIN_CURRENT, MAX_CURRENT A; POWER, MIN_POWER, MAX_POWER kW.
    Types the engine does not price with (STATE_OF_CHARGE, ENERGY_IMPORT, …) are ignored."""

    start: datetime
    dimensions: Mapping[str, Decimal] = field(hash=False)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise TariffError(f"charging period start {self.start} has no time zone")
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        for name, volume in self.dimensions.items():
            _check_decimal("ChargingPeriod", f"dimensions[{name!r}]", volume)
        object.__setattr__(self, "dimensions", MappingProxyType(dict(self.dimensions)))


@dataclass(frozen=True, slots=True)
class CostLine:
    """One priced piece of the session, exact. `quantity` is kWh, hours, or 1 for FLAT;
    `step_rounding` marks the extra quantity added by step_size. The dimension totals in
    SessionCost are computed from the same quantities with one division each, so they are
    exact even where a line's hours are not."""

    dimension: DimensionType
    element: int  # index into Tariff.elements
    start: datetime
    quantity: Decimal
    price: Decimal
    vat: Decimal | None  # the rate applied; None when unknown
    cost: Price
    reservation: bool = False
    step_rounding: bool = False


@dataclass(frozen=True, slots=True)
class SessionCost:
    """What a session costs, exact (see the module docstring). `total` is `subtotal` after
    min_price and max_price; the per-dimension Prices are before them. `reservation` holds the
    reservation's FLAT fee and its time; `flat` the session's own FLAT."""

    currency: str
    energy: Price
    time: Price
    parking_time: Price
    flat: Price
    reservation: Price
    subtotal: Price
    total: Price
    lines: tuple[CostLine, ...] = ()

    @property
    def rounded_total(self) -> Price:
        """The total as it is charged: half-up to the currency's minor units."""
        return self.total.rounded(self.currency)


# --- pricing ----------------------------------------------------------------------------------

_CTX = Context(
    prec=60, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)
_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_SECONDS_PER_HOUR = Decimal(3600)
_WH_PER_KWH = Decimal(1000)
_STEP_TOLERANCE = Decimal("1e-12")
_MIDNIGHT = time(0, 0)
# The longest span priced: the engine walks a span day by day and every six hours (zone
# changes), so a CDR from year 1 to 9999 would keep a receipt page busy for minutes.
MAX_SPAN = timedelta(days=366)


def price_session(
    tariff: Tariff,
    periods: Sequence[ChargingPeriod],
    *,
    end: datetime,
    vat_fallback: Decimal | None = None,
    reservation_expired: bool = False,
    session_start: datetime | None = None,
    memo: PricingMemo | None = None,
) -> SessionCost:
    """The cost of a session (or of its part so far) under `tariff`.

    `end` closes the last period: the session's end, or now for a running session.
    `vat_fallback` is the VAT rate (percent) for components whose version states none (2.1.1).
    `reservation_expired` says the reservation ended without a session (RESERVATION_EXPIRES).
    `session_start` is where min/max_duration count from; by default the start of the first
    period that is not pure reservation time.
    `memo`, kept by the caller for one running session between its updates, spares pricing
    again the periods it priced last time (see PricingMemo); the cost is the same without it."""
    _check_decimal("price_session", "vat_fallback", vat_fallback, optional=True)
    if end.tzinfo is None or end.utcoffset() is None:
        raise TariffError(f"end {end} has no time zone")
    if session_start is not None and (
        session_start.tzinfo is None or session_start.utcoffset() is None
    ):
        raise TariffError(f"session_start {session_start} has no time zone")
    with localcontext(_CTX):
        return _Pricer(tariff, vat_fallback).price(
            periods,
            end=end.astimezone(UTC),
            reservation_expired=reservation_expired,
            session_start=session_start,
            memo=memo,
        )


class PricingMemo:
    """What one pricing run of a running session found for its closed periods (all but the
    last, each ended by the next one's start), for the next run: a Session's update only adds
    periods, and a closed period's lines depend on nothing after it. The next run reuses them
    only for the very same period objects (the caller keeps its parsed periods, see
    `payments.costs`), under the same tariff, VAT fallback and options, and starting where
    they stopped; anything else is priced from scratch. One memo per session; threads may
    share it (a run reads and replaces one immutable state)."""

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state: _Known | None = None


@dataclass(frozen=True, slots=True)
class _Known:
    key: str  # the tariff, VAT fallback and options, exactly (repr keeps Decimal exponents)
    periods: tuple[ChargingPeriod, ...]  # the closed periods, in order
    next_start: datetime  # the start of the period that closed the last of them
    normalized: tuple[_Period, ...]
    lines: tuple[_Line, ...]
    consumed: Decimal
    origin: Decimal
    session_flat_done: bool
    reservation_flat_done: bool
    costed: Mapping[int, CostLine]  # the CostLine of each of `lines`, by its id()


def estimate(
    tariff: Tariff,
    *,
    energy_kwh: Decimal,
    power_kw: Decimal,
    start: datetime,
    current_a: Decimal | None = None,
    vat_fallback: Decimal | None = None,
) -> SessionCost:
    """The cost of charging `energy_kwh` at a steady `power_kw` from `start`, without parking.

    For the price shown before a start ("20 kWh ≈ 11,80 €"): one period whose charging time is
    energy / power, cut by the engine at restriction boundaries like any coarse period. Current
    cannot be derived from power (it depends on voltage and phases), so current restrictions
    only match when `current_a` is given."""
    _check_decimal("estimate", "energy_kwh", energy_kwh)
    _check_decimal("estimate", "power_kw", power_kw)
    _check_decimal("estimate", "current_a", current_a, optional=True)
    if energy_kwh < 0 or power_kw <= 0:
        raise TariffError("estimate needs energy_kwh >= 0 and power_kw > 0")
    if start.tzinfo is None or start.utcoffset() is None:
        raise TariffError(f"start {start} has no time zone")
    with localcontext(_CTX):
        hours = energy_kwh / power_kw
        micro = (hours * _SECONDS_PER_HOUR).scaleb(6).to_integral_value(rounding=ROUND_CEILING)
        dimensions = {"ENERGY": energy_kwh, "TIME": hours, "POWER": power_kw}
        if current_a is not None:
            dimensions["CURRENT"] = current_a
        period = ChargingPeriod(start=start, dimensions=dimensions)
    return price_session(
        tariff,
        [period],
        end=start + timedelta(microseconds=int(micro)),
        vat_fallback=vat_fallback,
    )


def next_local_change(tariff: Tariff, after: datetime, *, within: timedelta) -> datetime | None:
    """The first instant in (`after`, `after` + `within`) where a local-time restriction of
    `tariff` can start or stop holding: where pricing cuts a period (a wall time it names,
    local midnight, a daylight-saving transition). Between two such instants every local-time
    restriction reads the same, so a session lying wholly between them costs the same whenever
    it starts there. None when the span holds none, or the tariff reads no local time."""
    if after.tzinfo is None or after.utcoffset() is None:
        raise TariffError(f"after {after} has no time zone")
    pricer = _Pricer(tariff, None)
    if not pricer.local or pricer.zone is None:
        return None
    start = after.astimezone(UTC)
    cuts = pricer.local_cuts(start, start + within)
    return min(cuts) if cuts else None


def _seconds(delta: timedelta) -> Decimal:
    """A timedelta as exact Decimal seconds (timedelta.total_seconds() is a float)."""
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds).scaleb(-6)


def _volume_seconds(name: str, hours: Decimal | None) -> Decimal:
    """An hours volume as seconds; a written-out whole number of seconds becomes exact."""
    if hours is None:
        return _ZERO
    if hours < 0:
        raise TariffError(f"{name} volume {hours} is negative")
    exact = hours * _SECONDS_PER_HOUR
    whole = exact.to_integral_value(rounding=ROUND_HALF_EVEN)
    if exact == whole:
        return exact
    # whole/3600 written with the volume's decimals is the volume: half a unit in its last place
    if abs(exact - whole) <= Decimal(1800).scaleb(_exponent(hours)):
        return whole
    return exact


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # only finite Decimals get here (_check_decimal)
    return exponent


def _tidy(value: Decimal) -> Decimal:
    """The same value without trailing zeros past the 4 decimals OCPI amounts have."""
    if _exponent(value) >= -4:
        return value
    stripped = value.normalize()
    if _exponent(stripped) < -4:
        return stripped
    return value.quantize(Decimal("0.0001"))


def _overlap(a: Decimal, b: Decimal, lo: Decimal, hi: Decimal) -> Decimal:
    return max(_ZERO, min(b, hi) - max(a, lo))


def _ceil_to_step(quantity: Decimal, step: int) -> Decimal:
    """The smallest multiple of `step` at or above `quantity` (1e-12 tolerance, see above)."""
    settled = quantity.quantize(_STEP_TOLERANCE, rounding=ROUND_HALF_EVEN)
    return (settled / step).to_integral_value(rounding=ROUND_CEILING) * step


@dataclass(slots=True)
class _Period:
    """A ChargingPeriod with its end known and its volumes in seconds."""

    start: datetime
    stop: datetime
    offset: Decimal  # seconds from the first period's start
    length: Decimal  # seconds
    reservation: Decimal
    charging: Decimal
    parking: Decimal
    energy: Decimal  # kWh, never below 0
    dimensions: Mapping[str, Decimal]

    @property
    def busy(self) -> Decimal:
        return self.reservation + self.charging + self.parking

    @property
    def reservation_only(self) -> bool:
        return self.reservation > 0 and not (self.charging or self.parking or self.energy)

    def current(self, bound: Literal["min", "max"]) -> Decimal | None:
        """The current a min_current (or max_current) restriction is checked against.

        The period's minimum for min_current and maximum for max_current, as the spec's
        tariff_4 examples state them ("a maximum of 16A", "a minimum of 43A"); else the average;
        else the other extreme. A period without charging draws 0 A. Unknown otherwise: the
        restriction then does not hold (current cannot be derived from energy)."""
        names = ("MIN_CURRENT", "CURRENT", "MAX_CURRENT")
        value = self._first(names if bound == "min" else names[::-1])
        if value is None and not self.charging and not self.energy:
            return _ZERO
        return value

    def power(self, bound: Literal["min", "max"]) -> Decimal | None:
        """Like `current`, and when no power is stated, the period's average: its energy over
        its charging time (or over its length when it states no charging time)."""
        names = ("MIN_POWER", "POWER", "MAX_POWER")
        value = self._first(names if bound == "min" else names[::-1])
        if value is not None:
            return value
        if self.charging:
            return self.energy * _SECONDS_PER_HOUR / self.charging
        if not self.energy:
            return _ZERO
        if self.length:
            return self.energy * _SECONDS_PER_HOUR / self.length
        return None

    def _first(self, names: Iterable[str]) -> Decimal | None:
        return next((self.dimensions[n] for n in names if n in self.dimensions), None)


@dataclass(slots=True)
class _Slice:
    """A piece of a period in which no restriction changes; restrictions are read at `start`."""

    start: datetime
    elapsed: Decimal  # seconds since the session started (negative during a reservation)
    energy_before: Decimal  # kWh the session consumed before this slice
    energy: Decimal
    reservation: Decimal  # seconds
    charging: Decimal
    parking: Decimal
    period: _Period

    @property
    def reservation_only(self) -> bool:
        return self.reservation > 0 and not (self.charging or self.parking or self.energy)


@dataclass(slots=True)
class _Line:
    """A CostLine before money: quantity in base units (1, kWh, or seconds)."""

    dimension: DimensionType
    element: int
    component: PriceComponent
    quantity: Decimal
    start: datetime
    reservation: bool
    step_rounding: bool = False


_UNIT: Mapping[str, Decimal] = MappingProxyType(
    {"FLAT": _ONE, "ENERGY": _ONE, "TIME": _SECONDS_PER_HOUR, "PARKING_TIME": _SECONDS_PER_HOUR}
)


class _Pricer:
    """One pricing run; all arithmetic happens inside `price_session`'s 60-digit context."""

    def __init__(self, tariff: Tariff, vat_fallback: Decimal | None) -> None:
        self.tariff = tariff
        # With a memo (`price(memo=…)`): the CostLines it knows, by their line's id(); those of
        # this run's lines, by id() too; and the memo with what it is to know next.
        self.costed: Mapping[int, CostLine] = {}
        self.costed_now: dict[int, CostLine] = {}
        self.pending: tuple[PricingMemo, _Known] | None = None
        self.vat_fallback = vat_fallback
        restrictions = [e.restrictions for e in tariff.elements if e.restrictions is not None]
        self.local = any(r.local for r in restrictions)
        self.walls = {_MIDNIGHT} | {
            t for r in restrictions for t in (r.start_time, r.end_time) if t is not None
        }
        self.durations = {
            d for r in restrictions for d in (r.min_duration, r.max_duration) if d is not None
        }
        self.kwh = {k for r in restrictions for k in (r.min_kwh, r.max_kwh) if k is not None}
        self.zone: ZoneInfo | None = None
        if tariff.time_zone is not None:
            self.zone = _zone(tariff.time_zone)
        elif self.local:
            raise TariffError("the tariff has local-time restrictions but no time zone")

    # -- the run --

    def price(
        self,
        periods: Sequence[ChargingPeriod],
        *,
        end: datetime,
        reservation_expired: bool,
        session_start: datetime | None,
        memo: PricingMemo | None = None,
    ) -> SessionCost:
        if memo is None:
            normalized = self._normalize(periods, end)
            slices = self._slices(normalized, session_start)
            lines = self._lookup(slices, reservation_expired)
        else:
            lines = self._lines_with(memo, periods, end, reservation_expired, session_start)
        lines += self._step_extras(lines)
        lines.sort(key=lambda line: line.start)  # stable: extras follow their period's lines
        cost = self._cost(lines)
        if self.pending is not None:
            memo, known = self.pending
            costed = {id(ln): self.costed_now[id(ln)] for ln in known.lines}
            memo.state = replace(known, costed=costed)
        return cost

    def _lines_with(
        self,
        memo: PricingMemo,
        periods: Sequence[ChargingPeriod],
        end: datetime,
        reservation_expired: bool,
        session_start: datetime | None,
    ) -> list[_Line]:
        """`_lookup(_slices(_normalize(…)))`, the closed periods the memo knows taken from it,
        and the memo brought up to date."""
        ordered = sorted(periods, key=lambda p: p.start)
        key = repr((self.tariff, self.vat_fallback, reservation_expired, session_start))
        known = memo.state
        count = len(known.periods) if known is not None else 0
        if (
            known is None
            or known.key != key
            or len(ordered) <= count
            or ordered[count].start != known.next_start
            or any(a is not b for a, b in zip(known.periods, ordered, strict=False))
        ):
            known = None
            count = 0
        normalized = self._normalize(ordered, end, first=count)
        if known is not None:
            self.costed = known.costed
            normalized[:count] = known.normalized
            origin, consumed = known.origin, known.consumed
            flags = (known.session_flat_done, known.reservation_flat_done)
            lines = list(known.lines)
        else:
            if not normalized:
                return []
            origin, consumed = self._origin(normalized, session_start), _ZERO
            flags = (reservation_expired, False)
            lines = []
        closed = len(ordered) - 1
        ready = (tuple(lines), consumed, flags)  # as it stands after the closed periods
        for index in range(count, len(normalized)):
            period = normalized[index]
            slices = self._cut(period, consumed, origin)
            consumed += period.energy
            found, flags = self._lookup_from(slices, reservation_expired, flags)
            lines += found
            if index == closed - 1:
                ready = (tuple(lines), consumed, flags)
        # Kept only where the origin is fixed by the closed periods themselves.
        if closed > 0 and (
            session_start is not None or any(not p.reservation_only for p in normalized[:closed])
        ):
            self.pending = (
                memo,
                _Known(
                    key=key,
                    periods=tuple(ordered[:closed]),
                    next_start=ordered[closed].start,
                    normalized=tuple(normalized[:closed]),
                    lines=ready[0],
                    consumed=ready[1],
                    origin=origin,
                    session_flat_done=ready[2][0],
                    reservation_flat_done=ready[2][1],
                    costed={},
                ),
            )
        return lines

    def _normalize(
        self, periods: Sequence[ChargingPeriod], end: datetime, *, first: int = 0
    ) -> list[_Period]:
        """The periods in order with their ends; from `first` on only (those before it are
        placeholders, for the caller to fill)."""
        ordered = sorted(periods, key=lambda p: p.start)
        if not ordered:
            return []
        if end < ordered[-1].start:
            raise TariffError(f"end {end} is before the last period's start {ordered[-1].start}")
        first_start = ordered[0].start
        if end - first_start > MAX_SPAN:
            raise TariffError(f"from {first_start} to {end} is longer than {MAX_SPAN.days} days")
        result: list[_Period] = [None] * first  # type: ignore[list-item]
        for i in range(first, len(ordered)):
            period = ordered[i]
            stop = ordered[i + 1].start if i + 1 < len(ordered) else end
            dims = period.dimensions
            result.append(
                _Period(
                    start=period.start,
                    stop=stop,
                    offset=_seconds(period.start - first_start),
                    length=_seconds(stop - period.start),
                    reservation=_volume_seconds("RESERVATION_TIME", dims.get("RESERVATION_TIME")),
                    charging=_volume_seconds("TIME", dims.get("TIME")),
                    parking=_volume_seconds("PARKING_TIME", dims.get("PARKING_TIME")),
                    energy=max(dims.get("ENERGY", _ZERO), _ZERO),
                    dimensions=dims,
                )
            )
        return result

    # -- cutting periods into slices --

    def _slices(self, periods: list[_Period], session_start: datetime | None) -> list[_Slice]:
        if not periods:
            return []
        origin = self._origin(periods, session_start)
        slices: list[_Slice] = []
        consumed = _ZERO
        for period in periods:
            slices += self._cut(period, consumed, origin)
            consumed += period.energy
        return slices

    def _origin(self, periods: list[_Period], session_start: datetime | None) -> Decimal:
        """Where durations count from, in seconds from the first period's start."""
        if session_start is not None:
            return _seconds(session_start.astimezone(UTC) - periods[0].start)
        return next((p.offset for p in periods if not p.reservation_only), _ZERO)

    def _cut(self, p: _Period, consumed: Decimal, origin: Decimal) -> list[_Slice]:
        """Cut a period where restrictions can change; volumes laid out as the module says."""
        busy = p.busy
        scaled = busy > p.length  # volumes exceed the period: squeeze them into it

        def activity(tau: Decimal) -> Decimal:  # position on the reservation/charge/park line
            if tau == p.length:
                return max(busy, p.length)
            return tau * busy / p.length if scaled else tau

        def energy_at(tau: Decimal, u: Decimal) -> Decimal:
            if tau == p.length:
                return p.energy
            if p.charging:
                return p.energy * min(max(u - p.reservation, _ZERO), p.charging) / p.charging
            return p.energy * tau / p.length

        if p.length <= 0:
            points = [(_ZERO, _ZERO, _ZERO), (_ZERO, busy, p.energy)]
        else:
            inner: dict[Decimal, tuple[Decimal, Decimal]] = {}
            for tau in self._time_cuts(p, origin):
                u = activity(tau)
                inner[tau] = (u, energy_at(tau, u))
            for threshold in self.kwh:  # exact energy positions, so min_kwh holds where it should
                into = threshold - consumed
                if not _ZERO < into < p.energy:
                    continue
                if p.charging:
                    u = p.reservation + into * p.charging / p.energy
                    tau = u * p.length / busy if scaled else u
                else:
                    tau = into * p.length / p.energy
                    u = activity(tau)
                if _ZERO < tau < p.length:
                    inner[tau] = (u, into)
            points = [(_ZERO, _ZERO, _ZERO)]
            points += [(tau, u, e) for tau, (u, e) in sorted(inner.items())]
            points.append((p.length, activity(p.length), p.energy))

        charge_end = p.reservation + p.charging
        slices = []
        for (tau, u, e), (_, u_next, e_next) in pairwise(points):
            micro = tau.scaleb(6).to_integral_value(rounding=ROUND_FLOOR)
            slices.append(
                _Slice(
                    start=p.start + timedelta(microseconds=int(micro)),
                    elapsed=p.offset + tau - origin,
                    energy_before=consumed + e,
                    energy=max(e_next - e, _ZERO),
                    reservation=_overlap(u, u_next, _ZERO, p.reservation),
                    charging=_overlap(u, u_next, p.reservation, charge_end),
                    parking=_overlap(u, u_next, charge_end, busy),
                    period=p,
                )
            )
        return slices

    def _time_cuts(self, p: _Period, origin: Decimal) -> set[Decimal]:
        """Offsets into the period (seconds) where a local-time or duration restriction flips."""
        cuts = set()
        for duration in self.durations:
            tau = origin + duration - p.offset
            if _ZERO < tau < p.length:
                cuts.add(tau)
        if self.local and self.zone is not None:
            cuts |= {_seconds(instant - p.start) for instant in self._local_cuts(p)}
        return cuts

    def _local_cuts(self, p: _Period) -> set[datetime]:
        return self.local_cuts(p.start, p.stop)

    def local_cuts(self, start: datetime, stop: datetime) -> set[datetime]:
        """Instants strictly between `start` and `stop` (UTC) where the local wall clock passes
        one of `self.walls` (midnight, start and end times), plus daylight-saving transitions.

        Between two transitions the UTC offset is constant, so a wall time on a local date is
        one instant; a wall time skipped in spring is covered by the transition itself, and one
        repeated in autumn yields an instant on each side of it."""
        assert self.zone is not None
        transitions = _offset_changes(self.zone, start, stop)
        cuts = set(transitions)
        bounds = [start, *transitions, stop]
        for a, b in pairwise(bounds):
            offset = a.astimezone(self.zone).utcoffset()
            assert offset is not None
            day = (a + offset).date()
            last = (b + offset).date()
            while day <= last:
                for wall in self.walls:
                    instant = (datetime.combine(day, wall) - offset).replace(tzinfo=UTC)
                    if a < instant < b:
                        cuts.add(instant)
                day += timedelta(days=1)
        return cuts

    # -- which element prices what --

    def _lookup(self, slices: list[_Slice], reservation_expired: bool) -> list[_Line]:
        # an expired reservation had no session: no session flat fee
        return self._lookup_from(slices, reservation_expired, (reservation_expired, False))[0]

    def _lookup_from(
        self, slices: list[_Slice], reservation_expired: bool, flags: tuple[bool, bool]
    ) -> tuple[list[_Line], tuple[bool, bool]]:
        """The lines of `slices`, with whether the session's and the reservation's flat fees
        were charged before them (`flags`, and after them, returned)."""
        lines: list[_Line] = []
        session_kinds: tuple[ReservationType | None, ...] = (None,)
        reservation_kinds: tuple[ReservationType | None, ...] = (
            ("RESERVATION_EXPIRES", "RESERVATION") if reservation_expired else ("RESERVATION",)
        )
        session_flat_done, reservation_flat_done = flags

        def add(dim: DimensionType, sl: _Slice, kinds: tuple[ReservationType | None, ...],
                quantity: Decimal) -> None:  # fmt: skip
            found = self._find(dim, sl, kinds)
            if found is not None:
                index, component = found
                lines.append(
                    _Line(dim, index, component, quantity, sl.start, kinds != session_kinds)
                )

        for sl in slices:
            if not session_flat_done and not sl.reservation_only:
                session_flat_done = True
                add("FLAT", sl, session_kinds, _ONE)
            if sl.reservation:
                if not reservation_flat_done:
                    reservation_flat_done = True
                    add("FLAT", sl, reservation_kinds, _ONE)
                add("TIME", sl, reservation_kinds, sl.reservation)
            if sl.energy:
                add("ENERGY", sl, session_kinds, sl.energy)
            if sl.charging:
                add("TIME", sl, session_kinds, sl.charging)
            if sl.parking:
                add("PARKING_TIME", sl, session_kinds, sl.parking)
        return lines, (session_flat_done, reservation_flat_done)

    def _find(
        self, dim: DimensionType, sl: _Slice, kinds: tuple[ReservationType | None, ...]
    ) -> tuple[int, PriceComponent] | None:
        for kind in kinds:
            for index, element in enumerate(self.tariff.elements):
                r = element.restrictions
                if (r.reservation if r is not None else None) != kind:
                    continue
                component = element.component(dim)
                if component is not None and (r is None or self._holds(r, sl)):
                    return index, component
        return None

    def _holds(self, r: TariffRestrictions, sl: _Slice) -> bool:
        if r.local:
            assert self.zone is not None
            local = sl.start.astimezone(self.zone)
            if r.day_of_week and DAYS_OF_WEEK[local.weekday()] not in r.day_of_week:
                return False
            if r.start_date is not None and local.date() < r.start_date:
                return False
            if r.end_date is not None and local.date() >= r.end_date:
                return False
            if not _in_window(local.time(), r.start_time, r.end_time):
                return False
        if r.min_kwh is not None and sl.energy_before < r.min_kwh:
            return False
        if r.max_kwh is not None and sl.energy_before >= r.max_kwh:
            return False
        if r.min_duration is not None and sl.elapsed < r.min_duration:
            return False
        if r.max_duration is not None and sl.elapsed >= r.max_duration:
            return False
        checks = (
            (r.min_current, sl.period.current("min"), True),
            (r.max_current, sl.period.current("max"), False),
            (r.min_power, sl.period.power("min"), True),
            (r.max_power, sl.period.power("max"), False),
        )
        for limit, value, is_min in checks:
            if limit is None:
                continue
            if value is None or (value < limit if is_min else value >= limit):
                return False
        return True

    # -- step_size --

    def _step_extras(self, lines: list[_Line]) -> list[_Line]:
        """The quantity step_size adds to each budget, charged like its last billed line."""
        energy = [ln for ln in lines if ln.dimension == "ENERGY" and not ln.reservation]
        time_based = [
            ln for ln in lines if ln.dimension in ("TIME", "PARKING_TIME") and not ln.reservation
        ]
        reserved = [ln for ln in lines if ln.dimension == "TIME" and ln.reservation]
        extras = []
        for budget, per_step in ((energy, _WH_PER_KWH), (time_based, _ONE), (reserved, _ONE)):
            if not budget:
                continue
            last = budget[-1]
            step = last.component.step_size
            if step < 1:
                continue
            total = sum((ln.quantity for ln in budget if ln.dimension == last.dimension), _ZERO)
            extra = _ceil_to_step(total * per_step, step) - total * per_step
            if extra > 0:
                extras.append(
                    _Line(
                        last.dimension,
                        last.element,
                        last.component,
                        extra / per_step,
                        last.start,
                        last.reservation,
                        step_rounding=True,
                    )
                )
        return extras

    # -- money --

    def _vat(self, component: PriceComponent) -> Decimal | None:
        return component_vat(self.tariff, component, self.vat_fallback)

    def _money(self, lines: Iterable[_Line]) -> Price:
        """One division per unit, so a total is exact whenever its value is a finite decimal."""
        if self.tariff.prices_include_tax:
            return self._gross_money(lines)
        excl_by_unit: dict[Decimal, Decimal] = {}
        incl_by_unit: dict[Decimal, Decimal] | None = {}
        for ln in lines:
            unit = _UNIT[ln.dimension]
            amount = ln.component.price * ln.quantity
            excl_by_unit[unit] = excl_by_unit.get(unit, _ZERO) + amount
            rate = self._vat(ln.component)
            if rate is None:
                if amount != 0:
                    incl_by_unit = None
            elif incl_by_unit is not None:
                incl_by_unit[unit] = incl_by_unit.get(unit, _ZERO) + amount * (_HUNDRED + rate)
        excl = _tidy(sum((v / u for u, v in excl_by_unit.items()), _ZERO))
        if incl_by_unit is None:
            return Price(excl, None)
        incl = sum((v / (u * _HUNDRED) for u, v in incl_by_unit.items()), _ZERO)
        return Price(excl, _tidy(incl))

    def _gross_money(self, lines: Iterable[_Line]) -> Price:
        """`_money` for prices that include the tax (2.3.0 YES): one division per unit and
        rate; an unknown rate leaves the whole amount before taxes (see the module docstring)."""
        by_unit_and_rate: dict[tuple[Decimal, Decimal], Decimal] = {}
        for ln in lines:
            key = (_UNIT[ln.dimension], self._vat(ln.component) or _ZERO)
            amount = ln.component.price * ln.quantity
            by_unit_and_rate[key] = by_unit_and_rate.get(key, _ZERO) + amount
        incl = excl = _ZERO
        for (unit, rate), amount in by_unit_and_rate.items():
            incl += amount / unit
            excl += amount * _HUNDRED / (unit * (_HUNDRED + rate))
        return Price(_tidy(excl), _tidy(incl))

    def _cost(self, lines: list[_Line]) -> SessionCost:
        def pick(dim: DimensionType, reservation: bool = False) -> Price:
            return self._money(
                ln for ln in lines if ln.dimension == dim and ln.reservation == reservation
            )

        energy, time_, parking, flat = (
            pick("ENERGY"),
            pick("TIME"),
            pick("PARKING_TIME"),
            pick("FLAT"),
        )
        reservation = self._money(ln for ln in lines if ln.reservation)
        subtotal = energy + time_ + parking + flat + reservation
        cost_lines = []
        for ln in lines:
            known = self.costed.get(id(ln))
            if known is not None:
                cost_lines.append(known)
                continue
            unit = _UNIT[ln.dimension]
            cost_lines.append(
                CostLine(
                    dimension=ln.dimension,
                    element=ln.element,
                    start=ln.start,
                    quantity=_tidy(ln.quantity / unit),
                    price=ln.component.price,
                    vat=self._vat(ln.component),
                    cost=self._money([ln]),
                    reservation=ln.reservation,
                    step_rounding=ln.step_rounding,
                )
            )
        if self.pending is not None:
            self.costed_now.update((id(ln), cl) for ln, cl in zip(lines, cost_lines, strict=True))
        return SessionCost(
            currency=self.tariff.currency,
            energy=energy,
            time=time_,
            parking_time=parking,
            flat=flat,
            reservation=reservation,
            subtotal=subtotal,
            total=self._clamp(subtotal),
            lines=tuple(cost_lines),
        )

    def _clamp(self, subtotal: Price) -> Price:
        excl, incl = subtotal.excl_vat, subtotal.incl_vat
        limits = ((self.tariff.min_price, max), (self.tariff.max_price, min))
        for limit, pick in limits:
            if limit is None:
                continue
            clamped = pick(excl, limit.excl_vat)
            if incl is not None:
                limit_incl = limit.incl_vat
                if limit_incl is None:
                    limit_incl = _incl_from_rate(self.tariff, limit.excl_vat, self.vat_fallback)
                if limit_incl is not None:
                    incl = pick(incl, limit_incl)
                elif clamped != excl:
                    incl = None  # moved to a limit whose VAT we cannot know
            excl = clamped
        return Price(_tidy(excl), None if incl is None else _tidy(incl))


def component_vat(
    tariff: Tariff, component: PriceComponent, vat_fallback: Decimal | None
) -> Decimal | None:
    """The VAT rate (percent) of a component: the one place it is decided, for the price shown,
    the session's cost, settlement and the receipt. Its own `vat` when stated; else, in a
    version with the field (2.2.1) read as the spec reads it, 0 %; else (2.1.1, or a tariff
    with `missing_vat_is_fallback`) `vat_fallback`, None when that is unknown. A 2.3.0 tariff
    with `tax_included` N/A carries no tax at all."""
    if tariff.tax_included == "N/A":
        return _ZERO
    if component.vat is not None:
        return component.vat
    if tariff.vat_stated and not tariff.missing_vat_is_fallback:
        return _ZERO
    return vat_fallback


def _uniform_vat(tariff: Tariff, vat_fallback: Decimal | None) -> Decimal | None:
    """The VAT rate of every component, if they share one that is known."""
    rates = {
        component_vat(tariff, c, vat_fallback) for e in tariff.elements for c in e.price_components
    }
    if len(rates) == 1:
        return rates.pop()
    return None


def _incl_from_rate(tariff: Tariff, excl: Decimal, vat_fallback: Decimal | None) -> Decimal | None:
    rate = _uniform_vat(tariff, vat_fallback)
    return None if rate is None else excl * (_HUNDRED + rate) / _HUNDRED


def unit_price(tariff: Tariff, component: PriceComponent, vat_fallback: Decimal | None) -> Price:
    """A component's price per unit as a price list shows it: incl. VAT at the component's
    rate (TA-07; `vat_fallback` where the version states none), None when the rate is unknown."""
    rate = component_vat(tariff, component, vat_fallback)
    if tariff.prices_include_tax:  # 2.3.0 YES: the price is the gross one
        with localcontext(_CTX):
            net = component.price * _HUNDRED / (_HUNDRED + (rate or _ZERO))
            return Price(_tidy(net), component.price)
    if rate is None:
        return Price(component.price)
    with localcontext(_CTX):
        return Price(component.price, component.price * (_HUNDRED + rate) / _HUNDRED)


def limit_price(tariff: Tariff, limit: Price, vat_fallback: Decimal | None) -> Price:
    """A min_price or max_price with its incl. VAT amount: as stated, else from the tariff's
    single VAT rate (TA-08); None when the components do not share one known rate."""
    if limit.incl_vat is not None:
        return limit
    with localcontext(_CTX):
        return Price(limit.excl_vat, _incl_from_rate(tariff, limit.excl_vat, vat_fallback))


def _in_window(clock: time, start: time | None, end: time | None) -> bool:
    """start_time inclusive, end_time exclusive, wrapping past midnight; end 00:00 is 24:00."""
    if end is None or end == _MIDNIGHT:
        return start is None or clock >= start
    if start is None:
        return clock < end
    if start < end:
        return start <= clock < end
    if end < start:
        return clock >= start or clock < end
    return False  # start == end, not midnight: an empty window


def _epoch_seconds(instant: datetime) -> int:
    return (instant - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1)


def _offset_changes(zone: ZoneInfo, start: datetime, stop: datetime) -> list[datetime]:
    """UTC instants in (start, stop) where the zone's UTC offset changes.

    zoneinfo has no public list of transitions, so sample every 6 hours (no zone changes its
    offset twice within that) and bisect to the second (tzdata transitions are whole seconds)."""

    def offset(instant: datetime) -> timedelta | None:
        return instant.astimezone(zone).utcoffset()

    changes = []
    a, before = start, offset(start)
    while a < stop:
        b = min(a + timedelta(hours=6), stop)
        after = offset(b)
        if after != before:
            lo, hi = _epoch_seconds(a), _epoch_seconds(b) + 1
            while hi - lo > 1:
                mid = (lo + hi) // 2
                at = datetime.fromtimestamp(mid, UTC)
                lo, hi = (mid, hi) if offset(at) == before else (lo, mid)
            change = datetime.fromtimestamp(hi, UTC)
            if start < change < stop:
                changes.append(change)
        a, before = b, after
    return changes
