"""A running session priced update after update with its memo (`PricingMemo`, what the
Session path keeps between a session's updates) costs exactly what it costs priced from
scratch: same totals, same lines, the same decimals, whatever the tariff and periods; and a
memo met by other periods, another tariff or a reservation is not misapplied."""

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from stations.pricing import (
    ChargingPeriod,
    PriceComponent,
    PricingMemo,
    SessionCost,
    Tariff,
    TariffElement,
    price_session,
)
from tests.stations.test_pricing_properties import sessions, tariffs

D = Decimal
examples = settings(deadline=None, max_examples=150)


def exactly(cost: SessionCost) -> str:
    """Every figure with its decimals (Decimal equality would take 1.50 for 1.5)."""
    return repr(cost)


def updates(periods: list[ChargingPeriod], end: datetime) -> list[tuple[int, datetime]]:
    """The CPO's updates: each period as it arrives, priced up to a moment inside it, then the
    session up to its end."""
    steps = []
    for count in range(1, len(periods) + 1):
        last = periods[count - 1].start
        following = periods[count].start if count < len(periods) else end
        steps.append((count, last + (following - last) / 2))
        steps.append((count, following))
    return steps


@examples
@given(tariffs(), sessions(), st.sampled_from([None, D("19"), D("7.5")]))
def test_it_prices_a_growing_session_as_from_scratch(
    tariff: Tariff, session: tuple[list[ChargingPeriod], datetime], vat: Decimal | None
) -> None:
    periods, end = session
    memo = PricingMemo()
    for count, until in updates(periods, end):
        with_memo = price_session(tariff, periods[:count], end=until, vat_fallback=vat, memo=memo)
        fresh = price_session(tariff, periods[:count], end=until, vat_fallback=vat)
        assert exactly(with_memo) == exactly(fresh)


@examples
@given(tariffs(), tariffs(), sessions())
def test_it_prices_anew_what_the_memo_does_not_fit(
    tariff: Tariff, other: Tariff, session: tuple[list[ChargingPeriod], datetime]
) -> None:
    periods, end = session
    memo = PricingMemo()
    price_session(tariff, periods, end=end, memo=memo)
    # another tariff; periods read again (equal, not the same); a stated session start
    for run in (
        {"tariff": other, "periods": periods},
        {"tariff": tariff, "periods": [replace(p) for p in periods]},
        {"tariff": tariff, "periods": periods, "session_start": periods[0].start},
        {"tariff": tariff, "periods": periods, "reservation_expired": True},
    ):
        options = {k: v for k, v in run.items() if k not in ("tariff", "periods")}
        with_memo = price_session(
            run["tariff"],
            run["periods"],
            end=end,
            memo=memo,
            **options,  # type: ignore[arg-type]
        )
        fresh = price_session(run["tariff"], run["periods"], end=end, **options)  # type: ignore[arg-type]
        assert exactly(with_memo) == exactly(fresh)


def test_it_prices_a_corrected_period_anew() -> None:
    """A 2.1.1 PATCH replaces the periods: a closed period whose volumes changed is not
    priced from the memo."""
    start = datetime.fromisoformat("2024-03-01T10:00:00+00:00")
    first = ChargingPeriod(start, {"ENERGY": D("5"), "TIME": D("0.5")})
    second = ChargingPeriod(start + timedelta(minutes=30), {"ENERGY": D("5"), "TIME": D("0.5")})
    tariff = Tariff(
        currency="EUR",
        elements=(TariffElement((PriceComponent("ENERGY", D("0.40"), D("19"), 1),)),),
    )
    memo = PricingMemo()
    end = start + timedelta(hours=1)
    assert price_session(tariff, [first, second], end=end, memo=memo).total.excl_vat == D("4.00")
    corrected = ChargingPeriod(start, {"ENERGY": D("10"), "TIME": D("0.5")})
    assert price_session(tariff, [corrected, second], end=end, memo=memo).total.excl_vat == D(
        "6.00"
    )
