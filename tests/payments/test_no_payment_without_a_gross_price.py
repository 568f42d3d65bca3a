"""OCPI 2.1.1 prices exclude a VAT they do not state: we add the location country's rate. Where
we know none, the price incl. VAT cannot be stated, and a consumer may not be asked to pay a
price given only net: the charger is shown with its net prices and is not payable."""

from decimal import Decimal

import pytest
from django.test import Client

from tests.payments.charger import EVSE_ID, registered_cpo
from tests.stations import station_data

pytestmark = pytest.mark.django_db

ELEMENTS = [{"price_components": [{"type": "ENERGY", "price": Decimal("0.40"), "step_size": 1}]}]


def old_charger(country: str, time_zone: str) -> None:
    registered_cpo()
    station_data.store_location(
        version="2.1.1", country=country, time_zone=time_zone, tariff_ids=["T1"], amperage=32
    )
    station_data.store_tariff(ELEMENTS, version="2.1.1")


def test_it_offers_no_payment_where_no_vat_rate_is_known(client: Client, stripe_settings) -> None:
    old_charger("ESP", "Europe/Madrid")  # Spain: the Canaries charge IGIC, so no single rate
    body = client.get(f"/api/v1/evses/{EVSE_ID}", HTTP_ACCEPT_LANGUAGE="en").json()
    (connector,) = body["connectors"]
    assert connector["tariff"]["text"] == ["€0.40 per kWh (excl. VAT)"]
    assert connector["payable"] is False and body["payable"] is False
    assert body["reason"] == ("its prices exclude VAT and we know no VAT rate for the country ESP")
    german = client.get(f"/api/v1/evses/{EVSE_ID}", HTTP_ACCEPT_LANGUAGE="de").json()
    assert german["reason"].startswith("ihre Preise verstehen sich ohne MwSt.")
    refused = client.post(
        "/api/v1/checkouts",
        {"evse_id": EVSE_ID, "connector_id": "1"},
        content_type="application/json",
    )
    assert refused.status_code == 409 and "no VAT rate" in refused.json()["detail"]


def test_it_adds_the_country_rate_and_says_so_where_one_is_known(
    client: Client, stripe_settings
) -> None:
    old_charger("DEU", "Europe/Berlin")
    body = client.get(f"/api/v1/evses/{EVSE_ID}", HTTP_ACCEPT_LANGUAGE="en").json()
    (connector,) = body["connectors"]
    assert connector["tariff"]["text"] == ["€0.476 per kWh"]
    assert connector["tariff"]["vat_note"] == "incl. 19 % VAT, the country's rate"
    assert body["payable"] is True
