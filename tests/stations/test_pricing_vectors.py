"""The tariff engine against the spec's numbers: every scenario of OCPI-CHECKLIST §5.5, the
step_size examples of mod_cdrs, the official example tariffs, and local time in Berlin."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from stations.pricing import (
    ChargingPeriod,
    Price,
    PriceComponent,
    SessionCost,
    Tariff,
    TariffElement,
    TariffError,
    TariffRestrictions,
    estimate,
    price_session,
)
from tests.ocpi.examples import example_names
from tests.stations.tariff_json import (
    DATA,
    load_example,
    load_json,
    parse_datetime,
    read_periods,
    read_tariff,
)

D = Decimal
BERLIN = "Europe/Berlin"
VECTORS = load_json(DATA / "checklist_vectors.json")["cases"]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def period(start: str, **volumes: str) -> ChargingPeriod:
    return ChargingPeriod(start=utc(start), dimensions={k: D(v) for k, v in volumes.items()})


def component(type_: str, price: str, step_size: int = 1, vat: str | None = None) -> PriceComponent:
    return PriceComponent(type_, D(price), None if vat is None else D(vat), step_size)  # type: ignore[arg-type]


def element(*components: PriceComponent, **restrictions: Any) -> TariffElement:
    return TariffElement(components, TariffRestrictions(**restrictions) if restrictions else None)


def tariff(*elements: TariffElement, **fields: Any) -> Tariff:
    return Tariff(currency="EUR", elements=elements, time_zone=BERLIN, **fields)


def hours_billed(cost: SessionCost, dimension: str) -> Decimal:
    return sum(
        (ln.quantity for ln in cost.lines if ln.dimension == dimension and not ln.reservation), D(0)
    )


def minutes_billed(cost: SessionCost, dimension: str) -> Decimal:
    """Line hours are exact to 60 digits only (x/3600), hence the quantize."""
    return (hours_billed(cost, dimension) * 60).quantize(D("1e-20"))


# --- OCPI-CHECKLIST §5.5 ------------------------------------------------------------------------


@pytest.mark.parametrize("case", VECTORS, ids=[c["id"] for c in VECTORS])
def test_checklist_vector(case: dict[str, Any]) -> None:
    priced = read_tariff(load_example(case["tariff"]), time_zone=case["time_zone"])
    cost = price_session(
        priced,
        read_periods(case["charging_periods"]),
        end=parse_datetime(case["end"]),
        reservation_expired=case.get("reservation_expired", False),
    )
    expected = Price(D(case["expected"]["excl_vat"]), D(case["expected"]["incl_vat"]))
    assert cost.total == expected, case["row"]
    rounded = case.get("rounded", case["expected"])
    assert cost.rounded_total == Price(D(rounded["excl_vat"]), D(rounded["incl_vat"]))
    assert cost.currency == "EUR"


def test_the_checklist_breakdown_of_tariff_4_on_monday_holds() -> None:
    """Flat 2.50, charging 165 min not rounded (parking follows), parking 42 min billed as 45."""
    cost = price_session(
        read_tariff(load_example("tariff_4_complex.json"), time_zone=BERLIN),
        [
            period("2024-01-15T08:30", TIME="2.75", MAX_CURRENT="16"),
            period("2024-01-15T11:15", PARKING_TIME="0.7"),
        ],
        end=utc("2024-01-15T11:57"),
    )
    assert cost.flat == Price(D("2.50"), D("2.875"))
    assert cost.time == Price(D("2.75"), D("3.30"))
    assert cost.parking_time == Price(D("3.75"), D("4.125"))
    assert hours_billed(cost, "PARKING_TIME") == D("0.75")


def test_reservation_costs_are_kept_apart_from_the_session_flat() -> None:
    cost = price_session(
        read_tariff(load_example("tariff_16_reservation_2_euro_fee_5_euro_per_hour.json")),
        [
            period("2024-01-15T09:47", RESERVATION_TIME="0.216667"),
            period("2024-01-15T10:00", ENERGY="20", TIME="2"),
        ],
        end=utc("2024-01-15T12:00"),
    )
    assert cost.reservation == Price(D("3.25"), D("3.90"))  # fee 2.00 + 15 min at 5 €/h
    assert cost.flat == Price(D("0.50"), D("0.60"))
    assert cost.time == Price(D(0), D(0))  # the TIME component is the reservation's


def test_an_expired_reservation_uses_the_expiry_rate_even_if_listed_later() -> None:
    reserved = element(component("TIME", "3", 600), reservation="RESERVATION")
    expired = element(component("TIME", "6", 600), reservation="RESERVATION_EXPIRES")
    periods = [period("2024-01-15T08:30", RESERVATION_TIME="1.5")]
    end = utc("2024-01-15T10:00")
    for order in ((reserved, expired), (expired, reserved)):
        cost = price_session(tariff(*order), periods, end=end, reservation_expired=True)
        assert cost.total.excl_vat == D("9.00")
    cost = price_session(tariff(reserved, expired), periods, end=end)
    assert cost.total.excl_vat == D("4.50")


def test_the_cdr_example_total_is_what_we_compute() -> None:
    """cdr_example.json: 1.973 h at 2 €/h with step 300 s is billed as 2 h (TA-03)."""
    cdr = load_example("cdr_example.json")
    cost = price_session(
        read_tariff(cdr["tariffs"][0], time_zone=BERLIN),
        read_periods(cdr["charging_periods"]),
        end=parse_datetime(cdr["end_date_time"]),
    )
    expected = Price(D(cdr["total_cost"]["excl_vat"]), D(cdr["total_cost"]["incl_vat"]))
    assert cost.total == expected
    assert cost.time == Price(D(cdr["total_time_cost"]["excl_vat"]), D("4.40"))


# --- the step_size examples of mod_cdrs ---------------------------------------------------------


def test_energy_is_rounded_once_on_the_session_total_at_the_last_price() -> None:
    """0.20 then 0.27 €/kWh from 17:00, step 500 Wh: 4.3 + 1.1 kWh = 5.4, billed 5.5 kWh,
    so 1.2 kWh at 0.27 (not 1.1 rounded to 1.5)."""
    priced = tariff(
        element(component("ENERGY", "0.20", 500), start_time=time(0), end_time=time(17)),
        element(component("ENERGY", "0.27", 500)),
    )
    cost = price_session(
        priced,
        [period("2024-01-15T14:00", ENERGY="4.3"), period("2024-01-15T16:00", ENERGY="1.1")],
        end=utc("2024-01-15T16:30"),
    )
    assert cost.energy.excl_vat == D("0.86") + D("1.2") * D("0.27")
    assert hours_billed(cost, "ENERGY") == D("5.5")


def test_time_is_rounded_once_on_the_session_total_at_the_last_price() -> None:
    """5 then 7 €/h from 17:00, step 600 s: 6 + 22 min = 28, billed 30: 24 min at 7 €/h."""
    priced = tariff(
        element(component("TIME", "5", 600), start_time=time(0), end_time=time(17)),
        element(component("TIME", "7", 600)),
    )
    cost = price_session(
        priced,
        [period("2024-01-15T15:54", TIME="0.1"), period("2024-01-15T16:00", TIME="0.366667")],
        end=utc("2024-01-15T16:22"),
    )
    assert cost.total.excl_vat == D("0.50") + D("2.80")


@pytest.mark.parametrize(
    ("step", "charging_min", "parking_min", "billed_parking_min"),
    [(600, 21, 16, 20), (300, 21, 7, 10)],
)
def test_only_parking_is_rounded_when_it_follows_charging(
    step: int, charging_min: int, parking_min: int, billed_parking_min: int
) -> None:
    """mod_cdrs: charging 1 €/h, parking 2 €/h, same step: charging time stays exact."""
    priced = tariff(element(component("TIME", "1", step), component("PARKING_TIME", "2", step)))
    start = datetime(2024, 1, 15, 10, tzinfo=UTC)
    parked = start + timedelta(minutes=charging_min)
    cost = price_session(
        priced,
        [
            ChargingPeriod(start, {"TIME": D(charging_min) / 60}),
            ChargingPeriod(parked, {"PARKING_TIME": D(parking_min) / 60}),
        ],
        end=parked + timedelta(minutes=parking_min),
    )
    assert minutes_billed(cost, "TIME") == charging_min
    assert minutes_billed(cost, "PARKING_TIME") == billed_parking_min


@pytest.mark.parametrize(("step", "cost"), [(1, "0.029"), (25, "0.03125"), (500, "0.125")])
def test_115_2_wh_is_billed_per_step(step: int, cost: str) -> None:
    """mod_tariffs: 115.2 Wh at 0.25 €/kWh is billed as 116, 125 or 500 Wh."""
    priced = tariff(element(component("ENERGY", "0.25", step)))
    result = price_session(
        priced, [period("2024-01-15T10:00", ENERGY="0.1152")], end=utc("2024-01-15T10:01")
    )
    assert result.total.excl_vat == D(cost)


def test_a_coarse_period_is_cut_where_the_tariff_changes() -> None:
    """tariff_14 16:55 in one period (10 min charging, then 2 min parking): 0.55 as when the
    CPO splits it at 17:00."""
    cost = price_session(
        read_tariff(load_example("tariff_14_step_size.json"), time_zone=BERLIN),
        [period("2024-01-15T15:55", TIME="0.166667", PARKING_TIME="0.033333")],
        end=utc("2024-01-15T16:07"),
    )
    assert cost.total == Price(D("0.55"), D("0.55"))


def test_a_coarse_period_is_cut_where_the_energy_reaches_min_kwh() -> None:
    """0.30 €/kWh for the first 20 kWh, 0.20 after: 30 kWh in one period is 6.00 + 2.00."""
    priced = tariff(
        element(component("ENERGY", "0.30"), max_kwh=D(20)),
        element(component("ENERGY", "0.20"), min_kwh=D(20)),
    )
    cost = price_session(
        priced,
        [period("2024-01-15T10:00", ENERGY="30", TIME="3")],
        end=utc("2024-01-15T13:00"),
    )
    assert cost.total.excl_vat == D("8.00")


def test_an_estimate_is_cut_at_the_night_rate() -> None:
    """22 kWh at 11 kW from 21:30 Berlin: 5.5 kWh before 22:00 at 0.50, 16.5 kWh at 0.33."""
    priced = tariff(
        element(component("ENERGY", "0.33", vat="18"), start_time=time(22), end_time=time(6)),
        element(component("ENERGY", "0.50", vat="18")),
    )
    cost = estimate(
        priced, energy_kwh=D(22), power_kw=D(11), start=datetime(2024, 1, 15, 20, 30, tzinfo=UTC)
    )
    assert cost.total == Price(D("8.195"), D("9.6701"))  # 2.75 + 5.445, and 18 % on top


def test_tariff_4_prices_a_100_period_session() -> None:
    """Friday 16:00 Berlin: 80 periods of 3 min at currents around 32 A, then 20 of parking
    after 20:00 (free). 240 min of charging is a whole number of either step, so the total is
    the periods' own cost."""
    start = datetime(2024, 1, 19, 15, tzinfo=UTC)
    periods, expected_time = [], D(0)
    for i in range(100):
        at = start + timedelta(minutes=3 * i)
        if i < 80:
            amps = D(10 + (i * 7) % 45)
            dims = {"TIME": D("0.05"), "ENERGY": D("0.5"), "MAX_CURRENT": amps, "MIN_CURRENT": amps}
            periods.append(ChargingPeriod(at, dims))
            expected_time += D("0.05") * (D(1) if amps < 32 else D(2))
        else:
            periods.append(ChargingPeriod(at, {"PARKING_TIME": D("0.05")}))
    cost = price_session(
        read_tariff(load_example("tariff_4_complex.json"), time_zone=BERLIN),
        periods,
        end=start + timedelta(minutes=300),
    )
    assert cost.time.excl_vat == expected_time
    assert cost.parking_time == Price(D(0), D(0))
    assert cost.total.excl_vat == D("2.50") + expected_time
    assert cost.total.incl_vat == D("2.875") + expected_time * D("1.2")


