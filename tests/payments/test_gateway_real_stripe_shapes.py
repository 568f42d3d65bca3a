"""What real Stripe sends and localstripe does not (`amount_capturable`, `amount_received`,
card details on the charge, `capture_before`, decline codes) is read too. The payloads follow
Stripe's API reference for a PaymentIntent with `latest_charge` expanded."""

from datetime import UTC, datetime
from typing import Any

from payments import gateway


def stripe_intent(**changes: Any) -> dict[str, Any]:
    intent: dict[str, Any] = {
        "id": "pi_3QabcDEF",
        "object": "payment_intent",
        "amount": 5000,
        "amount_capturable": 5000,
        "amount_received": 0,
        "capture_method": "manual",
        "client_secret": "pi_3QabcDEF_secret_xyz",
        "currency": "eur",
        "last_payment_error": None,
        "latest_charge": {
            "id": "ch_3QabcDEF",
            "object": "charge",
            "amount": 5000,
            "captured": False,
            "payment_intent": "pi_3QabcDEF",
            "payment_method": "pm_1QabcDEF",
            "payment_method_details": {
                "type": "card",
                "card": {
                    "brand": "mastercard",
                    "last4": "4444",
                    "capture_before": 1767225600,
                    "exp_month": 12,
                    "exp_year": 2030,
                },
            },
        },
        "metadata": {"checkout": "chk_real_1"},
        "payment_method": "pm_1QabcDEF",
        "status": "requires_capture",
    }
    intent.update(changes)
    return intent


def test_a_real_hold_gives_card_details_and_capture_before() -> None:
    intent = gateway.intent_from(stripe_intent())
    assert intent.status == "requires_capture"
    assert (intent.amount, intent.amount_capturable, intent.amount_received) == (5000, 5000, 0)
    assert intent.currency == "EUR"
    assert (intent.card_brand, intent.card_last4) == ("mastercard", "4444")
    assert intent.capture_before == datetime(2026, 1, 1, tzinfo=UTC)
    assert intent.payment_method == "pm_1QabcDEF"
    assert intent.checkout_ref == "chk_real_1"


def test_a_real_partial_capture_reports_what_was_received() -> None:
    intent = gateway.intent_from(
        stripe_intent(status="succeeded", amount_capturable=0, amount_received=1830)
    )
    assert (intent.amount_capturable, intent.amount_received) == (0, 1830)


def test_an_unexpanded_charge_and_payment_method_are_fine() -> None:
    intent = gateway.intent_from(stripe_intent(latest_charge="ch_3QabcDEF"))
    assert intent.card_last4 is None
    assert intent.capture_before is None
    assert intent.payment_method == "pm_1QabcDEF"


def test_a_decline_code_is_added_in_words_when_the_message_does_not_say_it() -> None:
    error = {"code": "card_declined", "decline_code": "lost_card", "type": "card_error"}
    declined = gateway.intent_from(
        stripe_intent(
            status="requires_payment_method",
            amount_capturable=0,
            last_payment_error={**error, "message": "Your card was declined."},
        )
    )
    assert declined.decline_reason == "Your card was declined. (lost card)"


def test_a_message_that_already_names_the_decline_is_kept_as_it_is() -> None:
    error = {
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "message": "Your card has insufficient funds.",
    }
    declined = gateway.intent_from(stripe_intent(last_payment_error=error))
    assert declined.decline_reason == "Your card has insufficient funds."
