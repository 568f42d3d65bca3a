"""Every official OCPI 2.3.0 tariff example priced as the Tariffs chapter's text says, read the
way a 2.3.0 CPO's tariff is read (its serializer, then the stored fields the engine takes).

The scenarios are those of OCPI-CHECKLIST §5.5 (`data/checklist_vectors.json`, the same
sessions as for 2.2.1), plus the three the 2.3.0 text adds. Where the text leaves a choice,
the reading taken is written at its case:

- tariff_3 (alt URL): the text says 5.63 / 6.24 (20.45 kWh billed as 20.5 with its 100 Wh
  step), its own table 5.61 / 6.22 (20.45 kWh, no step; checklist B-16). We follow the text
  and the step_size: 5.625 / 6.2375, charged 5.63 / 6.24.
- tariff_4 on Saturday: the text prints 12.28 / 13.861, but its own inputs (114 min at
  1.25 €/h is 2.375, not 2.28) give 12.375 / 13.975 (B-15); we price the inputs.
- tariff_14 (no `vat`, `tax_included` NO): the text gives amounts "ex VAT" only. A component
  without `vat` under NO names no rate (taxes by local law, as tariff_19 says), so the amount
  incl. tax is the location country's rate on top where we know one, else unknown.
- tariff_19 (NO, no `vat`): "C$ 5.00, plus taxes according to locally applicable legislation":
  5.00 before taxes; after taxes unknown (we know no rate for Canada).
- tariff_20 (YES, no `vat`): "C$ 5.25. All taxes that are due are included": 5.25 after
  taxes; the share of tax is not stated, so before taxes is taken as the whole 5.25.
- tariff_11 (not possible in OCPI): its text names a 0.50 credit-card start fee and 2.00 €/h
  incl. VAT; the elements say 0.40 at 25 % and 1.90 €/h at 5.2 % (1.9988 incl.), which we price:
  one hour is 2.30 / 2.4988, charged 2.50 as the text's 0.50 + 2.00.
- tariff_5 (free, no `vat`): 0.00, and 0.00 incl. tax, whatever rate local law has.
"""

import copy
from decimal import Decimal
from typing import Any

import pytest

from ocpi_peer import versions
from stations import pricing, tariffs
from stations.pricing import Price, price_session
from tests.ocpi.examples import example, example_names
from tests.stations.tariff_json import DATA, load_json, parse_datetime, read_periods

D = Decimal
V230 = versions.get("2.3.0")
VECTORS = load_json(DATA / "checklist_vectors.json")["cases"]
# What the 2.3.0 text says where it is not what 2.2.1's says (see the module docstring).
DIFFERENT = {
    "tariff_14-16:55": {"excl_vat": "0.55", "incl_vat": None},
    "tariff_14-16:35": {"excl_vat": "1.30", "incl_vat": None},
    "tariff_14-19:40": {"excl_vat": "0.73", "incl_vat": None},
}


def read_230(name: str, *, time_zone: str | None = "Europe/Berlin") -> pricing.Tariff:
    """A 2.3.0 example as a CPO's push is read: the version's serializer, then the engine."""
    fields = V230.read(V230.tariff, copy.deepcopy(example(name, "2.3.0")))
    return tariffs.from_fields(fields, time_zone=time_zone)


def hours(start: str, end: str, **volumes: str) -> dict[str, Any]:
    return {
        "start": start,
        "end": end,
        "periods": [
            {
                "start_date_time": start,
                "dimensions": [{"type": k, "volume": D(v)} for k, v in volumes.items()],
            }
        ],
    }


def price(tariff: pricing.Tariff, session: dict[str, Any], **options: Any) -> pricing.SessionCost:
    return price_session(
        tariff, read_periods(session["periods"]), end=parse_datetime(session["end"]), **options
    )


def amount(value: str | None) -> Decimal | None:
    return None if value is None else D(value)


@pytest.mark.parametrize("case", VECTORS, ids=[c["id"] for c in VECTORS])
def test_it_prices_each_spec_scenario_as_the_230_text_says(case: dict[str, Any]) -> None:
    expected = DIFFERENT.get(case["id"], case["expected"])
    cost = price_session(
        read_230(case["tariff"], time_zone=case["time_zone"]),
        read_periods(case["charging_periods"]),
        end=parse_datetime(case["end"]),
        reservation_expired=case.get("reservation_expired", False),
    )
    assert cost.total == Price(D(expected["excl_vat"]), amount(expected["incl_vat"])), case["row"]
    if case["id"] not in DIFFERENT:
        rounded = case.get("rounded", case["expected"])
        assert cost.rounded_total == Price(D(rounded["excl_vat"]), D(rounded["incl_vat"]))


