"""The price a driver reads before paying, as AFIR art. 5 and the German PAngV ask: per kWh first,
then per minute (never per hour), per session, then the idle fee with its grace time and the
session's limits, all incl. VAT; in English and German, on the page and in the EVSE API."""

from decimal import Decimal

import pytest
from django.test import Client

from tests.payments.charger import charger

pytestmark = pytest.mark.django_db


def component(kind: str, price: str, step_size: int = 1) -> dict:
    return {"type": kind, "price": Decimal(price), "vat": Decimal("19"), "step_size": step_size}


# Sent in an order a CPO might well use: the session fee first, the idle fee before the price
# per kWh, the charging time priced per hour.
TARIFF = {
    "id": "AC",
    "currency": "EUR",
    "type": "AD_HOC_PAYMENT",
    "elements": [
        {"price_components": [component("FLAT", "1.00")]},
        {
            "price_components": [component("PARKING_TIME", "6.00", step_size=60)],
            "restrictions": {"min_duration": 3600},
        },
        {"price_components": [component("TIME", "1.20", step_size=60)]},
        {"price_components": [component("ENERGY", "0.50")]},
    ],
    "max_price": {"excl_vat": Decimal("40.00"), "incl_vat": Decimal("47.60")},
    "last_updated": "2026-01-01T00:00:00Z",
}

ENGLISH = [
    "€0.595 per kWh",
    "€0.0238 per minute charging (billed per started minute)",
    "€1.19 per session",
    "€0.119 per minute parked without charging after 1 h (billed per started minute)",
    "maximum €47.60 per session",
]
GERMAN = [
    "0,595 € pro kWh",
    "0,0238 € pro Minute Ladezeit (abgerechnet je angefangene Minute)",
    "1,19 € je Ladevorgang",
    "0,119 € pro Minute Standzeit ohne Laden nach 1 h (abgerechnet je angefangene Minute)",
    "höchstens 47,60 € je Ladevorgang",
]


def test_it_lists_the_prices_in_afir_order_in_the_evse_api(client: Client, stripe_settings) -> None:
    charger(tariff=TARIFF)
    for language, lines in (("en", ENGLISH), ("de", GERMAN)):
        body = client.get("/api/v1/evses/DE*ABC*ELOC1", HTTP_ACCEPT_LANGUAGE=language).json()
        (connector,) = body["connectors"]
        assert connector["tariff"]["text"] == lines
        assert body["payable"] is True


def test_it_shows_the_prices_in_afir_order_on_the_page(client: Client, stripe_settings) -> None:
    charger(tariff=TARIFF)
    for language, lines in (("en", ENGLISH), ("de", GERMAN)):
        html = client.get("/charge/DE*ABC*ELOC1/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        places = [html.index(f"<li>{line}</li>") for line in lines]
        assert places == sorted(places)


def test_it_never_states_a_time_price_per_hour(client: Client, stripe_settings) -> None:
    charger(tariff=TARIFF)
    for language in ("en", "de"):
        html = client.get("/charge/DE*ABC*ELOC1/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert "per hour" not in html and "pro Stunde" not in html
        assert "1.428" not in html and "1,428" not in html  # 1.20 €/h incl. VAT
