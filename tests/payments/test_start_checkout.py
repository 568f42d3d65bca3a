"""`POST /api/v1/checkouts`: a driver starts paying for a connector."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from payments.models import Checkout
from tests.payments.charger import EVSE_ID, charger

pytestmark = pytest.mark.django_db


def start(client: Client, address: str = "192.0.2.1", **body) -> dict:
    response = client.post(
        "/api/v1/checkouts",
        {"evse_id": EVSE_ID, "connector_id": "1", **body},
        content_type="application/json",
        REMOTE_ADDR=address,
    )
    return {**response.json(), "http": response.status_code}


def test_a_checkout_holds_the_price_shown_and_what_stripe_js_needs(
    client: Client, stripe_settings
) -> None:
    charger()
    body = start(client, email="driver@example.com")
    assert body["http"] == 201 and body["status"] == "created"
    assert body["amount_held"] == "50.00" and body["currency"] == "EUR"
    assert body["publishable_key"] == stripe_settings.publishable_key
    assert body["setup_client_secret"].startswith("seti_")
    checkout = Checkout.objects.get(public_id=body["id"])
    assert checkout.status == "created"
    assert checkout.tariff_snapshot["tariff_id"] == "AC" and checkout.tariff_snapshot["lines"]
    assert len(body["id"]) >= 22  # at least 128 bits in the driver's link


def test_bad_input_is_a_400_naming_the_fields(client: Client, stripe_settings) -> None:
    charger()
    body = start(client, connector_id="", email="not-an-address")
    assert body["http"] == 400
    assert set(body["fields"]) == {"connector_id", "email"}
    assert start(client, evse_id="NOPE")["fields"] == {"evse_id": ["no charger is known as NOPE"]}
    assert "connector_id" in start(client, connector_id="9")["fields"]


def test_an_occupied_charger_is_a_409(client: Client, stripe_settings) -> None:
    charger(status="CHARGING")
    body = start(client)
    assert body["http"] == 409 and "another vehicle is charging there" in body["detail"]


def test_two_drivers_on_one_evse_one_gets_a_409(client: Client, stripe_settings) -> None:
    charger()
    assert start(client, address="192.0.2.1")["http"] == 201
    second = start(client, address="198.51.100.7")
    assert second["http"] == 409 and second["error"] == "evse_busy"


def test_an_unpaid_claim_lapses_after_five_minutes(client: Client, stripe_settings) -> None:
    charger()
    first = start(client)
    Checkout.objects.filter(public_id=first["id"]).update(
        created_at=timezone.now() - timedelta(minutes=6)
    )
    assert start(client, address="198.51.100.7")["http"] == 201
    assert Checkout.objects.get(public_id=first["id"]).status == "expired"


def test_card_testing_is_slowed_down_per_client_address(
    client: Client, stripe_settings, settings
) -> None:
    settings.CHECKOUT_RATE_LIMIT = "2/10m"
    charger()
    for _ in range(2):
        created = start(client)
        Checkout.objects.filter(public_id=created["id"]).update(evse_claim=None)
    third = start(client)
    assert third["http"] == 429 and "wait" in third["detail"]


def test_huge_or_malformed_bodies_are_clear_4xx(client: Client, stripe_settings) -> None:
    charger()
    huge = client.post(
        "/api/v1/checkouts", "{" + " " * 20000 + "}", content_type="application/json"
    )
    assert huge.status_code == 413
    broken = client.post("/api/v1/checkouts", '{"evse_id": ', content_type="application/json")
    assert broken.status_code == 400
    assert client.get("/api/v1/checkouts/does-not-exist").status_code == 404
    assert (
        client.post(
            "/api/v1/checkouts/does-not-exist/pay",
            {"payment_method": "pm_x"},
            content_type="application/json",
        ).status_code
        == 404
    )
