"""With Stripe.js itself the charger page shows the Payment Element (cards, and with the Express
Checkout Element Apple Pay, Google Pay and Link). The driver enters a card that asks for 3-D
Secure, authenticates once, at the hold our server placed, and the live page says Charging.

Stripe.js is our stand-in with the Payment Element (`stripe_payment_element.js`) against the
fake Stripe; the CPO simulator is registered with us and starts the session."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from cpo_simulator import CpoSimulator
from payments.models import Checkout, LedgerEntry
from tests.e2e.conftest import THREE_DS, Phone
from tests.payments.charging import push_stations
from tests.support.localstripe import FakeStripe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_driver_authenticates_once_and_sees_charging(
    phone: Phone,
    stripe_settings: FakeStripe,
    connected_cpo: Callable[..., CpoSimulator],
    eager_tasks: None,
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.3, time_scale=600)
    evse_id = push_stations(cpo)
    driver = phone()
    page = driver.page
    driver.use_payment_element(stripe_settings)
    driver.open_charger(evse_id)
    expect(page.locator("#express")).to_be_hidden()  # no wallet in a headless browser
    driver.screenshot("1-payment-element")
    driver.type_into_payment_element(THREE_DS)
    page.get_by_label("I accept the terms of use and the price shown above.").check()
    with page.expect_response(lambda answer: answer.url.endswith("/pay")) as paid:
        driver.pay()
    assert paid.value.json()["status"] == "requires_action"  # the hold our server placed
    assert "confirmation_token" in (paid.value.request.post_data_json or {})

    authenticate = page.get_by_role("button", name="Complete authentication")
    expect(authenticate).to_have_count(1)
    driver.screenshot("2-3d-secure-once")
    driver.complete_3ds()

    expect(page).to_have_url(re.compile(r"/checkout/[^/]+/$"))
    expect(page.get_by_role("status")).to_have_text("Charging")
    expect(authenticate).to_have_count(0)  # never asked a second time
    driver.screenshot("3-charging")
    checkout = Checkout.objects.get(public_id=page.url.rstrip("/").rsplit("/", 1)[-1])
    assert checkout.status == Checkout.Status.CHARGING
    assert checkout.stripe_payment_intent.startswith("pi_")
    hold = LedgerEntry.objects.get(checkout=checkout, kind="hold")
    assert hold.stripe_id == checkout.stripe_payment_intent
    assert [c.command for c in cpo.commands] == ["START_SESSION"]