# --- every official 2.2.1 tariff example ---------------------------------------------------------


@pytest.mark.parametrize("name", example_names("tariff*.json"))
def test_every_official_tariff_example_prices_a_simple_session(name: str) -> None:
    priced = read_tariff(load_example(name), time_zone=BERLIN)
    cost = price_session(
        priced,
        [
            period("2024-01-15T10:00", ENERGY="10", TIME="1", CURRENT="16", POWER="10"),
            period("2024-01-15T11:00", PARKING_TIME="0.25"),
        ],
        end=utc("2024-01-15T11:15"),
    )
    assert cost.total.excl_vat >= 0
    assert cost.total.incl_vat is not None
    assert cost.total.incl_vat >= cost.total.excl_vat


# --- local time: Europe/Berlin, daylight saving ---------------------------------------------------

PEAK = tariff(
    element(component("TIME", "2"), start_time=time(17), end_time=time(20)),
    element(component("TIME", "1")),
)
NIGHT = tariff(
    element(component("TIME", "1"), start_time=time(22), end_time=time(6)),
    element(component("TIME", "3")),
)


@pytest.mark.parametrize(
    ("start", "expected"),
    [("2024-01-15T15:30", "1.50"), ("2024-07-15T15:30", "2.00")],
    ids=["winter-UTC+1", "summer-UTC+2"],
)
def test_a_time_restriction_is_read_in_berlin_local_time(start: str, expected: str) -> None:
    """17:00-20:00 local: 15:30-16:30 UTC is half peak in January, all peak in July."""
    cost = price_session(PEAK, [period(start, TIME="1")], end=utc(start) + timedelta(hours=1))
    assert cost.total.excl_vat == D(expected)