def test_tariff_14_gets_the_country_rate_on_top_where_we_know_one() -> None:
    """16:55, 10 min charging and 2 min parking: 0.55 ex VAT, German VAT added on top."""
    [case] = [c for c in VECTORS if c["id"] == "tariff_14-16:55"]
    cost = price_session(
        read_230(case["tariff"]),
        read_periods(case["charging_periods"]),
        end=parse_datetime(case["end"]),
        vat_fallback=D(19),
    )
    assert cost.total == Price(D("0.55"), D("0.6545"))


def test_the_north_american_tariff_without_taxes_has_them_added_by_local_law() -> None:
    """tariff_19: 2.5 hours at C$ 2.00: 5.00 before taxes, after taxes unknown here."""
    cost = price(
        read_230("tariff_19_simple_north_american_exclusive.json", time_zone="America/Toronto"),
        hours("2024-12-05T15:00:00Z", "2024-12-05T17:30:00Z", TIME="2.5"),
    )
    assert cost.total == Price(D("5.00"), None)
    assert cost.currency == "CAD"


def test_the_north_american_tariff_with_taxes_included_costs_what_it_says() -> None:
    """tariff_20: 2.5 hours at C$ 2.10 with every tax included: 5.25 is what the driver pays."""
    tariff = read_230("tariff_20_simple_north_american_inclusive.json", time_zone=None)
    cost = price(tariff, hours("2024-12-05T15:00:00Z", "2024-12-05T17:30:00Z", TIME="2.5"))
    assert cost.total == Price(D("5.25"), D("5.25"))
    assert cost.rounded_total.incl_vat == D("5.25")


def test_prices_that_include_a_stated_vat_are_split_by_it() -> None:
    """tax_included YES with 10 % stated: 2.20 per hour is 2.00 before it."""
    data = {**example("tariff_1_simple_2hour.json", "2.3.0"), "tax_included": "YES"}
    data["elements"] = [
        {"price_components": [{"type": "TIME", "price": D("2.20"), "vat": D(10), "step_size": 60}]}
    ]
    tariff = tariffs.from_fields(V230.read(V230.tariff, data), time_zone=None)
    cost = price(tariff, hours("2024-01-15T10:00:00Z", "2024-01-15T12:30:00Z", TIME="2.5"))
    assert cost.total == Price(D("5.00"), D("5.50"))
    [component] = tariff.elements[0].price_components
    assert pricing.unit_price(tariff, component, None) == Price(D("2.00"), D("2.20"))


def test_no_tax_applicable_means_none_whatever_the_vat_says() -> None:
    data = {**example("tariff_8_simple_025kwh.json", "2.3.0"), "tax_included": "N/A"}
    tariff = tariffs.from_fields(V230.read(V230.tariff, data), time_zone=None)
    cost = price(
        tariff,
        hours("2024-01-15T10:00:00Z", "2024-01-15T12:00:00Z", ENERGY="20", TIME="2"),
        vat_fallback=D(19),
    )
    assert cost.total == Price(D("5.00"), D("5.00"))


def test_the_tariff_that_ocpi_cannot_express_prices_its_elements() -> None:
    """tariff_11: the credit-card start fee and one hour of charging, 0.50 + 2.00 incl. VAT."""
    cost = price(
        read_230("tariff_11_not_possible_alt_text.json"),
        hours("2024-01-15T10:00:00Z", "2024-01-15T11:00:00Z", TIME="1"),
    )
    assert cost.total == Price(D("2.30"), D("2.4988"))
    assert cost.rounded_total == Price(D("2.30"), D("2.50"))


def test_min_and_max_price_limits_clamp_before_and_after_taxes() -> None:
    """tariff_6's PriceLimit 10 / 11 and tariff_12's 0.50 / 0.55, as 2.3.0 states them."""
    capped = read_230("tariff_6_025kwh_start_max_price.json")
    floored = read_230("tariff_12_025kwh_min_price.json")
    assert capped.max_price == Price(D("10.00"), D("11.00"))
    assert floored.min_price == Price(D("0.50"), D("0.55"))
    cost = price(
        capped, hours("2024-01-15T10:00:00Z", "2024-01-15T15:00:00Z", ENERGY="50", TIME="5")
    )
    assert cost.total == Price(D("10.00"), D("11.00"))


@pytest.mark.parametrize(
    "name",
    [n for n in example_names("tariff*.json", "2.3.0") if n != "tariff_put_example.json"],
)
def test_every_230_tariff_example_reads_into_the_engine(name: str) -> None:
    tariff = read_230(name)
    assert tariff.tax_included == example(name, "2.3.0")["tax_included"]
    assert tariff.vat_stated is False  # a missing vat is a rate local law sets
