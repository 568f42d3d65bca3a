"""A phone with a wallet (Google Pay, Apple Pay, Link) gets its button above the card form, in
the Express Checkout Element. The wallet opens only once the terms are accepted, and pays
through the same server-placed hold as a card typed in.

Stripe.js is our stand-in with a wallet button (`stripe_payment_element.js`, `standinWallet`)."""

import pytest
from playwright.sync_api import expect

from payments.models import Checkout, LedgerEntry
from tests.e2e.conftest import VISA, Phone
from tests.support.localstripe import FakeStripe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_wallet_pays_once_the_terms_are_accepted(
    phone: Phone, stripe_settings: FakeStripe
) -> None:
    driver = phone()
    page = driver.page
    page.add_init_script(f"window.standinWallet = {VISA!r};")
    driver.use_payment_element(stripe_settings)
    driver.open_charger()
    wallet = page.get_by_role("button", name="Pay with Google Pay")
    expect(page.locator("#express")).to_be_visible()
    driver.screenshot("1-wallet-button")

    wallet.click()
    expect(page.get_by_role("alert")).to_have_text("Please accept the terms first.")
    assert not Checkout.objects.exists()

    page.get_by_label("I accept the terms of use and the price shown above.").check()
    with page.expect_response(lambda answer: answer.url.endswith("/pay")) as paid:
        wallet.click()
    assert "confirmation_token" in (paid.value.request.post_data_json or {})
    public_id = driver.sees_payment_reserved()
    checkout = Checkout.objects.get(public_id=public_id)
    assert checkout.status == Checkout.Status.AUTHORIZED
    assert LedgerEntry.objects.get(checkout=checkout).amount_minor == 5000
