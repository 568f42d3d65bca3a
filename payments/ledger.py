"""The ledger's one writer (ARCHITECTURE.md "Money"): append-only rows in minor units, each
under a unique idempotency key, so a retried or doubled operation books once. Every module
that moves money books through here, inside its own transaction with the checkout locked."""

from __future__ import annotations

from payments.models import Checkout, LedgerEntry, Refund


def book(
    checkout: Checkout,
    kind: str,
    amount_minor: int,
    *,
    key: str,
    stripe_id: str = "",
    note: str = "",
    refund: Refund | None = None,
) -> None:
    """Append to the ledger once: the key is unique, so a replay books nothing. A refund's
    rows (REFUND, FAILED_REFUND) name the `Refund` they book, which says why."""
    LedgerEntry.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "checkout": checkout,
            "kind": kind,
            "amount_minor": amount_minor,
            "currency": checkout.currency,
            "stripe_id": stripe_id,
            "merchant": checkout.merchant,
            "note": note,
            "refund": refund,
        },
    )