def test_a_night_rate_loses_an_hour_when_clocks_go_forward() -> None:
    """Sat 30 March 2024 21:00 CET to Sun 08:00 CEST (10 h): night 22:00-06:00 is 7 h."""
    end = utc("2024-03-31T06:00")
    coarse = price_session(NIGHT, [period("2024-03-30T20:00", TIME="10")], end=end)
    split = price_session(
        NIGHT,
        [
            period("2024-03-30T20:00", TIME="1"),
            period("2024-03-30T21:00", TIME="7"),
            period("2024-03-31T04:00", TIME="2"),
        ],
        end=end,
    )
    assert coarse.total.excl_vat == split.total.excl_vat == 7 * 1 + 3 * 3


def test_a_night_rate_gains_an_hour_when_clocks_go_back() -> None:
    """Sat 26 October 2024 21:00 CEST to Sun 08:00 CET (12 h): night is 9 h."""
    cost = price_session(
        NIGHT, [period("2024-10-26T19:00", TIME="12")], end=utc("2024-10-27T07:00")
    )
    assert cost.total.excl_vat == 9 * 1 + 3 * 3


def test_a_start_time_the_clock_skips_begins_at_the_jump() -> None:
    """02:30 does not exist on 31 March 2024 in Berlin: from 01:00 UTC (03:00 CEST) the clock
    is past it."""
    priced = tariff(
        element(component("TIME", "3"), start_time=time(2, 30), end_time=time(12)),
        element(component("TIME", "1")),
    )
    cost = price_session(
        priced, [period("2024-03-31T00:00", TIME="2")], end=utc("2024-03-31T02:00")
    )
    assert cost.total.excl_vat == D(1 + 3)


