"""A driver whose first card was declined reloads the page and pays: the page remembers the
unpaid checkout it started and takes its claim over at once. Another phone on the same Wi-Fi
(the same address) cannot take that claim: it is told the charger is being paid for."""

import pytest
from playwright.sync_api import expect

from payments.models import Checkout
from tests.e2e.conftest import DECLINED, VISA, Phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_driver_reloads_and_pays_while_a_neighbour_is_kept_out(phone: Phone) -> None:
    driver, neighbour = phone(), phone()
    driver.open_charger()
    driver.fill_form(card=DECLINED)
    driver.pay()
    expect(driver.page.get_by_role("alert")).to_have_text(
        "Your card was declined. Please try another card."
    )
    first = Checkout.objects.get()

    neighbour.open_charger()
    neighbour.fill_form(card=VISA)
    neighbour.pay()
    expect(neighbour.page.get_by_role("alert")).to_have_text(
        "Another driver is paying for this charger right now. Please try again in a few minutes."
    )
    neighbour.screenshot("1-neighbour-kept-out")
    first.refresh_from_db()
    assert first.status == Checkout.Status.CREATED

    driver.page.reload()
    driver.open_charger()
    driver.fill_form(card=VISA)
    driver.pay()
    public_id = driver.sees_payment_reserved()
    driver.screenshot("2-paid-after-reload")
    first.refresh_from_db()
    assert first.status == Checkout.Status.EXPIRED
    assert Checkout.objects.get(public_id=public_id).status == Checkout.Status.AUTHORIZED
    assert Checkout.objects.count() == 2
