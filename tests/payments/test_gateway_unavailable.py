"""When Stripe cannot answer, or answers with an error: `GatewayError`, and whether trying
again later may help."""

from typing import Any

import httpx
import pytest

from payments import gateway
from tests.helpers import free_port
from tests.support.localstripe import FakeStripe


def test_a_stripe_that_refuses_connections_is_a_transient_error(settings: Any) -> None:
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings.STRIPE_SECRET_KEY = "sk_test_unreachable"
    with pytest.raises(gateway.GatewayError) as failed:
        gateway.retrieve("pi_anything")
    assert failed.value.transient is True


def test_a_hold_while_stripe_is_unreachable_is_a_transient_error(settings: Any) -> None:
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(gateway.GatewayError) as failed:
        gateway.place_hold(
            amount_minor=100,
            currency="EUR",
            payment_method="pm_card_visa",
            checkout_ref="chk_down_1",
            idempotency_key="hold-chk_down_1",
        )
    assert failed.value.transient is True


def test_an_unknown_intent_is_a_permanent_error(stripe_settings: FakeStripe) -> None:
    with pytest.raises(gateway.GatewayError) as failed:
        gateway.retrieve("pi_doesnotexist")
    assert (failed.value.transient, failed.value.http_status) == (False, 404)


def test_a_wrong_api_key_is_a_permanent_error_that_does_not_show_the_key(
    stripe_settings: FakeStripe, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = "not-a-secret-key"
    with pytest.raises(gateway.GatewayError) as failed:
        gateway.retrieve("pi_anything")
    assert (failed.value.transient, failed.value.http_status) == (False, 401)
    assert "not-a-secret-key" not in str(failed.value)


def test_a_server_error_at_stripe_is_a_transient_error(stripe_settings: FakeStripe) -> None:
    # localstripe fails with a 500 when asked to refund an intent that was never confirmed
    # (the SDK tries twice more first: Stripe asks for that on a 5xx).
    unconfirmed = httpx.post(
        f"{stripe_settings.base_url}/v1/payment_intents",
        headers={"Authorization": f"Bearer {stripe_settings.secret_key}"},
        data={
            "amount": "100",
            "currency": "eur",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
        },
    ).json()
    assert unconfirmed["status"] == "requires_confirmation"
    with pytest.raises(gateway.GatewayError) as failed:
        gateway.refund(unconfirmed["id"], amount_minor=100, idempotency_key="refund-unconfirmed")
    assert (failed.value.transient, failed.value.http_status) == (True, 500)


def test_the_settings_of_the_moment_are_used_for_each_call(
    stripe_settings: FakeStripe, settings: Any
) -> None:
    setup_id, _ = gateway.create_setup_intent(checkout_ref="chk_down_2")
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(gateway.GatewayError):
        gateway.retrieve_setup(setup_id)
    settings.STRIPE_API_BASE = stripe_settings.base_url
    assert gateway.retrieve_setup(setup_id).checkout_ref == "chk_down_2"
