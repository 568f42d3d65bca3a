"""Disputes: a driver's bank takes back (or asks about) a payment we captured. Stripe tells us
with `charge.dispute.*` webhooks; each names a dispute, which `payments.dispatch` reads again
from Stripe (the body's copy may be old, replayed or out of order), and we apply the state Stripe
gives: every booking is keyed, closing is final, so a replay or a late event moves no money.

What happens:

- The first event about a dispute finds the checkout by the PaymentIntent Stripe says the
  dispute is about, records a `Dispute` row, sets the payment status to `disputed` and opens a
  DISPUTE case for an operator (amount, Stripe's reason and status, evidence due by), keyed by the
  dispute id. A dispute about an intent that is not ours, or one Stripe does not know, touches
  nothing.
- A chargeback books one DISPUTE ledger row for the disputed amount (key `dispute:<id>`), since
  Stripe takes the money from our balance when the chargeback opens. An inquiry (Stripe's
  `warning_*` statuses) moves no money, so it books nothing until it becomes a chargeback.
- Later events add a line to the case when Stripe's status, amount or due date changes.
- Closing is final (a later event changes nothing) and books the outcome under key
  `dispute:<id>:closed`: won, a DISPUTE row of minus the withdrawn amount (the money came back);
  lost, a DISPUTE row of 0 whose note says the withdrawn amount is gone for good; an inquiry
  closed without a chargeback books nothing. Won or an inquiry closed, the payment status goes
  back to what the ledger says (captured, partially refunded, …) unless another dispute on the
  checkout is still open or was lost. Lost, it stays `disputed`. The case is never resolved
  here: it gets a line, and an operator closes it.

Sign convention of DISPUTE rows (HOLD, CAPTURE, RELEASE and REFUND are positive amounts in
the direction their kind names): positive is money a dispute took from us, negative is money a
dispute gave back. So for every checkout, what we kept from the driver is

    sum(CAPTURE) - sum(REFUND) - sum(DISPUTE)

which is the captured amount again after a dispute won, and that less the disputed amount after
one lost. Stripe's dispute fee is not in the ledger (it is a charge on us, not on the payment).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from payments import gateway, ledger, services
from payments.cases import open_case
from payments.models import Case, Checkout, Dispute, LedgerEntry
from stations.money import MINOR_UNITS, Money

logger = logging.getLogger(__name__)

WON, LOST, INQUIRY_CLOSED = "won", "lost", "warning_closed"
CLOSED = {WON, LOST, INQUIRY_CLOSED}


def record_dispute_event(*, event: gateway.WebhookEvent, dispute: gateway.Dispute) -> bool:
    """Store a dispute event once and apply `dispute` (as Stripe has it now), in one
    transaction: a crash stores nothing, so Stripe's retry finds the work undone. False for a
    replay, which changes nothing; a dispute about no checkout of ours is stored and changes
    nothing else. The checkout is the one of the intent Stripe names, not the event's body."""
    event = replace(event, intent_id=dispute.intent_id)
    checkout_id = (
        Checkout.objects.filter(stripe_payment_intent=dispute.intent_id)
        .values_list("pk", flat=True)
        .first()
        if dispute.intent_id
        else None
    )
    if checkout_id is None:
        logger.warning(
            "dispute %s is about no checkout of ours (intent %s)", dispute.id, dispute.intent_id
        )
        with transaction.atomic(durable=True):
            return services.stored_stripe_event(event)
    return _apply_event(checkout_id=checkout_id, event=event, dispute=dispute)


@transaction.atomic(durable=True)
def _apply_event(
    *, checkout_id: int, event: gateway.WebhookEvent, dispute: gateway.Dispute
) -> bool:
    checkout = Checkout.objects.select_for_update().get(pk=checkout_id)  # checkout first
    if not services.stored_stripe_event(event):
        return False
    _apply_dispute(checkout, dispute)
    return True


def _apply_dispute(checkout: Checkout, dispute: gateway.Dispute) -> Dispute:
    """Books what this state of the dispute adds (nothing, if already booked or closed). The
    caller holds the checkout's lock, in a transaction."""
    row, created = Dispute.objects.get_or_create(
        dispute_id=dispute.id,
        defaults={
            "checkout": checkout,
            "charge_id": dispute.charge_id or "",
            "amount_minor": dispute.amount,
            "currency": dispute.currency,
            "reason": dispute.reason,
            "status": dispute.status,
            "evidence_due_by": dispute.evidence_due_by,
        },
    )
    case = open_case(
        Case.Kind.DISPUTE, _opened(dispute), key=f"dispute:{dispute.id}", checkout=checkout
    )
    if row.closed_at is not None:
        return row  # closing is final: a late or replayed event changes nothing
    if not created:
        changed = _changes(row, dispute)
        if changed:
            _add_line(case, f"Stripe now says: {changed}.")
            row.save(update_fields=["amount_minor", "status", "reason", "evidence_due_by"])
    same_currency = dispute.currency == checkout.currency
    if not same_currency and created:
        mismatch = f"{dispute.currency}, the checkout in {checkout.currency}"
        _add_line(case, f"Nothing booked: the dispute is in {mismatch}.")
    if same_currency and not dispute.status.startswith("warning_"):
        ledger.book(
            checkout,
            LedgerEntry.Kind.DISPUTE,
            dispute.amount,
            key=f"dispute:{dispute.id}",
            stripe_id=dispute.id,
            note=f"dispute {dispute.id} opened: reason {dispute.reason}, status {dispute.status}",
        )
    if dispute.status in CLOSED:
        _close(checkout, row, case, dispute)
    else:
        checkout.payment_status = Checkout.PaymentStatus.DISPUTED
        checkout.save(update_fields=["payment_status"])
    return row


