"""What holds for every tariff and session: costs are never negative, limits hold, VAT only
adds, step_size only adds, and a session that goes on never gets cheaper, where the spec's
step_size rule allows it (the last two tests show where it does not)."""

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from stations.pricing import (
    DAYS_OF_WEEK,
    DIMENSION_TYPES,
    ChargingPeriod,
    Price,
    PriceComponent,
    SessionCost,
    Tariff,
    TariffElement,
    TariffRestrictions,
    price_session,
)

D = Decimal
examples = settings(deadline=None, max_examples=150)

amounts = st.decimals(min_value=0, max_value=5, places=4)
rates = st.none() | st.decimals(min_value=0, max_value=25, places=1)
steps = st.sampled_from([0, 1, 60, 300, 500, 900])
clock = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
starts = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2025, 12, 31), timezones=st.just(UTC)
)


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


@st.composite
def restrictions(draw: st.DrawFn) -> TariffRestrictions | None:
    if draw(st.booleans()):
        return None
    low_kwh, low_amps, low_kw = (draw(maybe(st.integers(0, 60))) for _ in range(3))
    return TariffRestrictions(
        start_time=draw(maybe(clock)),
        end_time=draw(maybe(clock)),
        min_kwh=None if low_kwh is None else D(low_kwh),
        max_kwh=draw(maybe(st.integers(1, 80).map(D))),
        min_current=None if low_amps is None else D(low_amps),
        max_current=draw(maybe(st.integers(1, 80).map(D))),
        min_power=None if low_kw is None else D(low_kw),
        max_power=draw(maybe(st.integers(1, 150).map(D))),
        min_duration=draw(maybe(st.integers(0, 4 * 3600))),
        max_duration=draw(maybe(st.integers(1, 6 * 3600))),
        day_of_week=frozenset(draw(st.sets(st.sampled_from(DAYS_OF_WEEK)))),
    )


@st.composite
def tariffs(draw: st.DrawFn, step_sizes: st.SearchStrategy = steps) -> Tariff:
    elements = []
    for _ in range(draw(st.integers(1, 4))):
        types = draw(st.lists(st.sampled_from(DIMENSION_TYPES), min_size=1, max_size=3))
        components = tuple(
            PriceComponent(t, draw(amounts), draw(rates), draw(step_sizes)) for t in types
        )
        elements.append(TariffElement(components, draw(restrictions())))
    if draw(st.booleans()):  # a default element, as the spec advises
        elements.append(
            TariffElement(
                tuple(
                    PriceComponent(t, draw(amounts), draw(rates), draw(step_sizes))
                    for t in DIMENSION_TYPES
                )
            )
        )
    low, high = sorted([draw(amounts) * 10, draw(amounts) * 10])
    return Tariff(
        currency="EUR",
        elements=tuple(elements),
        min_price=Price(low, low * D("1.2")) if draw(st.booleans()) else None,
        max_price=Price(high, high * D("1.25")) if draw(st.booleans()) else None,
        time_zone="Europe/Berlin",
    )


@st.composite
def periods(draw: st.DrawFn, start: datetime) -> tuple[list[ChargingPeriod], datetime]:
    result, at = [], start
    for _ in range(draw(st.integers(1, 5))):
        minutes = draw(st.integers(0, 120))
        charging = draw(st.integers(0, minutes))
        parking = draw(st.integers(0, minutes - charging))
        dims: dict[str, Decimal] = {}
        if charging:
            dims["TIME"] = D(charging) / 60
            dims["ENERGY"] = draw(st.decimals(min_value=0, max_value=50, places=3))
        if parking:
            dims["PARKING_TIME"] = D(parking) / 60
        for name in ("MAX_CURRENT", "MIN_CURRENT", "POWER"):
            if charging and draw(st.booleans()):
                dims[name] = D(draw(st.integers(0, 100)))
        result.append(ChargingPeriod(at, dims))
        at += timedelta(minutes=minutes)
    return result, at


@st.composite
def sessions(draw: st.DrawFn) -> tuple[list[ChargingPeriod], datetime]:
    return draw(periods(draw(starts)))


def dimensions(cost: SessionCost) -> list[Price]:
    return [cost.energy, cost.time, cost.parking_time, cost.flat, cost.reservation]


def without_steps(tariff: Tariff) -> Tariff:
    return replace(
        tariff,
        elements=tuple(
            replace(e, price_components=tuple(replace(c, step_size=0) for c in e.price_components))
            for e in tariff.elements
        ),
    )


@examples
@given(tariffs(), sessions())
def test_a_cost_is_never_negative_and_vat_only_adds(
    tariff: Tariff, session: tuple[list[ChargingPeriod], datetime]
) -> None:
    cost = price_session(tariff, session[0], end=session[1])
    for price in [*dimensions(cost), cost.subtotal, cost.total]:
        assert price.excl_vat >= 0
        assert price.incl_vat is not None
        assert price.incl_vat >= price.excl_vat


@examples
@given(tariffs(), sessions())
def test_min_and_max_price_hold(
    tariff: Tariff, session: tuple[list[ChargingPeriod], datetime]
) -> None:
    total = price_session(tariff, session[0], end=session[1]).total
    assert total.incl_vat is not None
    if tariff.min_price is not None:
        assert total.excl_vat >= tariff.min_price.excl_vat
        assert total.incl_vat >= tariff.min_price.incl_vat  # type: ignore[operator]
    if tariff.max_price is not None:
        assert total.excl_vat <= tariff.max_price.excl_vat
        assert total.incl_vat <= tariff.max_price.incl_vat  # type: ignore[operator]


