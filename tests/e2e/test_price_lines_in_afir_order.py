"""A driver's phone reads the price lines in AFIR's order (per kWh, per minute, per session, the
idle fee with its grace time, the maximum), in English and in German."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Phone
from tests.payments.charger import charger
from tests.payments.test_price_lines_in_afir_order import ENGLISH, GERMAN, TARIFF

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_price_lines_read_in_afir_order_in_both_languages(phone: Phone) -> None:
    charger(tariff={**TARIFF, "last_updated": "2026-02-01T00:00:00Z"})  # replaces the site's
    for locale, lines, pay in (
        ("en-GB", ENGLISH, "Pay and start charging"),
        ("de-DE", GERMAN, "Bezahlen und Laden starten"),
    ):
        driver = phone(locale=locale)
        driver.open_charger()
        expect(driver.page.locator("ul.price li")).to_have_text(lines)
        expect(driver.page.get_by_role("button", name=pay)).to_be_visible()
        driver.screenshot(f"prices-{locale}")
