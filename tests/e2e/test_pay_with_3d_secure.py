"""A card that asks for 3-D Secure: the driver authenticates in the page and the hold is placed.
It is asked twice: when Stripe.js sets the card up, and again when we place the hold (an
on-session payment; the stand-in asks at both steps, as Stripe does for this test card)."""

import pytest
from playwright.sync_api import expect

from payments.models import Checkout, LedgerEntry
from tests.e2e.conftest import THREE_DS, Phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_driver_completes_3d_secure_twice_and_sees_the_payment_reserved(
    phone: Phone,
) -> None:
    driver = phone()
    page = driver.page
    driver.open_charger()
    driver.fill_form(card=THREE_DS)
    driver.pay()

    authenticate = page.get_by_role("button", name="Complete authentication")
    expect(authenticate).to_be_visible()  # at card setup
    expect(page.get_by_role("button", name="Fail authentication")).to_be_visible()
    expect(page).to_have_url(f"{driver.base_url}/charge/DE*ABC*ELOC1/")
    driver.screenshot("1-3d-secure-at-card-setup")
    with page.expect_response(lambda answer: answer.url.endswith("/pay")) as paid:
        driver.complete_3ds()
    assert paid.value.json()["status"] == "requires_action"

    expect(authenticate).to_be_visible()  # at the hold, before we read it back from Stripe
    driver.screenshot("2-3d-secure-at-the-hold")
    driver.complete_3ds()

    public_id = driver.sees_payment_reserved()
    driver.screenshot("3-status-page")
    checkout = Checkout.objects.get(public_id=public_id)
    assert checkout.status == Checkout.Status.AUTHORIZED
    hold = LedgerEntry.objects.get(checkout=checkout)
    assert (hold.kind, hold.amount_minor) == ("hold", 5000)
