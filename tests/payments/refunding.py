"""What the fake Stripe holds about a payment's refunds, read over its HTTP API."""

import httpx

from payments.models import Checkout


def stripe_refunds(fake, checkout: Checkout) -> list[dict]:
    """The refunds Stripe holds for the payment, without localstripe's release of the
    uncaptured rest (which it shows as a refund without metadata)."""
    answer = httpx.get(
        f"{fake.base_url}/v1/refunds",
        params={"payment_intent": checkout.stripe_payment_intent},
        headers={"Authorization": f"Bearer {fake.secret_key}"},
    )
    return [r for r in answer.json()["data"] if r.get("metadata")]
