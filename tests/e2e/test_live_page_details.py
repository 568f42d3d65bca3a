"""The live page speaks the driver's language of chargers: the connector as "Type 2 · 22 kW",
amounts written as money from the first paint on, seconds in the first minute, and no Stop
button until the charger has started; Stop asks before it stops."""

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import expect

from cpo_simulator import CpoSimulator
from payments.models import Checkout
from tests.e2e.accessibility import assert_accessible
from tests.e2e.conftest import VISA, Phone
from tests.payments.charging import push_stations

TERMS_DE = "Ich akzeptiere die Nutzungsbedingungen und den oben genannten Preis."

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_while_the_start_is_pending_the_page_names_the_connector_and_offers_no_stop(
    phone: Phone,
) -> None:
    driver = phone(locale="de-DE")
    page = driver.page
    driver.open_charger()
    page.get_by_label(TERMS_DE).check()
    driver.type_card(VISA)
    page.get_by_role("button", name="Bezahlen und Laden starten").click()
    expect(page).to_have_url(re.compile(r"/checkout/[^/]+/$"))
    expect(page.get_by_role("status")).to_have_text(
        "Betrag reserviert – Ihr Ladepunkt wird gestartet"
    )
    expect(page.locator("#connector")).to_have_text("Type 2 · 22 kW")
    expect(page.locator("#held-amount")).to_have_text("50,00 €")
    expect(page.get_by_role("button", name="Laden beenden")).to_be_hidden()
    driver.screenshot("1-start-pending")
    assert_accessible(page)

    first_paint = httpx.get(page.url, headers={"Accept-Language": "de"}).text  # before any script
    assert '<strong id="held-amount">50,00 €</strong>' in first_paint
    assert "EUR" not in first_paint and "Anschluss 1" not in first_paint


def test_the_first_minute_counts_seconds_and_stop_asks_first(
    phone: Phone, connected_cpo: Callable[..., CpoSimulator], eager_tasks: None
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.3, time_scale=1)
    evse_id = push_stations(cpo)
    driver = phone()
    page = driver.page
    public_id = driver.pays_and_charges(evse_id)
    expect(page.locator("#duration")).to_have_text(re.compile(r"^\d{1,2} s$"))
    expect(page.locator("#connector")).to_have_text("Type 2 · 22 kW")

    page.get_by_role("button", name="Stop charging").click()
    expect(page.get_by_text("Stop charging now?")).to_be_visible()
    driver.screenshot("2-stop-asks-first")
    assert_accessible(page)
    page.get_by_role("button", name="Keep charging").click()
    expect(page.get_by_role("status")).to_have_text("Charging")
    assert Checkout.objects.get(public_id=public_id).status == Checkout.Status.CHARGING

    driver.stop_charging()
    expect(page.get_by_role("status")).to_have_text("Finished")
    driver.screenshot("3-finished")
    assert_accessible(page)
    assert [c.command for c in cpo.commands] == ["START_SESSION", "STOP_SESSION"]