def test_a_weekend_rate_starts_at_local_midnight() -> None:
    """Friday 23:00 to Saturday 01:00 Berlin is Friday 22:00 to 24:00 UTC."""
    priced = tariff(
        element(component("TIME", "2"), day_of_week=frozenset({"SATURDAY", "SUNDAY"})),
        element(component("TIME", "1")),
    )
    cost = price_session(
        priced, [period("2024-01-19T22:00", TIME="2")], end=utc("2024-01-20T00:00")
    )
    assert cost.total.excl_vat == D(1 + 2)


def test_local_restrictions_without_a_time_zone_are_refused() -> None:
    priced = Tariff(currency="EUR", elements=PEAK.elements)
    with pytest.raises(TariffError, match="time zone"):
        price_session(priced, [period("2024-01-15T10:00", TIME="1")], end=utc("2024-01-15T11:00"))


# --- 2.1.1, VAT and limits ------------------------------------------------------------------------


def test_a_2_1_1_tariff_takes_our_vat_rate_or_leaves_incl_vat_unknown() -> None:
    """2.1.1 prices exclude a VAT they do not state (checklist §5.6)."""
    priced = tariff(element(component("ENERGY", "0.25")), vat_stated=False)
    periods, end = [period("2024-01-15T10:00", ENERGY="20")], utc("2024-01-15T12:00")
    assert price_session(priced, periods, end=end).total == Price(D("5.00"), None)
    assert price_session(priced, periods, end=end, vat_fallback=D(19)).total == Price(
        D("5.00"), D("5.95")
    )


