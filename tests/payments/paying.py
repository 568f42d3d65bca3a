"""A driver pays through the checkout API as the browser does, in-process with Django's test
client: a checkout started at the test charger, a card confirmed with the fake Stripe, `pay`."""

import httpx
from django.test import Client

from tests.payments.charger import EVSE_ID
from tests.support.localstripe import confirm_card_setup

VISA, DECLINED, THREE_DS = "4242424242424242", "4000000000000341", "4000002500003155"


def started(client: Client) -> dict:
    return client.post(
        "/api/v1/checkouts",
        {"evse_id": EVSE_ID, "connector_id": "1"},
        content_type="application/json",
    ).json()


def card(fake, secret: str, number: str) -> str:
    """What the browser does: Stripe.js confirms the SetupIntent with the card typed in."""
    return confirm_card_setup(fake.base_url, secret, number)["payment_method"]


def pay(client: Client, checkout_id: str, payment_method: str) -> tuple[int, dict]:
    response = client.post(
        f"/api/v1/checkouts/{checkout_id}/pay",
        {"payment_method": payment_method},
        content_type="application/json",
    )
    return response.status_code, response.json()


def intents_at_stripe(fake, checkout_id: str) -> list[dict]:
    """Every PaymentIntent the fake Stripe holds for this checkout (by our metadata), all pages
    read: what Stripe itself would show, whatever our own records say."""
    found: list[dict] = []
    after: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 100} | ({"starting_after": after} if after else {})
        page = httpx.get(
            f"{fake.base_url}/v1/payment_intents",
            headers={"Authorization": f"Bearer {fake.secret_key}"},
            params=params,
        ).json()
        found += [i for i in page["data"] if i["metadata"].get("checkout") == checkout_id]
        if not page["has_more"]:
            return found
        after = page["data"][-1]["id"]
