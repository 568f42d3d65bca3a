"""A driver whose page was reloaded (or whose QR code was scanned again) takes over their own
unpaid claim on the EVSE at once, proving it is theirs with the checkout's secret id that their
browser holds; not by their address, which drivers behind one NAT or proxy share."""

import pytest
from django.test import Client

from payments.models import Checkout
from tests.payments.charger import EVSE_ID, charger

pytestmark = pytest.mark.django_db

NAT = "192.0.2.1"  # one public address for every phone on a campsite's Wi-Fi


def start(client: Client, address: str = NAT, **body: str) -> dict:
    response = client.post(
        "/api/v1/checkouts",
        {"evse_id": EVSE_ID, "connector_id": "1", **body},
        content_type="application/json",
        REMOTE_ADDR=address,
    )
    return {**response.json(), "http": response.status_code}


def status(checkout: dict) -> str:
    return Checkout.objects.get(public_id=checkout["id"]).status


def test_it_lets_the_browser_that_started_the_claim_take_it_over(
    client: Client, stripe_settings
) -> None:
    charger()
    first = start(client)
    again = start(client, replaces=first["id"])
    assert again["http"] == 201 and again["id"] != first["id"]
    assert status(first) == "expired" and status(again) == "created"
    assert Checkout.objects.get(public_id=first["id"]).failure_reason == "replaced"


def test_it_keeps_a_drivers_claim_from_another_driver_at_the_same_address(
    client: Client, stripe_settings
) -> None:
    charger()
    first = start(client)
    other = start(client)
    assert other["http"] == 409 and other["error"] == "evse_busy"
    assert "Another driver is paying for this charger" in other["detail"]
    assert status(first) == "created"


def test_it_refuses_a_takeover_with_an_id_that_is_not_the_claims(
    client: Client, stripe_settings
) -> None:
    charger()
    first = start(client)
    for guess in ("not-the-id", first["id"][:-1], first["id"].upper()):
        refused = start(client, replaces=guess)
        assert refused["http"] == 409 and refused["error"] == "evse_busy"
    assert status(first) == "created"


def test_it_works_from_another_address_with_the_right_id(client: Client, stripe_settings) -> None:
    charger()
    first = start(client, address="192.0.2.1")
    moved_on = start(client, address="2001:db8::7", replaces=first["id"])  # Wi-Fi to mobile
    assert moved_on["http"] == 201 and status(first) == "expired"


def test_it_never_takes_over_a_claim_whose_payment_is_under_way(
    client: Client, stripe_settings
) -> None:
    charger()
    first = start(client)
    Checkout.objects.filter(public_id=first["id"]).update(stripe_payment_intent="pi_under_way")
    refused = start(client, replaces=first["id"])
    assert refused["http"] == 409 and refused["error"] == "evse_busy"
    assert status(first) == "created"
