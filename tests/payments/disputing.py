"""Stripe's `charge.dispute.*` webhooks for a settled checkout, built as Stripe documents them
(localstripe sends none) and POSTed signed to our live server, and what the ledger then says.
The dispute itself is put in the fake Stripe first (`disputed`): we book what Stripe says when
asked again, not what the body says."""

import json
import time
from datetime import UTC, datetime
from typing import Any

import requests

from payments.models import Checkout, LedgerEntry
from tests.support.localstripe import set_dispute, stripe_signature

DUE_BY = datetime(2030, 1, 15, 23, 59, 59, tzinfo=UTC)


def captured(checkout: Checkout) -> int:
    return checkout.ledger.get(kind=LedgerEntry.Kind.CAPTURE).amount_minor


def dispute_event(
    checkout: Checkout,
    kind: str = "charge.dispute.created",
    *,
    event_id: str = "evt_dispute_1",
    dispute_id: str = "dp_1",
    status: str = "needs_response",
    reason: str = "fraudulent",
    amount: int | None = None,
    intent_id: str | None = None,
) -> bytes:
    """A `charge.dispute.*` event as Stripe sends it (API 2024-06-20), about the checkout's
    payment unless `intent_id` says otherwise."""
    now = int(time.time())
    dispute: dict[str, Any] = {
        "id": dispute_id,
        "object": "dispute",
        "amount": captured(checkout) if amount is None else amount,
        "balance_transactions": [],
        "charge": "ch_3Disputed0000000000000000",
        "created": now - 60,
        "currency": checkout.currency.lower(),
        "evidence": {"customer_name": None, "uncategorized_text": None},
        "evidence_details": {
            "due_by": int(DUE_BY.timestamp()),
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": intent_id or checkout.stripe_payment_intent,
        "reason": reason,
        "status": status,
    }
    body = {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": now,
        "data": {"object": dispute},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }
    return json.dumps(body).encode()


def disputed(
    fake,
    checkout: Checkout,
    kind: str = "charge.dispute.created",
    *,
    event_id: str = "evt_dispute_1",
    dispute_id: str = "dp_1",
    status: str = "needs_response",
    reason: str = "fraudulent",
    amount: int | None = None,
) -> bytes:
    """Stripe has the dispute in this state (the bank opened or moved it), and the event it
    sends about it, whose body says the same."""
    set_dispute(
        fake.base_url,
        dispute_id,
        payment_intent=checkout.stripe_payment_intent,
        amount=captured(checkout) if amount is None else amount,
        status=status,
        reason=reason,
        due_by=int(DUE_BY.timestamp()),
    )
    return dispute_event(
        checkout,
        kind,
        event_id=event_id,
        dispute_id=dispute_id,
        status=status,
        reason=reason,
        amount=amount,
    )


def post_webhook(live_server, payload: bytes, secret: str) -> requests.Response:
    return requests.post(
        f"{live_server.url}/stripe/webhook/",
        data=payload,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": stripe_signature(payload, secret),
        },
        timeout=10,
    )


def disputes_of(checkout: Checkout) -> list[LedgerEntry]:
    return list(checkout.ledger.filter(kind=LedgerEntry.Kind.DISPUTE))


def kept(checkout: Checkout) -> int:
    """What we kept from the driver: the sign convention in `payments.disputes`."""
    signs = {"capture": 1, "refund": -1, "dispute": -1}
    return sum(signs.get(e.kind, 0) * e.amount_minor for e in checkout.ledger.all())
