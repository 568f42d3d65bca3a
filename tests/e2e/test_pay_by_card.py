"""A driver scans the QR code, reads the price, pays by card and sees the hold placed."""

import pytest
from playwright.sync_api import expect

from payments.models import Checkout, LedgerEntry
from tests.e2e.conftest import VISA, Phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_driver_reads_the_price_pays_and_sees_the_payment_reserved(phone: Phone) -> None:
    driver = phone()
    page = driver.page
    driver.open_charger()
    expect(page.locator("ul.price li")).to_have_text(["€0.595 per kWh", "€1.19 per session"])
    expect(page.get_by_text("20 kWh ≈ €13.09", exact=True)).to_be_visible()
    expect(page.locator("#hold-amount")).to_have_text("Up to €50.00 is reserved.")
    driver.screenshot("1-landing-page")

    driver.fill_form(card=VISA)
    driver.screenshot("2-filled-form")
    driver.pay()

    public_id = driver.sees_payment_reserved()
    driver.screenshot("3-status-page")
    checkout = Checkout.objects.get(public_id=public_id)
    assert checkout.status == Checkout.Status.AUTHORIZED
    assert checkout.email == "driver@example.org"
    hold = LedgerEntry.objects.get(checkout=checkout)
    assert (hold.kind, hold.amount_minor, hold.currency) == ("hold", 5000, "EUR")
