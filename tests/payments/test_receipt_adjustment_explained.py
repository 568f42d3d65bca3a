"""An adjustment to the amount charged is explained in words, from the figures settlement went
by: the operator's bill, the price shown applied to what was metered, the amount held."""

from decimal import Decimal

import httpx
import pytest

from payments import receipts
from tests.payments.charging import reaches
from tests.payments.settling import cdr_for, finished_session

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_cdr_above_the_price_shown_says_you_pay_the_price_you_were_shown(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    higher = session.total_cost_incl_vat + Decimal("1.25")
    cpo.call_us("POST", "cdrs", json=cdr_for(cpo, checkout, session, total_incl=higher))
    checkout = reaches(checkout, "settled")
    receipt = receipts.receipt_for(checkout)
    shown = receipt.total_incl_vat
    kwh = receipts.number_text(receipt.energy_kwh)
    sentence = (
        f"You pay the price you were shown: the operator's bill was €{higher:.2f}, "
        f"the price shown applied to {kwh} kWh is €{shown}."
    )
    html = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt/").text
    assert sentence.replace("'", "&#x27;") in html
    german = httpx.get(
        f"{live_server.url}/checkout/{checkout.public_id}/receipt/",
        headers={"Accept-Language": "de"},
    ).text
    assert "Sie zahlen den Preis, der Ihnen angezeigt wurde" in german


def test_a_cdr_below_the_price_shown_says_you_pay_the_operators_bill(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    lower = session.total_cost_incl_vat - Decimal("0.20")
    cpo.call_us("POST", "cdrs", json=cdr_for(cpo, checkout, session, total_incl=lower))
    checkout = reaches(checkout, "settled")
    text = receipts.present(receipts.receipt_for(checkout))
    assert text["adjustment"].startswith("You pay the operator's bill, as it is lower")
    assert f"€{lower:.2f}" in text["adjustment"]


def test_no_adjustment_no_sentence(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    total = session.total_cost_incl_vat
    cpo.call_us("POST", "cdrs", json=cdr_for(cpo, checkout, session, total_incl=total))
    receipt = receipts.receipt_for(reaches(checkout, "settled"))
    assert all(item.dimension != "adjustment" for item in receipt.costs)
    assert receipts.present(receipt)["adjustment"] == ""
