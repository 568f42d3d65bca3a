"""Operators see each checkout with its state, money, EVSE, partner and Stripe ids."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from payments.models import Checkout
from tests.payments.charger import charger
from tests.payments.paying import VISA, card, pay, started

pytestmark = pytest.mark.django_db


def test_a_held_checkout_is_listed_with_its_money_and_ids(client: Client, stripe_settings) -> None:
    charger()
    checkout = started(client)
    pay(client, checkout["id"], card(stripe_settings, checkout["setup_client_secret"], VISA))
    stored = Checkout.objects.get(public_id=checkout["id"])
    client.force_login(User.objects.create_superuser("operator", "", "pw-operator-1"))
    listing = client.get("/admin/payments/checkout/?status=authorized").content.decode()
    assert stored.stripe_payment_intent in listing and "€50.00" in listing
    page = client.get(f"/admin/payments/checkout/{stored.pk}/change/").content.decode()
    assert "DE*ABC*ELOC1" in page and "hold" in page and "visa …4242" in page
