"""`retrieve_dispute` reads a dispute as Stripe has it (the fake serves Stripe's dispute object
at `GET /v1/disputes/{id}`), and says None for one Stripe does not know."""

from datetime import UTC, datetime

from payments import gateway
from tests.support.localstripe import FakeStripe, card_payment_method, set_dispute

DUE_BY = datetime(2030, 1, 15, 23, 59, 59, tzinfo=UTC)


def test_it_reads_stripe_s_figures_and_the_intent_disputed(stripe_settings: FakeStripe) -> None:
    held = gateway.place_hold(
        amount_minor=4000,
        currency="EUR",
        payment_method=card_payment_method(stripe_settings.base_url, "4242424242424242"),
        checkout_ref="chk_dispute_read_1",
        idempotency_key="hold-chk_dispute_read_1",
    )
    gateway.capture(held.id, amount_minor=2500, idempotency_key="capture-chk_dispute_read_1")
    opened = set_dispute(
        stripe_settings.base_url,
        "du_read_1",
        payment_intent=held.id,
        reason="product_not_received",
        due_by=int(DUE_BY.timestamp()),
    )

    dispute = gateway.retrieve_dispute("du_read_1")

    assert dispute is not None
    assert (dispute.id, dispute.intent_id, dispute.charge_id) == (
        "du_read_1",
        held.id,
        opened["charge"],
    )
    assert (dispute.amount, dispute.currency) == (2500, "EUR")  # what was captured
    assert (dispute.status, dispute.reason) == ("needs_response", "product_not_received")
    assert dispute.evidence_due_by == DUE_BY

    set_dispute(stripe_settings.base_url, "du_read_1", status="won")
    again = gateway.retrieve_dispute("du_read_1")
    assert again is not None and again.status == "won" and again.amount == 2500


def test_a_dispute_stripe_does_not_know_is_none(stripe_settings: FakeStripe) -> None:
    assert gateway.retrieve_dispute("du_nobody_opened") is None
