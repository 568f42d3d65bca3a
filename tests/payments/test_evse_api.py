"""`GET /api/v1/evses/{evse_id}`: a charger as a kiosk or an app sees it."""

import pytest
from django.test import Client

from tests.payments.charger import charger

pytestmark = pytest.mark.django_db


def test_a_payable_charger_with_its_connectors_and_prices(client: Client, stripe_settings) -> None:
    charger()
    body = client.get("/api/v1/evses/de*abc*eloc1", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["payable"] is True and body["reason"] is None
    assert body["location"]["city"] == "Berlin"
    (connector,) = body["connectors"]
    assert connector["standard_name"] == "Type 2"
    assert connector["power_kw"] == "22.08"  # 230 V × 32 A × 3 phases
    assert connector["tariff"]["currency"] == "EUR"
    assert connector["hold"] == "50.00"
    assert [e["energy_kwh"] for e in connector["tariff"]["estimates"]] == ["10", "20", "40"]


def test_an_out_of_order_charger_says_why(client: Client, stripe_settings) -> None:
    charger(status="OUTOFORDER")
    body = client.get("/api/v1/evses/DE*ABC*ELOC1").json()
    assert body["payable"] is False and body["reason"] == "out of order"


def test_an_unknown_charger_is_a_404(client: Client) -> None:
    response = client.get("/api/v1/evses/NOPE")
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_evse"


def test_the_api_is_documented(client: Client) -> None:
    schema = client.get("/api/schema/").content.decode()
    assert "/api/v1/checkouts/{public_id}/pay" in schema
