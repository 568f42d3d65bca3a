"""Releasing a hold (cancel): done once, harmless twice, refused once the money is taken."""

import pytest

from payments import gateway
from tests.support.localstripe import FakeStripe, card_payment_method


def hold(fake: FakeStripe, ref: str, amount: int = 2500) -> gateway.Intent:
    return gateway.place_hold(
        amount_minor=amount,
        currency="EUR",
        payment_method=card_payment_method(fake.base_url, "4242424242424242"),
        checkout_ref=ref,
        idempotency_key=f"hold-{ref}",
    )


def test_cancelling_a_hold_releases_it(stripe_settings: FakeStripe) -> None:
    held = hold(stripe_settings, "chk_release_1")
    released = gateway.cancel(held.id, idempotency_key="release-chk_release_1")
    assert released.status == "canceled"
    assert released.amount_capturable == 0
    assert gateway.retrieve(held.id).status == "canceled"


def test_cancelling_a_released_hold_again_is_harmless(stripe_settings: FakeStripe) -> None:
    held = hold(stripe_settings, "chk_release_2")
    first = gateway.cancel(held.id, idempotency_key="release-chk_release_2")
    again = gateway.cancel(held.id, idempotency_key="release-chk_release_2-retry")
    assert again == first


def test_a_captured_payment_cannot_be_released(stripe_settings: FakeStripe) -> None:
    held = hold(stripe_settings, "chk_release_3")
    gateway.capture(held.id, amount_minor=1000, idempotency_key="capture-chk_release_3")
    with pytest.raises(gateway.GatewayError) as refused:
        gateway.cancel(held.id, idempotency_key="release-chk_release_3")
    assert refused.value.transient is False
    assert refused.value.http_status == 400