def test_a_2_2_1_component_without_vat_has_none() -> None:
    priced = tariff(element(component("ENERGY", "0.25")))
    cost = price_session(
        priced, [period("2024-01-15T10:00", ENERGY="20")], end=utc("2024-01-15T12:00")
    )
    assert cost.total == Price(D("5.00"), D("5.00"))


def test_a_minimum_without_incl_vat_takes_the_tariffs_single_rate() -> None:
    priced = tariff(element(component("ENERGY", "0.25", vat="19")), min_price=Price(D("1.00")))
    cost = price_session(
        priced, [period("2024-01-15T10:00", ENERGY="2")], end=utc("2024-01-15T10:30")
    )
    assert cost.subtotal == Price(D("0.50"), D("0.595"))
    assert cost.total == Price(D("1.00"), D("1.19"))


def test_a_session_without_periods_costs_its_minimum_price() -> None:
    priced = read_tariff(load_example("tariff_12_025kwh_min_price.json"))
    cost = price_session(priced, [], end=utc("2024-01-15T10:00"))
    assert cost.subtotal == Price(D(0), D(0))
    assert cost.total == Price(D("0.50"), D("0.55"))


# --- refused input ------------------------------------------------------------------------------


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        PriceComponent("ENERGY", 0.25, None, 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ChargingPeriod(utc("2024-01-15T10:00"), {"ENERGY": 20.0})  # type: ignore[dict-item]


def test_naive_datetimes_and_negative_durations_are_refused() -> None:
    priced = tariff(element(component("TIME", "1")))
    with pytest.raises(TariffError):
        ChargingPeriod(datetime(2024, 1, 15, 10), {"TIME": D(1)})
    with pytest.raises(TariffError):
        price_session(priced, [period("2024-01-15T10:00", TIME="1")], end=datetime(2024, 1, 15))
    with pytest.raises(TariffError, match="negative"):
        price_session(priced, [period("2024-01-15T10:00", TIME="-1")], end=utc("2024-01-15T11:00"))
    with pytest.raises(TariffError, match="before"):
        price_session(priced, [period("2024-01-15T10:00", TIME="1")], end=utc("2024-01-15T09:00"))


def test_a_span_longer_than_a_year_is_refused_rather_than_walked_through() -> None:
    priced = tariff(element(component("TIME", "1")))
    year = period("2024-01-15T10:00", TIME="8784")  # 366 days: still priced
    assert price_session(priced, [year], end=utc("2025-01-15T10:00")).total.excl_vat == 8784
    with pytest.raises(TariffError, match="longer than 366 days"):
        price_session(priced, [period("0001-01-02T00:00", TIME="1")], end=utc("9999-12-30T00:00"))
