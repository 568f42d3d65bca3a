"""An unpaid checkout expires when its deadline falls due; the EVSE is free and any intent is
cancelled."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from payments import tasks
from payments.models import Checkout, Deadline
from tests.payments.charger import charger
from tests.payments.paying import THREE_DS, VISA, card, pay, started

pytestmark = pytest.mark.django_db


def fall_due() -> None:
    Deadline.objects.update(due_at=timezone.now() - timedelta(seconds=1))


def test_an_unpaid_checkout_expires_and_frees_the_evse(
    client: Client, stripe_settings, eager_tasks
) -> None:
    charger()
    checkout = started(client)
    fall_due()
    assert tasks.sweep_deadlines() == 1
    stored = Checkout.objects.get(public_id=checkout["id"])
    assert stored.status == "expired" and stored.evse_claim is None
    assert tasks.sweep_deadlines() == 0  # done once


def test_an_intent_waiting_for_3d_secure_is_cancelled_on_expiry(
    client: Client, stripe_settings, eager_tasks, django_capture_on_commit_callbacks
) -> None:
    charger()
    checkout = started(client)
    pay(client, checkout["id"], card(stripe_settings, checkout["setup_client_secret"], THREE_DS))
    fall_due()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sweep_deadlines()
    stored = Checkout.objects.get(public_id=checkout["id"])
    assert stored.status == "expired"
    from payments import gateway

    assert gateway.retrieve(stored.stripe_payment_intent).status == "canceled"


def test_a_paid_checkout_does_not_expire(client: Client, stripe_settings, eager_tasks) -> None:
    charger()
    checkout = started(client)
    pay(client, checkout["id"], card(stripe_settings, checkout["setup_client_secret"], VISA))
    fall_due()
    tasks.sweep_deadlines()
    assert Checkout.objects.get(public_id=checkout["id"]).status == "authorized"
