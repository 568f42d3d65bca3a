"""Refunds: money back to the driver's card after a capture, in part or in full.

Who asks: an operator (admin action, key `operator:<uuid>`), a credit CDR or a later CDR that
bills less than was captured (`payments.settlement`). Every ask becomes one `Refund` row first,
in the checkout's lock, so that:

- what is pending counts against what may still be refunded: refunds never exceed captures,
  even when two operators click at once;
- a doubled or retried ask (the same `key`) refunds once;
- once Stripe has refunded, the refund becomes a credit note (`CreditNote`) in the same
  transaction: its own gapless number, referring to the receipt's, e-mailed to the driver
  (task `payments.tasks.send_credit_note`); the receipt itself stays as it was sent;
- the Stripe call (task `payments.tasks.refund_payment`, enqueued on commit) carries the
  idempotency key `refund:<key>`, and the ledger row the same unique key, so a retried task
  books once. Errors that may pass (429, 5xx, no connection) are retried with backoff; a
  refusal, or retries exhausted, books FAILED_REFUND and opens a FAILED_REFUND case.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from payments import advice
from payments.cases import open_case
from payments.ledger import book
from payments.models import (
    Case,
    Cdr,
    Checkout,
    CreditNote,
    DocumentCounter,
    LedgerEntry,
    Refund,
    credit_note_number,
    receipt_number,
)
from payments.queue import enqueue_on_commit
from stations.money import Money


class RefundRefused(Exception):
    """The refund cannot be made; the message says why, for an operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def captured_minor(checkout: Checkout) -> int:
    return int(
        checkout.ledger.filter(kind=LedgerEntry.Kind.CAPTURE).aggregate(s=Sum("amount_minor"))["s"]
        or 0
    )


def refunded_minor(checkout: Checkout, *, pending: bool = True) -> int:
    """Refunded so far; with `pending`, also what is asked for and not yet answered."""
    statuses = [Refund.Status.REFUNDED] + ([Refund.Status.PENDING] if pending else [])
    return int(
        checkout.refunds.filter(status__in=statuses).aggregate(s=Sum("amount_minor"))["s"] or 0
    )


def disputed_minor(checkout: Checkout) -> int:
    """Taken back by chargebacks, less what won disputes returned (`payments.disputes`)."""
    return int(
        checkout.ledger.filter(kind=LedgerEntry.Kind.DISPUTE).aggregate(s=Sum("amount_minor"))["s"]
        or 0
    )


def refundable_minor(checkout: Checkout) -> int:
    """Captured, less refunded or being refunded, less what a chargeback took back already
    (the driver's bank returned that; refunding it too would pay it twice)."""
    return captured_minor(checkout) - refunded_minor(checkout) - disputed_minor(checkout)


@transaction.atomic(durable=True)
def request_refund(
    *,
    checkout_id: int,
    amount: Decimal,
    reason: str,
    requested_by: str,
    key: str,
    borne_by: str,
) -> None:
    """Refund `amount` (in the checkout's currency, incl. VAT) of what was captured, borne by
    `borne_by` (`Refund.BorneBy`: the platform, or the CPO, deducted from what we owe it once
    Stripe has refunded). Raises `RefundRefused` with a readable message when it cannot be done;
    the same `key` again changes nothing. The refund itself happens after commit, in a task."""
    checkout = Checkout.objects.select_for_update().filter(pk=checkout_id).first()
    if checkout is None:
        raise RefundRefused(f"there is no checkout {checkout_id}")
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise RefundRefused(f"not an amount: {amount!r}")
    if amount <= 0:
        raise RefundRefused("the amount to refund must be more than zero")
    money = Money(amount, checkout.currency)
    if Money.from_minor(money.to_minor(), checkout.currency).amount != amount:
        raise RefundRefused(
            f"{amount} is not an amount in {checkout.currency}: too many decimal places"
        )
    if not reason.strip():
        raise RefundRefused("say why the money is refunded")
    if borne_by not in Refund.BorneBy.values:
        raise RefundRefused("say who bears the refund: the platform or the CPO")
    queue(
        checkout,
        amount_minor=money.to_minor(),
        reason=reason.strip(),
        requested_by=requested_by,
        key=key,
        borne_by=borne_by,
    )


def queue(
    checkout: Checkout,
    *,
    amount_minor: int,
    reason: str,
    requested_by: str,
    key: str,
    cdr: Cdr | None = None,
    borne_by: str = "",
) -> Refund:
    """The refund row and its task, inside the caller's transaction, with the checkout locked
    (`select_for_update`) by the caller. Raises RefundRefused. `borne_by` blank: a CDR caused
    it, and what we owe the CPO follows that CDR."""
    existing = Refund.objects.filter(key=key).first()
    if existing is not None:
        if existing.checkout_id != checkout.pk or existing.amount_minor != amount_minor:
            raise RefundRefused(f"the key {key} was already used for another refund")
        return existing
    if not checkout.stripe_payment_intent:
        raise RefundRefused("this checkout has no card payment to refund")
    captured = captured_minor(checkout)
    if not captured:
        raise RefundRefused(f"nothing was captured for this checkout (it is {checkout.status})")
    left = refundable_minor(checkout)
    if amount_minor > left:
        disputed = disputed_minor(checkout)
        raise RefundRefused(
            f"at most {Money.from_minor(left, checkout.currency)} can be refunded: "
            f"{Money.from_minor(captured, checkout.currency)} was captured, "
            f"{Money.from_minor(captured - left - disputed, checkout.currency)} is refunded or "
            "being refunded"
            + (
                f", {Money.from_minor(disputed, checkout.currency)} was taken back by a dispute"
                if disputed
                else ""
            )
        )
    refund = Refund.objects.create(
        checkout=checkout,
        cdr=cdr,
        key=key,
        amount_minor=amount_minor,
        currency=checkout.currency,
        reason=reason,
        requested_by=requested_by,
        borne_by=borne_by,
    )
    enqueue_on_commit("payments.tasks.refund_payment", refund.pk)
    return refund


