"""What the CPO says about the place beside the price: who may park at the charger and where
its electricity comes from, on the page and in the EVSE API, in the driver's language; nothing
of either when the CPO sends neither."""

import pytest
from django.test import Client

from stations.models import Evse, Location
from tests.payments.charger import EVSE_ID, charger

pytestmark = pytest.mark.django_db

MIX = {  # as JSON holds it: numbers as the CPO sent them
    "is_green_energy": True,
    "energy_sources": [
        {"source": "SOLAR", "percentage": 40},
        {"source": "WIND", "percentage": 35.5},
        {"source": "GAS", "percentage": 24.5},
    ],
    "supplier_name": "Stadtwerke Berlin",
    "energy_product_name": "Ökostrom plus",
}


def sent_by_the_cpo() -> None:
    charger()
    Evse.objects.update(parking_restrictions=["EV_ONLY", "CUSTOMERS"])
    Location.objects.update(energy_mix=MIX)


def test_the_evse_api_states_the_restrictions_and_the_mix(client: Client, stripe_settings) -> None:
    sent_by_the_cpo()
    body = client.get(f"/api/v1/evses/{EVSE_ID}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["parking_restrictions"] == [
        {"code": "EV_ONLY", "text": "Parking for electric vehicles only"},
        {"code": "CUSTOMERS", "text": "Parking for customers only"},
    ]
    mix = body["location"]["energy_mix"]
    assert mix["is_green_energy"] is True and mix["renewable_percent"] == "75.5"
    assert mix["text"] == "Green energy · 75.5 % renewable · Stadtwerke Berlin, Ökostrom plus"


def test_the_page_shows_them_in_german(client: Client, stripe_settings) -> None:
    sent_by_the_cpo()
    html = client.get(f"/charge/{EVSE_ID}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "<li>Parken nur für Elektrofahrzeuge</li>" in html
    assert "<li>Parken nur für Kunden</li>" in html
    assert "Strom: Ökostrom · 75,5 % erneuerbar · Stadtwerke Berlin, Ökostrom plus" in html


def test_nothing_is_said_when_the_cpo_sends_neither(client: Client, stripe_settings) -> None:
    charger()
    body = client.get(f"/api/v1/evses/{EVSE_ID}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["parking_restrictions"] == [] and body["location"]["energy_mix"] is None
    html = client.get(f"/charge/{EVSE_ID}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="site-info"' not in html
