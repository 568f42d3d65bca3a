"""`pay` with what the Payment Element collected (a ConfirmationToken): our server creates and
confirms the checkout's one manual-capture PaymentIntent with it, so 3-D Secure is asked once;
a token Stripe refuses (spent, unknown) is the driver's to enter again, never a 5xx."""

import pytest
from django.test import Client

from payments.models import Checkout, LedgerEntry
from tests.payments.charger import charger
from tests.payments.paying import DECLINED, THREE_DS, VISA, intents_at_stripe, started
from tests.support.localstripe import complete_3ds, confirmation_token

pytestmark = pytest.mark.django_db


def pay(client: Client, checkout_id: str, token: str, language: str = "en") -> tuple[int, dict]:
    answer = client.post(
        f"/api/v1/checkouts/{checkout_id}/pay",
        {"confirmation_token": token},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    return answer.status_code, answer.json()


def test_it_holds_the_card_of_the_token(client: Client, stripe_settings) -> None:
    charger()
    checkout = started(client)
    status, body = pay(client, checkout["id"], confirmation_token(stripe_settings.base_url, VISA))
    assert (status, body["status"], body["payment_status"]) == (200, "authorized", "held")
    hold = LedgerEntry.objects.get(checkout__public_id=checkout["id"])
    assert (hold.kind, hold.amount_minor) == ("hold", 5000)
    [intent] = intents_at_stripe(stripe_settings, checkout["id"])
    assert (intent["capture_method"], intent["status"]) == ("manual", "requires_capture")


def test_a_card_asking_for_3d_secure_asks_once_at_the_hold(client: Client, stripe_settings) -> None:
    charger()
    checkout = started(client)
    status, body = pay(
        client, checkout["id"], confirmation_token(stripe_settings.base_url, THREE_DS)
    )
    assert (status, body["status"]) == (200, "requires_action")
    intent_id = body["client_secret"].split("_secret_")[0]
    complete_3ds(stripe_settings.base_url, intent_id)
    confirmed = client.post(f"/api/v1/checkouts/{checkout['id']}/confirm").json()
    assert confirmed["status"] == "authorized"
    assert [i["id"] for i in intents_at_stripe(stripe_settings, checkout["id"])] == [intent_id]


def test_a_decline_is_said_in_the_drivers_language_without_a_card_setup(
    client: Client, stripe_settings
) -> None:
    charger()
    checkout = started(client)
    token = confirmation_token(stripe_settings.base_url, DECLINED)
    status, body = pay(client, checkout["id"], token, language="de")
    assert status == 402
    assert body["detail"] == "Ihre Karte wurde abgelehnt. Bitte versuchen Sie eine andere Karte."
    assert "setup_client_secret" not in body  # the Payment Element needs none
    status, body = pay(client, checkout["id"], confirmation_token(stripe_settings.base_url, VISA))
    assert (status, body["status"]) == (200, "authorized")


@pytest.mark.parametrize("token", ["spent", "ctoken_unknown"])
def test_a_token_stripe_refuses_is_a_400_and_holds_nothing(
    client: Client, stripe_settings, token: str
) -> None:
    charger()
    if token == "spent":
        token = confirmation_token(stripe_settings.base_url, VISA)
        first = started(client)
        assert pay(client, first["id"], token)[0] == 200
        Checkout.objects.filter(public_id=first["id"]).update(evse_claim=None)  # charger free
    checkout = started(client)
    status, body = pay(client, checkout["id"], token)
    assert (status, body["error"]) == (400, "card_token_unusable")
    assert body["detail"] == "Your card details could not be used. Please enter them again."
    assert not LedgerEntry.objects.filter(checkout__public_id=checkout["id"]).exists()
    assert Checkout.objects.get(public_id=checkout["id"]).pay_pending_since is None


def test_a_token_and_a_payment_method_together_are_refused(client: Client, stripe_settings) -> None:
    charger()
    checkout = started(client)
    answer = client.post(
        f"/api/v1/checkouts/{checkout['id']}/pay",
        {"confirmation_token": "ctoken_abc", "payment_method": "pm_abc"},
        content_type="application/json",
    )
    assert answer.status_code == 400 and not LedgerEntry.objects.exists()
