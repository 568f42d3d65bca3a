"""A card that asks for 3-D Secure: the hold waits for the driver, then stands or fails."""

import httpx
import pytest

from payments import gateway
from tests.support.localstripe import FakeStripe, card_payment_method, complete_3ds

THREE_D_SECURE = "4000002500003155"


def hold_on_3ds_card(fake: FakeStripe, ref: str) -> gateway.Intent:
    return gateway.place_hold(
        amount_minor=4000,
        currency="EUR",
        payment_method=card_payment_method(fake.base_url, THREE_D_SECURE),
        checkout_ref=ref,
        idempotency_key=f"hold-{ref}",
    )


def test_a_3ds_card_needs_action_and_holds_once_authenticated(
    stripe_settings: FakeStripe,
) -> None:
    intent = hold_on_3ds_card(stripe_settings, "chk_3ds_1")
    assert intent.status == "requires_action"
    assert intent.amount_capturable == 0
    assert intent.client_secret  # the page gives it to Stripe.js confirmCardPayment

    complete_3ds(stripe_settings.base_url, intent.id, success=True)

    held = gateway.retrieve(intent.id)
    assert held.status == "requires_capture"
    assert held.amount_capturable == 4000
    assert held.card_last4 == "3155"


def test_a_failed_3ds_leaves_no_hold_and_says_why(stripe_settings: FakeStripe) -> None:
    intent = hold_on_3ds_card(stripe_settings, "chk_3ds_2")

    complete_3ds(stripe_settings.base_url, intent.id, success=False)

    failed = gateway.retrieve(intent.id)
    assert failed.status == "requires_payment_method"
    assert failed.amount_capturable == 0
    assert failed.payment_method is None
    assert failed.decline_reason == "The provided PaymentMethod has failed authentication."


def test_an_abandoned_3ds_hold_can_be_released(stripe_settings: FakeStripe) -> None:
    intent = hold_on_3ds_card(stripe_settings, "chk_3ds_3")
    released = gateway.cancel(intent.id, idempotency_key="release-chk_3ds_3")
    assert released.status == "canceled"


def test_authenticating_an_intent_that_needs_no_3ds_is_refused_by_the_stand_in(
    stripe_settings: FakeStripe,
) -> None:
    held = gateway.place_hold(
        amount_minor=100,
        currency="EUR",
        payment_method=card_payment_method(stripe_settings.base_url, "4242424242424242"),
        checkout_ref="chk_3ds_4",
        idempotency_key="hold-chk_3ds_4",
    )
    with pytest.raises(httpx.HTTPStatusError):  # so the page calls confirmCardPayment only
        complete_3ds(stripe_settings.base_url, held.id)  # for requires_action
    assert gateway.retrieve(held.id).status == "requires_capture"
