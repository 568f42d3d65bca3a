"""`parse_webhook` takes from a verified `charge.dispute.*` event only the dispute it names (to
be read again from Stripe) and its intent, from `payment_intent`, else from an expanded charge;
an event that names no dispute is no Stripe event (400)."""

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


def test_it_names_the_dispute_and_its_intent_and_nothing_more() -> None:
    event = parsed(
        {
            "id": "dp_1",
            "amount": 1234,
            "currency": "eur",
            "charge": "ch_1",
            "payment_intent": "pi_1",
            "reason": "product_not_received",
            "status": "lost",
            "evidence_details": {"due_by": 1894751999},
        }
    )
    assert (event.dispute_id, event.intent_id) == ("dp_1", "pi_1")


def test_an_expanded_charge_names_the_intent() -> None:
    event = parsed(
        {
            "id": "dp_1",
            "charge": {"id": "ch_1", "object": "charge", "payment_intent": "pi_2"},
            "payment_intent": None,
        }
    )
    assert (event.dispute_id, event.intent_id) == ("dp_1", "pi_2")


@pytest.mark.parametrize("dispute_id", [None, "", 12, {"object": "dispute"}])
def test_a_dispute_event_that_names_no_dispute_is_refused(dispute_id) -> None:
    with pytest.raises(gateway.InvalidWebhook):
        parsed({"id": dispute_id, "amount": 1234, "currency": "eur", "status": "lost"})


def test_other_events_carry_no_dispute() -> None:
    body = {
        "id": "evt_2",
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": "pi_1", "object": "payment_intent"}},
    }
    payload = json.dumps(body).encode()
    event = gateway.parse_webhook(payload, stripe_signature(payload, SECRET))
    assert event.dispute_id is None and event.intent_id == "pi_1"
