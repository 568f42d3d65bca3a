"""A hold (manual-capture PaymentIntent, created and confirmed in one call) on a good card."""

from decimal import Decimal

import pytest

from payments import gateway
from tests.support.localstripe import FakeStripe, card_payment_method, confirm_card_setup

VISA = "4242424242424242"


def test_a_hold_on_a_good_card_is_placed_for_the_amount_and_checkout(
    stripe_settings: FakeStripe,
) -> None:
    card = card_payment_method(stripe_settings.base_url, VISA)
    intent = gateway.place_hold(
        amount_minor=5000,
        currency="EUR",
        payment_method=card,
        checkout_ref="chk_hold_1",
        idempotency_key="hold-chk_hold_1",
    )
    assert intent.status == "requires_capture"
    assert (intent.amount, intent.amount_capturable, intent.amount_received) == (5000, 5000, 0)
    assert intent.currency == "EUR"
    assert intent.metadata == {"checkout": "chk_hold_1"}
    assert intent.checkout_ref == "chk_hold_1"
    assert intent.payment_method == card
    assert (intent.card_brand, intent.card_last4) == ("visa", "4242")
    assert intent.decline_reason is None
    assert intent.capture_before is None  # localstripe does not say; real Stripe does
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert intent.client_secret not in repr(intent)  # never in a log line by accident


def test_the_hold_read_back_from_stripe_is_the_same(stripe_settings: FakeStripe) -> None:
    card = card_payment_method(stripe_settings.base_url, VISA)
    held = gateway.place_hold(
        amount_minor=1234,
        currency="eur",
        payment_method=card,
        checkout_ref="chk_hold_2",
        idempotency_key="hold-chk_hold_2",
    )
    assert gateway.retrieve(held.id) == held


def test_a_card_the_browser_set_up_is_read_from_stripe_and_held(
    stripe_settings: FakeStripe,
) -> None:
    setup_id, client_secret = gateway.create_setup_intent(checkout_ref="chk_hold_3")
    assert client_secret.startswith(f"{setup_id}_secret_")
    confirm_card_setup(stripe_settings.base_url, client_secret, VISA)  # Stripe.js, in the page

    setup = gateway.retrieve_setup(setup_id)
    assert (setup.status, setup.checkout_ref) == ("succeeded", "chk_hold_3")
    assert setup.payment_method is not None
    intent = gateway.place_hold(
        amount_minor=3000,
        currency="EUR",
        payment_method=setup.payment_method,
        checkout_ref="chk_hold_3",
        idempotency_key="hold-chk_hold_3",
    )
    assert (intent.status, intent.card_last4) == ("requires_capture", "4242")


@pytest.mark.parametrize(("amount", "currency"), [(0, "EUR"), (-5, "EUR"), (100, "EURO")])
def test_a_hold_for_nothing_or_in_no_currency_is_refused_before_stripe_is_asked(
    amount: int, currency: str
) -> None:
    with pytest.raises(ValueError):
        gateway.place_hold(
            amount_minor=amount,
            currency=currency,
            payment_method="pm_card_visa",
            checkout_ref="chk_hold_4",
            idempotency_key="hold-chk_hold_4",
        )


@pytest.mark.parametrize("amount", [Decimal("12.34"), 12.34, True])
def test_a_hold_in_anything_but_integer_minor_units_is_refused(amount: object) -> None:
    with pytest.raises(TypeError):
        gateway.place_hold(
            amount_minor=amount,  # type: ignore[arg-type]
            currency="EUR",
            payment_method="pm_card_visa",
            checkout_ref="chk_hold_5",
            idempotency_key="hold-chk_hold_5",
        )
