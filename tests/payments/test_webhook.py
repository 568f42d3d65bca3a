"""`/stripe/webhook/`: verified, stored once, and acting exactly as `confirm` would."""

import json
import time

import pytest
from django.test import Client

from payments.models import Checkout, LedgerEntry, StripeEvent
from tests.payments.charger import charger
from tests.payments.paying import THREE_DS, card, pay, started
from tests.support.localstripe import complete_3ds, stripe_signature

pytestmark = pytest.mark.django_db


def event(
    intent_id: str, event_id: str = "evt_1", kind: str = "payment_intent.amount_capturable_updated"
) -> bytes:
    body = {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": {"id": intent_id, "object": "payment_intent"}},
    }
    return json.dumps(body).encode()


def send(client: Client, payload: bytes, secret: str) -> int:
    return client.post(
        "/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature(payload, secret),
    ).status_code


def awaiting_3ds(client: Client, fake) -> tuple[str, str]:
    charger()
    checkout = started(client)
    pay(client, checkout["id"], card(fake, checkout["setup_client_secret"], THREE_DS))
    intent_id = Checkout.objects.get(public_id=checkout["id"]).stripe_payment_intent
    complete_3ds(fake.base_url, intent_id, success=True)
    return checkout["id"], intent_id


def test_an_intent_event_moves_the_checkout_as_confirm_would(
    client: Client, stripe_settings
) -> None:
    checkout_id, intent_id = awaiting_3ds(client, stripe_settings)
    assert send(client, event(intent_id), stripe_settings.webhook_secret) == 200
    assert Checkout.objects.get(public_id=checkout_id).status == "authorized"
    confirmed = client.post(f"/api/v1/checkouts/{checkout_id}/confirm").json()
    assert confirmed["status"] == "authorized"  # whichever came second changed nothing
    assert LedgerEntry.objects.filter(kind="hold").count() == 1


def test_a_replayed_event_changes_nothing(client: Client, stripe_settings) -> None:
    _, intent_id = awaiting_3ds(client, stripe_settings)
    payload = event(intent_id)
    assert send(client, payload, stripe_settings.webhook_secret) == 200
    assert send(client, payload, stripe_settings.webhook_secret) == 200
    assert StripeEvent.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="hold").count() == 1


def test_a_bad_signature_is_a_400_and_changes_nothing(client: Client, stripe_settings) -> None:
    checkout_id, intent_id = awaiting_3ds(client, stripe_settings)
    assert send(client, event(intent_id), "whsec_someone_else") == 400
    assert (
        client.post(
            "/stripe/webhook/", event(intent_id), content_type="application/json"
        ).status_code
        == 400
    )
    assert Checkout.objects.get(public_id=checkout_id).status == "created"
    assert not StripeEvent.objects.exists()


def test_an_event_for_an_unknown_intent_is_stored_and_harmless(
    client: Client, stripe_settings
) -> None:
    assert send(client, event("pi_unknown", "evt_2"), stripe_settings.webhook_secret) == 200
    assert StripeEvent.objects.get().intent_id == "pi_unknown"
    assert not Checkout.objects.exists()
