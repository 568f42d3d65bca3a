"""A German driver whose payment does not go through reads why in German and in plain words:
an incomplete card, a declined card, a failed 3-D Secure check. Stripe's own (English) messages
never reach the page."""

import pytest
from playwright.sync_api import expect

from payments.models import Checkout, LedgerEntry
from tests.e2e.conftest import DECLINED, THREE_DS, Phone
from tests.support.localstripe import FakeStripe

TERMS_DE = "Ich akzeptiere die Nutzungsbedingungen und den oben genannten Preis."

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STRIPE_WORDS = ["declined", "authenticat", "incomplete", "payment method", "Your card"]


def test_a_german_driver_reads_every_refusal_in_german(
    phone: Phone, stripe_settings: FakeStripe
) -> None:
    driver = phone(locale="de-DE")
    page = driver.page
    driver.use_payment_element(stripe_settings)
    driver.open_charger()
    alert = page.get_by_role("alert")
    pay = page.get_by_role("button", name="Bezahlen und Laden starten")
    page.get_by_label(TERMS_DE).check()

    page.get_by_label("Card number").fill("4242")
    pay.click()
    expect(alert).to_have_text("Die Kartennummer ist unvollständig. Bitte prüfen Sie sie.")
    assert not Checkout.objects.exists()  # nothing claimed for a card Stripe.js refused

    driver.type_into_payment_element(DECLINED)
    pay.click()
    expect(alert).to_have_text("Ihre Karte wurde abgelehnt. Bitte versuchen Sie eine andere Karte.")
    driver.screenshot("1-declined")

    driver.type_into_payment_element(THREE_DS)
    pay.click()
    page.get_by_role("button", name="Fail authentication").click()
    expect(alert).to_have_text(
        "Ihre Bank hat die Zahlung nicht bestätigt (die Sicherheitsprüfung wurde nicht "
        "abgeschlossen). Bitte versuchen Sie es noch einmal oder nehmen Sie eine andere Karte."
    )
    expect(pay).to_be_enabled()
    driver.screenshot("2-3d-secure-failed")
    shown = page.locator("main").inner_text()
    assert not [word for word in STRIPE_WORDS if word in shown], shown
    checkout = Checkout.objects.get()
    assert (checkout.status, checkout.declines) == (Checkout.Status.CREATED, 2)
    assert not LedgerEntry.objects.exists()
