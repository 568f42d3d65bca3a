"""A refund over OCPI 2.3.0 is a Financial Advice Confirmation of its own: PARTIAL_SUCCESS,
with what the card is charged now (captured less refunded) and the refund's Stripe id."""

from decimal import Decimal

import pytest

from payments import refunds
from tests.payments.charging import pay, reaches
from tests.payments.ptp import terminal_at
from tests.payments.settling import minor

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_refund_is_advised_with_the_amount_now_taken(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(version="2.3.0", location_count=1, update_interval=0.2, cdr_fault=None)
    _, evse_id = terminal_at(cpo)
    checkout = reaches(pay(live_server.url, stripe_settings, evse_id), "charging")
    cpo.end_session(cpo.wait_for_session("ACTIVE")["id"])
    checkout = reaches(checkout, "settled")
    captured = minor(checkout)["capture"]
    cpo.wait_for_advices(1)
    refunds.request_refund(
        checkout_id=checkout.pk,
        amount=Decimal("0.20"),
        reason="cable was faulty",
        requested_by="operator:anna",
        key="operator:ptp-1",
        borne_by="platform",
    )
    first, second = cpo.wait_for_advices(2)
    assert (first["capture_status_code"], second["capture_status_code"]) == (
        "SUCCESS",
        "PARTIAL_SUCCESS",
    )
    assert first["id"] != second["id"]
    assert second["authorization_reference"] == checkout.authorization_reference
    total = second["total_costs"]
    now_taken = total["before_taxes"] + sum(t["amount"] for t in total["taxes"])
    assert now_taken == Decimal(captured - 20) / 100
    assert "refunded 0.20 EUR" in second["capture_status_message"]
    (refund_id,) = [r.stripe_refund_id for r in checkout.refunds.all()]
    assert f"Stripe: {refund_id}" in second["eft_data"]
