"""The hold on the driver's card: a 2.3.0 tariff's `preauthorize_amount` when the CPO states
one, never above the tariff's max_price incl. tax; else the CPO party's or the platform's."""

from decimal import Decimal

import pytest
from django.test import Client

from tests.payments.charger import EVSE_ID, TARIFF, charger

pytestmark = pytest.mark.django_db

TARIFF_230 = {**TARIFF, "tax_included": "NO"}


def held(client: Client) -> str:
    response = client.post(
        "/api/v1/checkouts",
        {"evse_id": EVSE_ID, "connector_id": "1"},
        content_type="application/json",
        REMOTE_ADDR="192.0.2.1",
    )
    assert response.status_code == 201, response.content
    return str(response.json()["amount_held"])


def test_it_holds_the_preauthorize_amount_the_cpo_states(client: Client, stripe_settings) -> None:
    charger(tariff={**TARIFF_230, "preauthorize_amount": Decimal("30")}, version="2.3.0")
    assert held(client) == "30.00"


def test_it_never_holds_more_than_the_max_price_after_taxes(
    client: Client, stripe_settings
) -> None:
    tariff = {
        **TARIFF_230,
        "preauthorize_amount": Decimal("80"),
        "max_price": {"before_taxes": Decimal("21.01"), "after_taxes": Decimal("25.00")},
    }
    charger(tariff=tariff, version="2.3.0")
    assert held(client) == "25.00"


def test_without_a_preauthorize_amount_it_holds_the_default(
    client: Client, stripe_settings
) -> None:
    charger(tariff=TARIFF_230, version="2.3.0")
    assert held(client) == "50.00"
