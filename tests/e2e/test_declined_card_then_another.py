"""A declined card: the driver reads why on the landing page, stays there and pays with another
card, which the page collects with the fresh SetupIntent the API handed back with the decline."""

import pytest
from playwright.sync_api import expect

from payments.models import Checkout, LedgerEntry
from tests.e2e.conftest import DECLINED, VISA, Phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_driver_sees_the_decline_and_pays_with_another_card(phone: Phone) -> None:
    driver = phone()
    page = driver.page
    driver.open_charger()
    landing_url = page.url
    driver.fill_form(card=DECLINED)
    with page.expect_response(lambda answer: answer.url.endswith("/pay")) as paid:
        driver.pay()
    assert paid.value.status == 402
    fresh_setup = paid.value.json()["setup_client_secret"].split("_secret_")[0]

    expect(page.get_by_role("alert")).to_have_text(
        "Your card was declined. Please try another card."
    )
    expect(page.get_by_role("button", name="Pay and start charging")).to_be_enabled()
    assert page.url == landing_url
    driver.screenshot("1-declined")

    driver.card_input("number").fill(VISA)
    with page.expect_request(lambda sent: "/v1/setup_intents/" in sent.url) as setup:
        driver.pay()
    assert setup.value.url.endswith(f"/v1/setup_intents/{fresh_setup}/confirm")

    public_id = driver.sees_payment_reserved()
    driver.screenshot("2-status-page")
    checkout = Checkout.objects.get(public_id=public_id)
    assert checkout.status == Checkout.Status.AUTHORIZED
    assert Checkout.objects.count() == 1  # the same checkout, paid with the second card
    hold = LedgerEntry.objects.get(checkout=checkout)
    assert (hold.kind, hold.amount_minor) == ("hold", 5000)