def refund_to_send(refund_id: int) -> Refund | None:
    """The refund, if it still waits for Stripe."""
    refund = Refund.objects.select_related("checkout").get(pk=refund_id)
    return refund if refund.status == Refund.Status.PENDING else None


def _locked(refund_id: int) -> tuple[Checkout, Refund]:
    """The refund and its checkout, the checkout locked first as every money write does."""
    checkout_id = Refund.objects.values_list("checkout_id", flat=True).get(pk=refund_id)
    checkout = Checkout.objects.select_for_update().get(pk=checkout_id)
    return checkout, Refund.objects.get(pk=refund_id)


@transaction.atomic(durable=True)
def record_refund(*, refund_id: int, stripe_refund_id: str) -> None:
    """Stripe refunded: book it once and say so in the payment status."""
    checkout, refund = _locked(refund_id)
    if refund.status != Refund.Status.PENDING:
        return
    refund.status, refund.stripe_refund_id = Refund.Status.REFUNDED, stripe_refund_id
    refund.done_at = timezone.now()
    refund.save(update_fields=["status", "stripe_refund_id", "done_at"])
    book(
        checkout,
        LedgerEntry.Kind.REFUND,
        refund.amount_minor,
        key=f"refund:{refund.key}",
        stripe_id=stripe_refund_id,
        note=refund.reason,
        refund=refund,
    )
    if refund.borne_by == Refund.BorneBy.CPO:
        book(
            checkout,
            LedgerEntry.Kind.PAYABLE,
            -refund.amount_minor,
            key=f"payable-refund:{refund.key}",
            note=f"refund borne by the CPO: {refund.reason}",
            refund=refund,
        )
    issue_credit_note(checkout, refund)
    advice.after_refund(
        checkout,
        refund_key=refund.key,
        refunded_minor=refund.amount_minor,
        net_minor=captured_minor(checkout) - refunded_minor(checkout, pending=False),
        stripe_id=stripe_refund_id,
    )
    if checkout.payment_status == Checkout.PaymentStatus.DISPUTED:
        return  # a dispute's outcome decides the status (`payments.disputes`)
    refunded = refunded_minor(checkout, pending=False)
    checkout.payment_status = (
        Checkout.PaymentStatus.REFUNDED
        if refunded >= captured_minor(checkout)
        else Checkout.PaymentStatus.PARTIALLY_REFUNDED
    )
    checkout.save(update_fields=["payment_status"])


def issue_credit_note(checkout: Checkout, refund: Refund) -> CreditNote:
    """The refund's credit note, once (the caller holds the checkout's lock, inside the
    transaction that books the refund): the next number of the credit notes' counter, which is
    locked until commit, so numbers have no gaps and no twins; e-mailed after commit when the
    driver gave an address."""
    existing = CreditNote.objects.filter(refund=refund).first()
    if existing is not None:
        return existing
    DocumentCounter.objects.get_or_create(name="credit_note")
    counter = DocumentCounter.objects.select_for_update().get(name="credit_note")
    counter.last += 1
    counter.save(update_fields=["last"])
    note = CreditNote.objects.create(
        refund=refund,
        checkout=checkout,
        sequence=counter.last,
        number=credit_note_number(counter.last),
        receipt_number=receipt_number(checkout),
        amount_minor=refund.amount_minor,
        currency=refund.currency,
        reason=refund.reason,
        issued_at=refund.done_at or timezone.now(),
    )
    if checkout.email:
        enqueue_on_commit("payments.tasks.send_credit_note", note.pk)
    return note


@transaction.atomic(durable=True)
def record_refund_failure(*, refund_id: int, error: str) -> None:
    """Stripe refused, or stayed unreachable through every retry: an operator must act."""
    checkout, refund = _locked(refund_id)
    if refund.status != Refund.Status.PENDING:
        return
    refund.status, refund.failure, refund.done_at = Refund.Status.FAILED, error, timezone.now()
    refund.save(update_fields=["status", "failure", "done_at"])
    book(
        checkout,
        LedgerEntry.Kind.FAILED_REFUND,
        refund.amount_minor,
        key=f"failed-refund:{refund.key}",
        note=f"{refund.reason}: {error}",
        refund=refund,
    )
    open_case(
        Case.Kind.FAILED_REFUND,
        f"refund of {Money.from_minor(refund.amount_minor, refund.currency)} failed "
        f"({refund.reason}): {error}",
        key=f"failed-refund:{refund.key}",
        checkout=checkout,
        cdr=refund.cdr,
    )
