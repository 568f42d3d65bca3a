"""`pay` holds the card the checkout's own SetupIntent collected, as Stripe reports it: a client
that sends another payment method (someone else's, or one it got elsewhere) is refused and
nothing is held; one that sends none pays with the card entered on the page. Over HTTP to our
live server, with localstripe as Stripe."""

import httpx
import pytest

from payments.models import Checkout, LedgerEntry
from tests.payments.charger import EVSE_ID, charger
from tests.payments.paying import VISA, intents_at_stripe
from tests.support.localstripe import card_payment_method, confirm_card_setup

pytestmark = pytest.mark.django_db(transaction=True)

MASTERCARD = "5555555555554444"


def started(live_server) -> dict:
    answer = httpx.post(
        f"{live_server.url}/api/v1/checkouts", json={"evse_id": EVSE_ID, "connector_id": "1"}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def pay(live_server, checkout_id: str, body: dict, language: str = "en") -> httpx.Response:
    return httpx.post(
        f"{live_server.url}/api/v1/checkouts/{checkout_id}/pay",
        json=body,
        headers={"Accept-Language": language},
        timeout=30,
    )


def test_another_card_than_the_one_entered_is_refused_and_nothing_is_held(
    live_server, stripe_settings
) -> None:
    charger()
    checkout = started(live_server)
    entered = confirm_card_setup(stripe_settings.base_url, checkout["setup_client_secret"], VISA)
    someone_elses = card_payment_method(stripe_settings.base_url, VISA)

    refused = pay(live_server, checkout["id"], {"payment_method": someone_elses})

    assert refused.status_code == 400
    assert refused.json()["error"] == "payment_method_mismatch"
    assert "not the one entered" in refused.json()["detail"]
    assert intents_at_stripe(stripe_settings, checkout["id"]) == []
    assert not LedgerEntry.objects.exists()
    stored = Checkout.objects.get(public_id=checkout["id"])
    assert (stored.status, stored.declines, stored.pay_pending_since) == ("created", 0, None)

    # the driver's own card still pays, and it is the one held
    paid = pay(live_server, checkout["id"], {"payment_method": entered["payment_method"]})
    assert paid.status_code == 200 and paid.json()["status"] == "authorized"
    [intent] = intents_at_stripe(stripe_settings, checkout["id"])
    assert intent["payment_method"] == entered["payment_method"]


def test_the_refusal_is_in_the_driver_s_language(live_server, stripe_settings) -> None:
    charger()
    checkout = started(live_server)
    confirm_card_setup(stripe_settings.base_url, checkout["setup_client_secret"], VISA)
    someone_elses = card_payment_method(stripe_settings.base_url, VISA)

    refused = pay(live_server, checkout["id"], {"payment_method": someone_elses}, language="de")

    assert refused.status_code == 400
    assert "nicht die auf dieser Seite eingegebene" in refused.json()["detail"]


def test_without_a_payment_method_the_card_entered_is_held(live_server, stripe_settings) -> None:
    charger()
    checkout = started(live_server)
    entered = confirm_card_setup(
        stripe_settings.base_url, checkout["setup_client_secret"], MASTERCARD
    )

    paid = pay(live_server, checkout["id"], {})

    assert paid.status_code == 200 and paid.json()["status"] == "authorized"
    [intent] = intents_at_stripe(stripe_settings, checkout["id"])
    assert intent["payment_method"] == entered["payment_method"]
    stored = Checkout.objects.get(public_id=checkout["id"])
    assert stored.card_last4 == "4444"
    assert stored.ledger.get().kind == LedgerEntry.Kind.HOLD


def test_pay_before_the_card_is_entered_holds_nothing(live_server, stripe_settings) -> None:
    charger()
    checkout = started(live_server)
    a_card = card_payment_method(stripe_settings.base_url, VISA)

    early = pay(live_server, checkout["id"], {"payment_method": a_card})
    bare = pay(live_server, checkout["id"], {})

    assert (early.status_code, bare.status_code) == (409, 409)
    assert early.json()["error"] == bare.json()["error"] == "card_not_set_up"
    assert intents_at_stripe(stripe_settings, checkout["id"]) == []
    assert not LedgerEntry.objects.exists()

    # once the card is entered, paying works
    confirm_card_setup(stripe_settings.base_url, checkout["setup_client_secret"], VISA)
    assert pay(live_server, checkout["id"], {}).json()["status"] == "authorized"
