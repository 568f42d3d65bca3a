"""A card that is declined when the hold is confirmed: the driver is told why, in words."""

import pytest

from payments import gateway
from tests.support.localstripe import FakeStripe, card_payment_method

DECLINED_AT_CONFIRM = "4000000000000341"  # attaches fine, declined when charged


def test_a_declined_card_raises_payment_declined_with_a_readable_reason(
    stripe_settings: FakeStripe,
) -> None:
    card = card_payment_method(stripe_settings.base_url, DECLINED_AT_CONFIRM)
    with pytest.raises(gateway.PaymentDeclined) as declined:
        gateway.place_hold(
            amount_minor=5000,
            currency="EUR",
            payment_method=card,
            checkout_ref="chk_decline_1",
            idempotency_key="hold-chk_decline_1",
        )
    assert declined.value.reason == "Your card was declined."
    assert declined.value.code == "card_declined"
    assert str(declined.value) == declined.value.reason


def test_a_decline_is_not_a_gateway_error(stripe_settings: FakeStripe) -> None:
    card = card_payment_method(stripe_settings.base_url, DECLINED_AT_CONFIRM)
    with pytest.raises(Exception) as raised:
        gateway.place_hold(
            amount_minor=100,
            currency="EUR",
            payment_method=card,
            checkout_ref="chk_decline_2",
            idempotency_key="hold-chk_decline_2",
        )
    assert not isinstance(raised.value, gateway.GatewayError)