def _close(checkout: Checkout, row: Dispute, case: Case, dispute: gateway.Dispute) -> None:
    withdrawn = (
        LedgerEntry.objects.filter(idempotency_key=f"dispute:{dispute.id}")
        .values_list("amount_minor", flat=True)
        .first()
    ) or 0
    shown = _shown(withdrawn, checkout.currency)
    if dispute.status == WON and withdrawn:
        line = f"Dispute {dispute.id} won: the {shown} withdrawn came back."
        _book_outcome(checkout, dispute, -withdrawn, line)
    elif dispute.status == LOST and withdrawn:
        line = f"Dispute {dispute.id} lost: the {shown} withdrawn is gone for good."
        _book_outcome(checkout, dispute, 0, line)
    elif dispute.status in (WON, LOST):
        line = f"Dispute {dispute.id} {dispute.status}; no money had been booked as withdrawn."
    else:
        line = f"Inquiry {dispute.id} closed without a chargeback; no money moved."
    row.closed_at = timezone.now()
    row.save(update_fields=["closed_at"])
    _add_line(case, line + " Nothing was resolved automatically.")
    others = checkout.disputes.exclude(pk=row.pk)
    if dispute.status != LOST and not others.filter(Q(closed_at=None) | Q(status=LOST)).exists():
        checkout.payment_status = _status_from_ledger(checkout)
    else:
        checkout.payment_status = Checkout.PaymentStatus.DISPUTED
    checkout.save(update_fields=["payment_status"])


def _book_outcome(checkout: Checkout, dispute: gateway.Dispute, amount: int, note: str) -> None:
    ledger.book(
        checkout,
        LedgerEntry.Kind.DISPUTE,
        amount,
        key=f"dispute:{dispute.id}:closed",
        stripe_id=dispute.id,
        note=f"{note} (reason {dispute.reason}, status {dispute.status})",
    )


def _status_from_ledger(checkout: Checkout) -> str:
    """The payment status the ledger supports once no dispute is open."""
    sums = dict(
        checkout.ledger.values("kind")
        .annotate(total=Sum("amount_minor"))
        .values_list("kind", "total")
        .order_by()
    )
    captured = sums.get(LedgerEntry.Kind.CAPTURE, 0)
    refunded = sums.get(LedgerEntry.Kind.REFUND, 0)
    Status = Checkout.PaymentStatus
    if not captured:
        return Status.RELEASED if LedgerEntry.Kind.RELEASE in sums else Status.HELD
    if not refunded:
        return Status.CAPTURED
    return Status.REFUNDED if refunded >= captured else Status.PARTIALLY_REFUNDED


def _opened(dispute: gateway.Dispute) -> str:
    what = "Inquiry" if dispute.status.startswith("warning_") else "Dispute"
    due = (
        dispute.evidence_due_by.strftime("%Y-%m-%d %H:%M UTC")
        if dispute.evidence_due_by
        else "not given"
    )
    return (
        f"{what} {dispute.id}: {_shown(dispute.amount, dispute.currency)}, reason "
        f"{dispute.reason}, Stripe status {dispute.status}; evidence due by {due}. "
        "Answer it in the Stripe dashboard."
    )


def _changes(row: Dispute, dispute: gateway.Dispute) -> str:
    """What differs between the row and the dispute, in words; the row takes the new values."""
    changes = []
    if row.status != dispute.status:
        changes.append(f"status {dispute.status} (was {row.status})")
        row.status = dispute.status
    if row.amount_minor != dispute.amount:
        changes.append(f"amount {_shown(dispute.amount, dispute.currency)}")
        row.amount_minor = dispute.amount
    if row.reason != dispute.reason:
        changes.append(f"reason {dispute.reason}")
        row.reason = dispute.reason
    if row.evidence_due_by != dispute.evidence_due_by and dispute.evidence_due_by:
        changes.append(f"evidence due by {dispute.evidence_due_by:%Y-%m-%d %H:%M UTC}")
        row.evidence_due_by = dispute.evidence_due_by
    return ", ".join(changes)


def _add_line(case: Case, line: str) -> None:
    """Append to the case's summary (the checkout's lock serialises writers)."""
    case.summary = f"{case.summary}\n{line}"
    case.save(update_fields=["summary"])


def _shown(minor: int, currency: str) -> str:
    if currency not in MINOR_UNITS:
        return f"{minor} minor units of {currency}"
    return str(Money.from_minor(minor, currency))
