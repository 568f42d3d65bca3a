"""The driver enters invoice details on the charger page before paying: a VAT id of the wrong
shape is refused with the reason, in the page's language, before anything is held; corrected,
the payment goes through and the checkout carries the details for its receipt."""

import pytest
from playwright.sync_api import expect

from payments.models import Checkout, LedgerEntry
from tests.e2e.conftest import VISA, Phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_driver_enters_a_company_and_a_vat_id_with_the_payment(phone: Phone) -> None:
    driver = phone()
    page = driver.page
    driver.open_charger()
    driver.fill_form(card=VISA)
    page.get_by_label("Name or company").fill("Fuhrpark Müller GmbH")
    page.get_by_label("Street and number").fill("Ladestraße 7")
    page.get_by_label("Postal code").fill("50667")
    page.get_by_label("City").fill("Köln")
    page.get_by_label("VAT ID (optional)").fill("DE12345")
    driver.pay()
    expect(page.get_by_role("alert")).to_have_text(
        "This is not a valid VAT ID for DE: please check it."
    )
    assert not LedgerEntry.objects.exists()  # nothing held
    driver.screenshot("1-vat-id-refused")

    page.get_by_label("VAT ID (optional)").fill("DE 123 456 789")
    driver.pay()
    public_id = driver.sees_payment_reserved()
    checkout = Checkout.objects.get(public_id=public_id)
    assert (checkout.invoice_name, checkout.invoice_city, checkout.invoice_vat_id) == (
        "Fuhrpark Müller GmbH",
        "Köln",
        "DE123456789",
    )
