"""A CPO party's rule "a price component without `vat` means the country's rate" (its CPO
terms): on, the driver sees gross prices at the location country's rate and is told so, and
settlement and the receipt take that same rate; off (the default), no gross price can be stated
for such a component, so no payment is offered."""

from decimal import Decimal

import pytest
import simplejson
from django.test import Client

from payments import settlement
from payments.models import Checkout, CpoTerms
from tests.ocpi.examples import example
from tests.payments.charger import EVSE_ID, charger

pytestmark = pytest.mark.django_db

# The CPO leaves `vat` out, meaning its country's VAT.
TARIFF = {
    "id": "AC",
    "currency": "EUR",
    "type": "AD_HOC_PAYMENT",
    "elements": [
        {"price_components": [{"type": "ENERGY", "price": Decimal("0.50"), "step_size": 1}]},
    ],
    "last_updated": "2026-01-01T00:00:00Z",
}


def rule(on: bool) -> None:
    CpoTerms.objects.update_or_create(
        country_code="DE",
        party_id="ABC",
        defaults={"default_hold": Decimal("50.00"), "missing_vat_is_country_rate": on},
    )


def evse(client: Client, language: str = "en") -> dict:
    return client.get(f"/api/v1/evses/{EVSE_ID}", HTTP_ACCEPT_LANGUAGE=language).json()


def start(client: Client) -> dict:
    response = client.post(
        "/api/v1/checkouts",
        {"evse_id": EVSE_ID, "connector_id": "1"},
        content_type="application/json",
        REMOTE_ADDR="192.0.2.1",
    )
    return {**response.json(), "http": response.status_code}


def test_it_offers_no_payment_by_default_for_a_price_without_vat(
    client: Client, stripe_settings
) -> None:
    charger(tariff=TARIFF)
    body = evse(client)
    (connector,) = body["connectors"]
    assert connector["tariff"]["text"] == ["€0.50 per kWh (excl. VAT)"]
    assert connector["payable"] is False and body["payable"] is False
    assert "states no VAT" in body["reason"]
    html = client.get(f"/charge/{EVSE_ID}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="pay"' not in html and "cannot state the price including VAT" in html
    refused = start(client)
    assert refused["http"] == 409 and "states no VAT" in refused["detail"]


def test_it_shows_the_country_rate_and_says_so_when_the_cpo_rule_is_on(
    client: Client, stripe_settings
) -> None:
    charger(tariff=TARIFF)
    rule(True)
    body = evse(client)
    (connector,) = body["connectors"]
    assert connector["tariff"]["text"] == ["€0.595 per kWh"]
    assert connector["tariff"]["vat_note"] == "incl. 19 % VAT, the country's rate"
    assert body["payable"] is True
    german = evse(client, "de")["connectors"][0]["tariff"]
    assert german["text"] == ["0,595 € pro kWh"]
    assert german["vat_note"] == "inkl. 19 % MwSt., der Satz des Landes"
    html = client.get(f"/charge/{EVSE_ID}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "incl. 19 % VAT, the country&#x27;s rate" in html and 'id="pay"' in html


def test_settlement_and_the_receipt_take_the_rate_the_driver_was_shown(
    client: Client, stripe_settings
) -> None:
    charger(tariff=TARIFF)
    rule(True)
    started = start(client)
    assert started["http"] == 201
    checkout = Checkout.objects.get(public_id=started["id"])
    rule(False)  # a later change of the rule does not reprice what the driver was shown
    cdr = example("cdr_example.json")
    cdr |= {"currency": "EUR", "tariffs": [], "total_energy": Decimal(20)}
    cdr["cdr_location"]["country"] = "DEU"
    cdr["charging_periods"] = [
        {
            "start_date_time": cdr["start_date_time"],
            "dimensions": [{"type": "ENERGY", "volume": Decimal(20)}],
            "tariff_id": "AC",
        }
    ]
    cost = settlement.shown_cost(checkout, "2.2.1", simplejson.dumps(cdr))
    assert cost.total.excl_vat == Decimal("10.00")
    assert cost.total.incl_vat == Decimal("11.90")
    assert {line.vat for line in cost.lines} == {Decimal(19)}


def test_a_component_stating_its_vat_needs_no_rule(client: Client, stripe_settings) -> None:
    charger()  # every component states 19 %
    body = evse(client)
    assert body["payable"] is True
    assert body["connectors"][0]["tariff"]["vat_note"] == ""
