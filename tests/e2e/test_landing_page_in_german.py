"""A phone set to German gets the landing page in German, with prices written the German way."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_german_phone_gets_the_page_in_german(phone: Phone) -> None:
    driver = phone(locale="de-DE")
    page = driver.page
    driver.open_charger()
    expect(page.locator("#evse-status")).to_have_text("Frei")
    expect(page.locator("ul.price li")).to_have_text(["0,595 € pro kWh", "1,19 € je Ladevorgang"])
    expect(page.get_by_text("20 kWh ≈ 13,09 €", exact=True)).to_be_visible()
    expect(page.locator("#hold-amount")).to_have_text("Es werden höchstens 50,00 € reserviert.")
    expect(page.get_by_role("button", name="Bezahlen und Laden starten")).to_be_visible()
    expect(page.locator("#pay")).to_have_attribute("data-locale", "de")  # for Stripe.js too
    driver.screenshot("landing-page")
