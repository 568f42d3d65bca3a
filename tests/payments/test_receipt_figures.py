"""The receipt's figures when the amount taken is not simply the price shown: a CDR below it
(we take the CDR), and a 2.1.1 CPO (prices excl. VAT: the country's rate applies, no signed
meter values)."""

from decimal import Decimal

import httpx
import pytest

from payments import receipts, refunds
from tests.payments.charging import reaches
from tests.payments.settling import cdr_for, finished_session
from tests.payments.visit import captured, settled

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_cdr_below_the_price_shown_is_an_adjustment_on_the_receipt(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    lower = session.total_cost_incl_vat - Decimal("0.20")
    cpo.call_us("POST", "cdrs", json=cdr_for(cpo, checkout, session, total_incl=lower))
    receipt = receipts.receipt_for(reaches(checkout, "settled"))
    assert receipt.total_incl_vat == lower == captured(checkout)
    assert receipt.priced_incl_vat is not None
    assert receipt.priced_incl_vat.quantize(Decimal("0.01")) == session.total_cost_incl_vat
    adjustment = receipt.costs[-1]
    assert adjustment.dimension == "adjustment" and adjustment.incl_vat == Decimal("-0.20")
    assert sum(item.incl_vat for item in receipt.costs) == receipt.total_incl_vat
    assert receipt.vat_rate == 21  # the simulated NL party's
    assert receipt.total_excl_vat + receipt.vat_amount == receipt.total_incl_vat
    assert receipt.released == Decimal("50.00") - lower
    assert receipt.calibration is None  # this CDR carries no signed data
    html = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt/").text
    assert "Adjustment to the amount charged" in html and "-€0.20" in html


def test_a_211_receipt_adds_the_countrys_vat(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings, version="2.1.1")
    receipt = receipts.receipt_for(checkout)
    assert receipt.total_incl_vat == captured(checkout) > 0
    assert receipt.vat_rate == 21  # the Netherlands: the simulator's location
    assert receipt.total_excl_vat + receipt.vat_amount == receipt.total_incl_vat
    assert receipt.calibration is None
    html = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt/").text
    assert f"€{receipt.total_incl_vat}" in html and "VAT 21 %" in html


def test_a_refund_leaves_the_receipt_as_charged_and_lowers_the_live_page(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings)
    taken = captured(checkout)
    refunds.request_refund(
        checkout_id=checkout.pk,
        amount=Decimal("0.10"),
        reason="goodwill",
        requested_by="operator",
        key="receipt-test",
        borne_by="platform",
    )
    receipt = receipts.receipt_for(checkout)
    assert (receipt.captured, receipt.refunded) == (taken, Decimal("0.10"))
    assert receipt.total_incl_vat == taken  # the refund is a credit note of its own
    assert sum(item.incl_vat for item in receipt.costs) == receipt.total_incl_vat
    assert [note.amount for note in receipt.credit_notes] == [Decimal("0.10")]
    live = httpx.get(f"{live_server.url}/api/v1/checkouts/{checkout.public_id}").json()
    assert (live["amount_captured"], live["amount_refunded"]) == (str(taken), "0.10")
    assert live["receipt_path"] == f"/checkout/{checkout.public_id}/receipt/"
