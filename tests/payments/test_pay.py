"""`pay` and `confirm`: the hold is placed by the server with the card Stripe.js collected."""

import pytest
from django.test import Client

from payments.models import Checkout, LedgerEntry
from tests.payments.charger import charger
from tests.payments.paying import DECLINED, THREE_DS, VISA, card, pay, started
from tests.support.localstripe import complete_3ds

pytestmark = pytest.mark.django_db


def test_a_good_card_is_held_and_the_checkout_authorized(client: Client, stripe_settings) -> None:
    charger()
    checkout = started(client)
    status, body = pay(
        client, checkout["id"], card(stripe_settings, checkout["setup_client_secret"], VISA)
    )
    assert status == 200 and body["status"] == "authorized" and body["payment_status"] == "held"
    stored = Checkout.objects.get(public_id=checkout["id"])
    hold = LedgerEntry.objects.get(checkout=stored)
    assert (hold.kind, hold.amount_minor, hold.currency) == ("hold", 5000, "EUR")
    assert stored.evse_claim_id == stored.evse_id  # the EVSE stays ours


def test_a_declined_card_gets_the_reason_and_a_fresh_setup(client: Client, stripe_settings) -> None:
    charger()
    checkout = started(client)
    status, body = pay(
        client, checkout["id"], card(stripe_settings, checkout["setup_client_secret"], DECLINED)
    )
    assert status == 402 and "declined" in body["detail"]
    assert (
        body["status"] == "created"
        and body["setup_client_secret"] != checkout["setup_client_secret"]
    )
    status, body = pay(
        client, checkout["id"], card(stripe_settings, body["setup_client_secret"], VISA)
    )
    assert status == 200 and body["status"] == "authorized"


def test_three_declines_end_the_checkout(client: Client, stripe_settings) -> None:
    charger()
    checkout = started(client)
    secret = checkout["setup_client_secret"]
    for _ in range(3):
        status, body = pay(client, checkout["id"], card(stripe_settings, secret, DECLINED))
        secret = body.get("setup_client_secret")
    assert status == 402 and body["status"] == "failed" and "3 times" in body["failure_reason"]
    assert (
        Checkout.objects.get(public_id=checkout["id"]).evse_claim is None
    )  # the EVSE is free again


def test_3d_secure_is_asked_for_then_confirmed_from_stripe(client: Client, stripe_settings) -> None:
    charger()
    checkout = started(client)
    status, body = pay(
        client, checkout["id"], card(stripe_settings, checkout["setup_client_secret"], THREE_DS)
    )
    assert (
        status == 200
        and body["status"] == "requires_action"
        and body["client_secret"].startswith("pi_")
    )
    intent_id = Checkout.objects.get(public_id=checkout["id"]).stripe_payment_intent
    complete_3ds(stripe_settings.base_url, intent_id, success=True)
    confirmed = client.post(f"/api/v1/checkouts/{checkout['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "authorized"
    again = client.post(f"/api/v1/checkouts/{checkout['id']}/confirm")
    assert again.json()["status"] == "authorized"
    assert LedgerEntry.objects.filter(kind="hold").count() == 1


def test_a_failed_3d_secure_is_a_402_and_another_card_may_be_tried(
    client: Client, stripe_settings
) -> None:
    charger()
    checkout = started(client)
    pay(client, checkout["id"], card(stripe_settings, checkout["setup_client_secret"], THREE_DS))
    complete_3ds(
        stripe_settings.base_url,
        Checkout.objects.get(public_id=checkout["id"]).stripe_payment_intent,
        success=False,
    )
    confirmed = client.post(f"/api/v1/checkouts/{checkout['id']}/confirm")
    assert confirmed.status_code == 402
    assert confirmed.json()["status"] == "created" and confirmed.json()["setup_client_secret"]


def test_a_doubled_pay_places_one_hold(client: Client, stripe_settings) -> None:
    charger()
    checkout = started(client)
    method = card(stripe_settings, checkout["setup_client_secret"], VISA)
    first, second = pay(client, checkout["id"], method), pay(client, checkout["id"], method)
    assert first[1]["status"] == second[1]["status"] == "authorized"
    assert LedgerEntry.objects.filter(kind="hold").count() == 1


def test_a_driver_can_cancel_and_the_hold_is_released(
    client: Client, stripe_settings, eager_tasks, django_capture_on_commit_callbacks
) -> None:
    charger()
    checkout = started(client)
    pay(client, checkout["id"], card(stripe_settings, checkout["setup_client_secret"], VISA))
    with django_capture_on_commit_callbacks(execute=True):
        stopped = client.post(f"/api/v1/checkouts/{checkout['id']}/stop")
    assert stopped.status_code == 202 and stopped.json()["status"] == "failed"
    stored = Checkout.objects.get(public_id=checkout["id"])
    assert stored.payment_status == "released"
    assert list(stored.ledger.values_list("kind", "amount_minor")) == [
        ("hold", 5000),
        ("release", 5000),
    ]
