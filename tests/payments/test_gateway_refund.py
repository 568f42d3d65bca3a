"""Refunding a captured payment, in part or in full, with our reason kept beside it."""

import httpx
import pytest

from payments import gateway
from tests.support.localstripe import FakeStripe, card_payment_method


def captured(fake: FakeStripe, ref: str, held: int, taken: int) -> gateway.Intent:
    intent = gateway.place_hold(
        amount_minor=held,
        currency="EUR",
        payment_method=card_payment_method(fake.base_url, "4242424242424242"),
        checkout_ref=ref,
        idempotency_key=f"hold-{ref}",
    )
    return gateway.capture(intent.id, amount_minor=taken, idempotency_key=f"capture-{ref}")


def refunds_of(fake: FakeStripe, intent_id: str) -> list[dict]:
    answer = httpx.get(
        f"{fake.base_url}/v1/refunds",
        params={"payment_intent": intent_id},
        headers={"Authorization": f"Bearer {fake.secret_key}"},
    )
    return answer.json()["data"]


def test_a_partial_refund_is_made_and_its_id_returned(stripe_settings: FakeStripe) -> None:
    intent = captured(stripe_settings, "chk_refund_1", held=5000, taken=5000)
    refund_id = gateway.refund(
        intent.id, amount_minor=1200, idempotency_key="refund-cdr-1", reason="credit CDR cdr-1"
    )
    assert refund_id.startswith("re_")
    (refund,) = refunds_of(stripe_settings, intent.id)
    assert refund["id"] == refund_id
    assert refund["amount"] == 1200
    assert refund["metadata"] == {"reason": "credit CDR cdr-1", "refund_key": "refund-cdr-1"}
    again = gateway.refund(
        intent.id, amount_minor=1200, idempotency_key="refund-cdr-1", reason="credit CDR cdr-1"
    )
    assert again == refund_id and len(refunds_of(stripe_settings, intent.id)) == 1


def test_a_full_refund_after_a_partial_capture_refunds_what_was_taken(
    stripe_settings: FakeStripe,
) -> None:
    intent = captured(stripe_settings, "chk_refund_2", held=5000, taken=1800)
    gateway.refund(intent.id, amount_minor=1800, idempotency_key="refund-cdr-2")
    amounts = sorted(r["amount"] for r in refunds_of(stripe_settings, intent.id))
    assert amounts == [1800, 3200]  # ours, and localstripe's release of the uncaptured rest


def test_a_refund_of_nothing_is_refused_before_stripe_is_asked() -> None:
    with pytest.raises(ValueError):
        gateway.refund("pi_unused", amount_minor=0, idempotency_key="refund-nothing")