@examples
@given(tariffs(), sessions())
def test_step_size_never_lowers_a_dimensions_cost(
    tariff: Tariff, session: tuple[list[ChargingPeriod], datetime]
) -> None:
    stepped = price_session(tariff, session[0], end=session[1])
    exact = price_session(without_steps(tariff), session[0], end=session[1])
    for with_steps, without in zip(dimensions(stepped), dimensions(exact), strict=True):
        assert with_steps.excl_vat >= without.excl_vat
        assert with_steps.incl_vat >= without.incl_vat  # type: ignore[operator]


@examples
@given(tariffs(step_sizes=st.just(0)), st.data())
def test_a_session_that_goes_on_never_gets_cheaper(tariff: Tariff, data: st.DataObject) -> None:
    """Any tariff without step_size rounding: appending periods only adds (with rounding, see
    the simple tariffs below and the two pinned exceptions)."""
    first, end = data.draw(sessions())
    more, later = data.draw(periods(end))
    before = price_session(tariff, first, end=end).total
    after = price_session(tariff, first + more, end=later).total
    assert after.excl_vat >= before.excl_vat
    assert after.incl_vat >= before.incl_vat  # type: ignore[operator]


def _simple(draw: st.DrawFn) -> Tariff:
    """One element without restrictions: the spec's step rule keeps this monotone."""
    components = tuple(
        PriceComponent(t, draw(amounts), draw(rates), draw(steps)) for t in DIMENSION_TYPES
    )
    return Tariff(currency="EUR", elements=(TariffElement(components),))


def _charge_then_park(
    tariff: Tariff, start: datetime, energy: Decimal, charging_s: int, parking_s: int
) -> Price:
    parked = start + timedelta(seconds=charging_s)
    periods = [ChargingPeriod(start, {"ENERGY": energy, "TIME": D(charging_s) / 3600})]
    if parking_s:
        periods.append(ChargingPeriod(parked, {"PARKING_TIME": D(parking_s) / 3600}))
    return price_session(tariff, periods, end=parked + timedelta(seconds=parking_s)).total


@examples
@given(st.data(), starts)
def test_more_energy_or_more_time_never_costs_less(data: st.DataObject, start: datetime) -> None:
    tariff = _simple(data.draw)
    energy = data.draw(st.decimals(min_value=0, max_value=80, places=4))
    charging = data.draw(st.integers(1, 6 * 3600))
    parking = data.draw(st.integers(0, 3 * 3600))
    base = _charge_then_park(tariff, start, energy, charging, parking)
    more_energy = energy + data.draw(st.decimals(min_value=0, max_value=10, places=4))
    longer = charging + data.draw(st.integers(0, 3600))
    for other in (
        _charge_then_park(tariff, start, more_energy, charging, parking),
        _charge_then_park(tariff, start, energy, longer, parking),
        _charge_then_park(tariff, start, energy, charging, parking and parking + 600),
    ):
        assert other.excl_vat >= base.excl_vat
        assert other.incl_vat >= base.incl_vat  # type: ignore[operator]


# --- where the spec's step_size rule is not monotone (pinned, not bugs) --------------------------


def test_parking_at_a_free_parking_price_drops_the_charging_times_rounding() -> None:
    """21 min charging at 1 €/h with step 600 is billed 30 min (0.50); one more minute of
    parking, priced at 0, moves the rounding to parking and charging is billed 21 min (0.35)."""
    tariff = Tariff(
        currency="EUR",
        elements=(
            TariffElement(
                (
                    PriceComponent("TIME", D(1), None, 600),
                    PriceComponent("PARKING_TIME", D(0), None, 1),
                )
            ),
        ),
    )
    start = datetime(2024, 1, 15, 10, tzinfo=UTC)
    assert _charge_then_park(tariff, start, D(5), 21 * 60, 0).excl_vat == D("0.50")
    assert _charge_then_park(tariff, start, D(5), 21 * 60, 60).excl_vat == D("0.35")


def test_a_cheaper_last_price_takes_over_the_energy_rounding() -> None:
    """0.1 kWh before 17:00 at 1.00 €/kWh, step 1000 Wh, is billed 1 kWh (1.00); 0.1 kWh more
    after 17:00 at 0.01 €/kWh, step 1 Wh, makes the total 0.101."""
    tariff = Tariff(
        currency="EUR",
        elements=(
            TariffElement(
                (PriceComponent("ENERGY", D(1), None, 1000),),
                TariffRestrictions(end_time=time(17)),
            ),
            TariffElement((PriceComponent("ENERGY", D("0.01"), None, 1),)),
        ),
        time_zone="Europe/Berlin",
    )
    start = datetime(2024, 1, 15, 15, 30, tzinfo=UTC)  # 16:30 in Berlin
    first = ChargingPeriod(start, {"ENERGY": D("0.1")})
    later = ChargingPeriod(start + timedelta(minutes=30), {"ENERGY": D("0.1")})
    end = start + timedelta(hours=1)
    assert price_session(tariff, [first], end=end - timedelta(minutes=30)).total.excl_vat == 1
    assert price_session(tariff, [first, later], end=end).total.excl_vat == D("0.101")
