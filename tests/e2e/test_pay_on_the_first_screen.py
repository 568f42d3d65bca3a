"""On a 390×844 phone the charger page's first screen holds what paying takes: the connector
picked with its price, the card and the Pay button, in English and German, with the Payment
Element and with the card Element. Other connectors, the price details, the e-mail and invoice
fields are one tap away (`<details>`), and picking another connector shows its price."""

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from cpo_simulator import CpoSimulator
from tests.e2e.conftest import ARTIFACTS, PHONE, Phone
from tests.payments.charging import push_stations
from tests.support.localstripe import FakeStripe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAY = {"en-GB": "Pay and start charging", "de-DE": "Bezahlen und Laden starten"}


@pytest.mark.parametrize("locale", PAY)
@pytest.mark.parametrize("form", ["payment element", "card element"])
def test_the_pay_button_is_on_the_first_screen(
    phone: Phone, stripe_settings: FakeStripe, locale: str, form: str
) -> None:
    driver = phone(locale=locale)
    page = driver.page
    if form == "payment element":
        driver.use_payment_element(stripe_settings)
    driver.open_charger()
    for what in (
        page.get_by_role("button", name=PAY[locale]),
        page.locator("#pay input[name=connector]:checked"),
        page.locator(".price-summary:not([hidden]) ul.price"),
        page.locator("#payment-element input").first,
    ):
        box = what.bounding_box()
        assert box is not None and box["y"] + box["height"] <= PHONE["height"], (what, box)
    page.screenshot(path=ARTIFACTS / f"{driver.name}-{form.replace(' ', '-')}-{locale}.png")
    expect(page.locator("details#more > summary")).to_be_visible()
    expect(page.locator("details#invoice > summary")).to_be_visible()
    expect(page.locator("#email")).to_be_hidden()  # one tap away


def test_picking_another_connector_shows_its_price(
    phone: Phone, connected_cpo: Callable[..., CpoSimulator]
) -> None:
    evse_id = push_stations(connected_cpo(location_count=1))
    driver = phone()
    page = driver.page
    driver.open_charger(evse_id)
    shown = page.locator(".price-summary:not([hidden])")
    expect(shown).to_have_count(1)
    expect(shown).to_have_attribute("aria-label", "Price: Type 2")
    pay = page.get_by_role("button", name="Pay and start charging").bounding_box()
    assert pay is not None and pay["y"] + pay["height"] <= PHONE["height"]  # two connectors too
    page.get_by_role("radio", name="Schuko · 3.7 kW").check()
    expect(shown).to_have_count(1)
    expect(shown).to_have_attribute("aria-label", "Price: Schuko")
    expect(page.locator("#hold-amount")).to_have_text("Up to €50.00 is reserved.")
    page.locator("details#more > summary").click()
    expect(page.locator("details#more")).to_contain_text(
        "We reserve an amount on your card before charging and take only what you charge."
    )
    driver.screenshot("other-connector")
