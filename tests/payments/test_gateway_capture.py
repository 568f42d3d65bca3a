"""Capturing the final amount: never more than held; the rest is released."""

import httpx
import pytest

from payments import gateway
from tests.support.localstripe import FakeStripe, card_payment_method


def hold(fake: FakeStripe, ref: str, amount: int) -> gateway.Intent:
    return gateway.place_hold(
        amount_minor=amount,
        currency="EUR",
        payment_method=card_payment_method(fake.base_url, "4242424242424242"),
        checkout_ref=ref,
        idempotency_key=f"hold-{ref}",
    )


def charge_of(fake: FakeStripe, intent_id: str) -> dict:
    answer = httpx.get(
        f"{fake.base_url}/v1/payment_intents/{intent_id}",
        headers={"Authorization": f"Bearer {fake.secret_key}"},
    )
    return answer.json()["latest_charge"]


def test_capturing_part_of_a_hold_takes_that_and_releases_the_rest(
    stripe_settings: FakeStripe,
) -> None:
    held = hold(stripe_settings, "chk_capture_1", 5000)
    captured = gateway.capture(held.id, amount_minor=1830, idempotency_key="capture-chk_capture_1")
    assert captured.status == "succeeded"
    assert captured.amount_capturable == 0
    assert captured.amount_received == 0  # localstripe omits it; real Stripe says 1830
    charge = charge_of(stripe_settings, held.id)
    assert charge["captured"] is True
    assert charge["amount_refunded"] == 5000 - 1830  # localstripe shows the release as a refund


def test_capturing_the_whole_hold_releases_nothing(stripe_settings: FakeStripe) -> None:
    held = hold(stripe_settings, "chk_capture_2", 2000)
    captured = gateway.capture(held.id, amount_minor=2000, idempotency_key="capture-chk_capture_2")
    assert captured.status == "succeeded"
    assert charge_of(stripe_settings, held.id)["amount_refunded"] == 0


def test_capturing_more_than_was_held_is_refused_before_stripe_is_asked(
    stripe_settings: FakeStripe,
) -> None:
    held = hold(stripe_settings, "chk_capture_3", 2000)
    with pytest.raises(ValueError, match="only 2000 is capturable"):
        gateway.capture(held.id, amount_minor=2001, idempotency_key="capture-chk_capture_3")
    still = gateway.retrieve(held.id)
    assert (still.status, still.amount_capturable) == ("requires_capture", 2000)


def test_capturing_nothing_is_refused_as_that_is_a_release(stripe_settings: FakeStripe) -> None:
    held = hold(stripe_settings, "chk_capture_4", 2000)
    with pytest.raises(ValueError):
        gateway.capture(held.id, amount_minor=0, idempotency_key="capture-chk_capture_4")
    assert gateway.retrieve(held.id).status == "requires_capture"


def test_capturing_an_intent_with_no_hold_is_refused_before_stripe_is_asked(
    stripe_settings: FakeStripe,
) -> None:
    held = hold(stripe_settings, "chk_capture_5", 2000)
    gateway.cancel(held.id, idempotency_key="release-chk_capture_5")
    with pytest.raises(ValueError, match="status canceled"):
        gateway.capture(held.id, amount_minor=100, idempotency_key="capture-chk_capture_5")


def test_a_retried_capture_returns_the_captured_intent_and_takes_nothing_more(
    stripe_settings: FakeStripe,
) -> None:
    held = hold(stripe_settings, "chk_capture_6", 3000)
    first = gateway.capture(held.id, amount_minor=1000, idempotency_key="capture-chk_capture_6")
    again = gateway.capture(held.id, amount_minor=1000, idempotency_key="capture-chk_capture_6")
    assert again == first
    assert charge_of(stripe_settings, held.id)["amount_refunded"] == 2000
