"""`parse_webhook` reads a verified `charge.dispute.*` event into a `Dispute`: its intent from
`payment_intent`, else from an expanded charge; a dispute without the figures we book is no
Stripe event (400)."""

import json

import pytest

from payments import gateway
from tests.support.localstripe import stripe_signature

SECRET = "whsec_dispute_parsing"


@pytest.fixture(autouse=True)
def webhook_secret(settings) -> None:
    settings.STRIPE_WEBHOOK_SECRET = SECRET


def parsed(dispute: dict) -> gateway.WebhookEvent:
    body = {
        "id": "evt_1",
        "object": "event",
        "type": "charge.dispute.created",
        "data": {"object": {"object": "dispute", **dispute}},
    }
    payload = json.dumps(body).encode()
    return gateway.parse_webhook(payload, stripe_signature(payload, SECRET))


def test_it_reads_the_dispute_and_its_intent() -> None:
    event = parsed(
        {
            "id": "dp_1",
            "amount": 1234,
            "currency": "eur",
            "charge": "ch_1",
            "payment_intent": "pi_1",
            "reason": "product_not_received",
            "status": "needs_response",
            "evidence_details": {"due_by": 1894751999},
        }
    )
    assert event.intent_id == "pi_1"
    assert event.dispute is not None
    assert (event.dispute.id, event.dispute.amount, event.dispute.currency) == ("dp_1", 1234, "EUR")
    assert (event.dispute.reason, event.dispute.status) == (
        "product_not_received",
        "needs_response",
    )
    assert event.dispute.charge_id == "ch_1"
    assert event.dispute.evidence_due_by is not None
    assert event.dispute.evidence_due_by.isoformat() == "2030-01-15T23:59:59+00:00"


def test_an_expanded_charge_names_the_intent() -> None:
    event = parsed(
        {
            "id": "dp_1",
            "amount": 500,
            "currency": "eur",
            "charge": {"id": "ch_1", "object": "charge", "payment_intent": "pi_2"},
            "payment_intent": None,
            "reason": "fraudulent",
            "status": "needs_response",
            "evidence_details": {"due_by": None},
        }
    )
    assert event.intent_id == "pi_2"
    assert event.dispute is not None and event.dispute.charge_id == "ch_1"
    assert event.dispute.evidence_due_by is None


@pytest.mark.parametrize("amount", [None, "12.34", 12.34, -1, True])
def test_a_dispute_without_an_amount_in_minor_units_is_refused(amount) -> None:
    with pytest.raises(gateway.InvalidWebhook):
        parsed({"id": "dp_1", "amount": amount, "currency": "eur", "status": "needs_response"})


def test_other_events_carry_no_dispute() -> None:
    body = {
        "id": "evt_2",
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": "pi_1", "object": "payment_intent"}},
    }
    payload = json.dumps(body).encode()
    event = gateway.parse_webhook(payload, stripe_signature(payload, SECRET))
    assert event.dispute is None and event.intent_id == "pi_1"
