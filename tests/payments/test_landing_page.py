"""The page a QR code on a charger opens: where it is, whether it is free, and the price, before
anything is asked of the driver."""

import pytest
from django.test import Client

from tests.payments.charger import charger

pytestmark = pytest.mark.django_db


def test_the_price_and_status_are_shown_before_anything_is_asked(
    client: Client, stripe_settings
) -> None:
    charger()
    page = client.get("/charge/DE*ABC*ELOC1/", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Hauptstraße 1" in html and "Available" in html
    assert "€1.19 per session" in html and "€0.595 per kWh" in html  # incl. 19 % VAT
    assert "20 kWh ≈ €13.09" in html  # 1.19 + 20 × 0.595
    assert 'id="pay"' in html and stripe_settings.js_url in html


def test_the_evse_id_is_matched_as_stickers_and_drivers_write_it(
    client: Client, stripe_settings
) -> None:
    charger()
    for written in ("de*abc*eloc1", "DEABCELOC1", "DE-ABC-ELOC1"):
        assert client.get(f"/charge/{written}/").status_code == 200


def test_the_page_speaks_german_to_a_german_browser(client: Client, stripe_settings) -> None:
    charger()
    html = client.get(
        "/charge/DE*ABC*ELOC1/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9"
    ).content.decode()
    assert "Frei" in html and "Bezahlen und Laden starten" in html
    assert "pro kWh" in html


def test_an_occupied_charger_says_so_and_asks_for_no_payment(
    client: Client, stripe_settings
) -> None:
    charger(status="CHARGING")
    html = client.get("/charge/DE*ABC*ELOC1/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Occupied" in html and "another vehicle is charging there." in html
    assert 'id="pay"' not in html


def test_a_charger_of_a_cpo_without_remote_start_cannot_be_paid(
    client: Client, stripe_settings
) -> None:
    evse = charger()
    partner = evse.location.partner
    partner.missing_modules = ["commands"]
    partner.save()
    html = client.get("/charge/DE*ABC*ELOC1/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "cannot be started remotely" in html and 'id="pay"' not in html


def test_an_unknown_charger_gets_a_friendly_page_with_a_box(client: Client) -> None:
    page = client.get("/charge/XX*NOPE*E1/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 404
    html = page.content.decode()
    assert "We do not know a charger called" in html and 'name="evse_id"' in html
    lookup = client.get("/charge/", {"evse_id": "de*abc*eloc1"})
    assert lookup.status_code == 302 and lookup["Location"] == "/charge/de*abc*eloc1/"


def test_the_landing_page_is_light(client: Client, stripe_settings) -> None:
    charger()
    page = client.get("/charge/DE*ABC*ELOC1/")
    assert len(page.content) < 60 * 1024
