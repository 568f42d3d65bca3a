"""The simulator as a 2.3.0 CPO: its tariffs say `tax_included`, write their limits as
PriceLimits and may name a `preauthorize_amount`; its Sessions and CDRs write Price as
`before_taxes` with the VAT as a tax; it reads 2.3.0 Tokens (EMAID included) and 2.3.0 prices.
Checked against the spec's own examples, without the product."""

from decimal import Decimal
from typing import Any

import pytest

from cpo_simulator import CpoSimulator
from cpo_simulator.sessions import Cost, price, render_cost
from cpo_simulator.tokens import validate_token
from cpo_simulator.transport import load_json
from tests.ocpi.examples import example, example_names
from tests.simulator.pulling import crawl, headers_for

D = Decimal


def tariffs(sim: CpoSimulator, version: str) -> list[dict[str, Any]]:
    url = f"{sim.base_url}/ocpi/{version}/tariffs"
    return [
        t for page in crawl(url, headers_for(sim, version)) for t in load_json(page.content)["data"]
    ]


def test_it_serves_230_tariffs_with_tax_included_price_limits_and_a_preauthorize_amount() -> None:
    with CpoSimulator(
        versions=("2.3.0", "2.2.1"), max_price="20.00", preauthorize_amount="35.00"
    ) as sim:
        ac, _ = tariffs(sim, "2.3.0")
        older, _ = tariffs(sim, "2.2.1")
    assert ac["tax_included"] == "NO"
    assert ac["max_price"] == {"before_taxes": D("16.5289"), "after_taxes": D("20.00")}
    assert ac["preauthorize_amount"] == D("35.00")
    assert ac["elements"] == older["elements"]
    assert older["max_price"] == {"excl_vat": D("16.5289"), "incl_vat": D("20.00")}
    assert "tax_included" not in older and "preauthorize_amount" not in older


def test_it_writes_a_230_price_as_before_taxes_with_the_vat_as_a_tax() -> None:
    cost = Cost(D("8.50"), D("10.12"))
    assert render_cost(cost, "2.3.0") == {
        "before_taxes": D("8.50"),
        "taxes": [{"name": "VAT", "amount": D("1.62")}],
    }
    assert render_cost(cost, "2.2.1") == {"excl_vat": D("8.50"), "incl_vat": D("10.12")}
    assert render_cost(cost, "2.1.1") == D("8.50")


@pytest.mark.parametrize(
    ("name", "kwh", "seconds", "excl", "incl"),
    [
        ("tariff_1_simple_2hour.json", "0", 9000, "5.00", "5.50"),
        ("tariff_6_025kwh_start_max_price.json", "50", 3600, "10.00", "11.00"),
        ("tariff_12_025kwh_min_price.json", "1", 600, "0.50", "0.55"),
        ("tariff_20_simple_north_american_inclusive.json", "0", 9000, "5.25", "5.25"),
    ],
)
def test_it_prices_230_tariffs_as_their_text_says(
    name: str, kwh: str, seconds: int, excl: str, incl: str
) -> None:
    cost = price(example(name, "2.3.0"), D(kwh), seconds)
    assert (cost.excl_vat, cost.incl_vat) == (D(excl), D(incl))


@pytest.mark.parametrize("name", example_names("token_*.json", "2.3.0"))
def test_it_reads_every_230_token_example(name: str) -> None:
    data = example(name, "2.3.0")
    validate_token(data, "2.3.0", partial="patch" in name)


def test_it_reads_an_emaid_token_in_230_only() -> None:
    token = {**example("token_example_1_app_user.json", "2.3.0"), "type": "EMAID"}
    validate_token(token, "2.3.0")
    with pytest.raises(ValueError, match="type"):
        validate_token(token, "2.2.1")


def test_a_preferred_version_it_does_not_offer_is_refused() -> None:
    with pytest.raises(ValueError, match="prefer_version"):
        CpoSimulator(versions=("2.3.0", "2.2.1"), prefer_version="2.1.1")
