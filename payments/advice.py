"""Financial Advice Confirmations (OCPI 2.3.0 Payments module, checklist §14, PAY-08): after
each capture, refund or failed capture of a checkout paid over a 2.3.0 connection, we tell the
CPO what its driver's card was charged, with the lines an invoice must print (`eft_data`).

`advise` is called by settlement and refunds inside their own transaction, with the checkout
locked: the FAC row is written with the movement it reports (one per movement: its key is
unique, so a replay writes none), an ADVICE_PUSH deadline watches it, and the push is enqueued on
commit. `send_advice` POSTs it to the CPO's Payments Receiver with the same id every time (the
CPO keeps one per id); a refusal or an unreachable CPO leaves it unsent, and the deadline sends
it again with backoff until the CPO takes it. Our Payments Sender serves the rows (GET)."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from ocpi_peer import versions
from ocpi_peer.client import Caller, PeerError
from payments import terminals
from payments.models import Cdr, Checkout, Deadline, FinancialAdvice
from payments.queue import enqueue_on_commit
from stations import tariffs
from stations.money import Money

logger = logging.getLogger(__name__)

Code = FinancialAdvice.Code
FIRST_RETRY = timedelta(minutes=2)
LONGEST_WAIT = timedelta(hours=6)


def advise(
    checkout: Checkout,
    *,
    key: str,
    code: str,
    taken_minor: int,
    message: str,
    stripe_ids: tuple[str, ...] = (),
) -> FinancialAdvice | None:
    """Write the FAC of one money movement (the caller holds the checkout's lock) and send it
    after commit: `taken_minor` is what the card is charged now, incl. VAT. None for a
    checkout of a connection without the Payments module, or one without a reference."""
    partner = checkout.partner
    if not terminals.has_payments(partner) or not checkout.authorization_reference:
        return None
    existing = FinancialAdvice.objects.filter(key=key).first()
    if existing is not None:
        return existing
    gross = Money.from_minor(taken_minor, checkout.currency)
    rate = _vat_rate(checkout)
    net_amount = (
        gross.amount
        if rate is None
        else Money(gross.amount / (1 + rate / 100), gross.currency).rounded().amount
    )
    advice = FinancialAdvice.objects.create(
        checkout=checkout,
        partner=partner,
        key=key,
        authorization_reference=checkout.authorization_reference,
        currency=checkout.currency,
        total_excl_vat=net_amount,
        total_incl_vat=gross.amount,
        vat_rate=rate,
        eft_data=eft_data(checkout, gross, stripe_ids),
        capture_status_code=code,
        capture_status_message=message[:255],
    )
    if partner.endpoint("payments", "RECEIVER") is not None:  # else it reads ours (GET)
        Deadline.objects.create(
            checkout=checkout, kind=Deadline.Kind.ADVICE_PUSH, due_at=timezone.now() + FIRST_RETRY
        )
        enqueue_on_commit("payments.tasks.send_advice", advice.pk)
    return advice


def eft_data(checkout: Checkout, amount: Money, stripe_ids: tuple[str, ...]) -> list[str]:
    """What the CPO's invoice prints of the card payment: scheme, masked card number, amount,
    the Stripe ids of the payment (and of a refund), and our authorization reference."""
    lines = [checkout.card_brand.upper() or "CARD"]
    if checkout.card_last4:
        lines.append(f"Nr: **** **** **** {checkout.card_last4}")
    lines.append(f"Amount: {amount.currency} {amount.amount:.2f}")
    if checkout.stripe_payment_intent:
        lines.append(f"Stripe PaymentIntent: {checkout.stripe_payment_intent}")
    lines += [f"Stripe: {i}" for i in stripe_ids if i and i != checkout.stripe_payment_intent]
    lines.append(f"Authorization reference: {checkout.authorization_reference}")
    return [line[:255] for line in lines]


def _vat_rate(checkout: Checkout) -> Decimal | None:
    """The VAT rate of the price the driver was shown (when its components state one rate),
    else the rate the CPO's CDR applied (its totals incl. and excl. VAT, as the receipt reads
    it), else the location country's: how the amount taken splits into `before_taxes` and VAT."""
    elements = (checkout.tariff_snapshot or {}).get("elements") or []
    stated = {
        Decimal(str(component["vat"]))
        for element in elements
        for component in element.get("price_components", [])
        if component.get("vat") is not None
    }
    if len(stated) == 1:
        return stated.pop()
    cdr = (
        Cdr.objects.filter(checkout=checkout, credit=False)
        .exclude(total_cost_incl_vat=None)
        .order_by("received_at", "pk")
        .first()
    )
    if cdr is not None and cdr.total_cost_excl_vat and cdr.total_cost_incl_vat is not None:
        ratio = (cdr.total_cost_incl_vat / cdr.total_cost_excl_vat - 1) * 100
        return ratio.quantize(Decimal("0.1"))
    return tariffs.vat_rate(checkout.evse.location.country)


def after_capture(checkout: Checkout, *, captured_minor: int, owed_minor: int | None) -> None:
    """A capture (or a release of everything) settled the checkout: SUCCESS, or
    PARTIAL_SUCCESS when less than the CPO's bill was taken (capped by the price shown or the
    hold)."""
    partial = owed_minor is not None and captured_minor < owed_minor
    taken = Money.from_minor(captured_minor, checkout.currency)
    advise(
        checkout,
        key=f"capture:{checkout.stripe_payment_intent or checkout.pk}",
        code=Code.PARTIAL_SUCCESS if partial else Code.SUCCESS,
        taken_minor=captured_minor,
        message=(
            f"captured {taken.amount:.2f} {taken.currency}"
            + (" of the CDR's total (the price shown or the hold capped it)" if partial else "")
        ),
    )


def after_failed_capture(checkout: Checkout, *, error: str, key: str) -> None:
    """Stripe refused the capture: FAILED, nothing taken (the money is still held)."""
    advise(
        checkout,
        key=f"failed:{key}",
        code=Code.FAILED,
        taken_minor=0,
        message=f"capture failed at the PSP: {error}",
    )


def after_refund(
    checkout: Checkout, *, refund_key: str, refunded_minor: int, net_minor: int, stripe_id: str
) -> None:
    """A refund: the card is now charged `net_minor` (captured less every refund); the
    conditions of the payment changed, so PARTIAL_SUCCESS, with the refund in the message."""
    refunded = Money.from_minor(refunded_minor, checkout.currency)
    advise(
        checkout,
        key=f"refund:{refund_key}",
        code=Code.PARTIAL_SUCCESS,
        taken_minor=max(net_minor, 0),
        message=f"refunded {refunded.amount:.2f} {refunded.currency}",
        stripe_ids=(stripe_id,),
    )


def advice_due(checkout: Checkout) -> None:
    """The ADVICE_PUSH deadline (the checkout locked): every FAC of the checkout the CPO has not
    taken is sent again, and the deadline re-armed, doubling up to LONGEST_WAIT."""
    if checkout.partner.endpoint("payments", "RECEIVER") is None:
        return  # the CPO offers no Receiver (any more): it reads them from our Sender
    unsent = list(checkout.advices.filter(sent_at=None).values_list("pk", "attempts"))
    for pk, _ in unsent:
        enqueue_on_commit("payments.tasks.send_advice", pk)
    if unsent:
        attempts = max(a for _, a in unsent)
        wait = min(FIRST_RETRY * 2 ** min(attempts, 12), LONGEST_WAIT)
        Deadline.objects.create(
            checkout=checkout, kind=Deadline.Kind.ADVICE_PUSH, due_at=timezone.now() + wait
        )


def send_advice(advice_id: int) -> str:
    """POST one FAC to the CPO's Payments Receiver (`{payments}/financial-advice-confirmations`),
    routed to the party whose charger it was; called by a task, outside any transaction. A FAC
    the CPO took is not sent again."""
    advice = FinancialAdvice.objects.select_related("partner", "checkout__evse__location").get(
        pk=advice_id
    )
    if advice.sent_at is not None:
        return "sent already"
    partner = advice.partner
    url = partner.endpoint("payments", "RECEIVER")
    if url is None or not partner.is_registered or not terminals.has_payments(partner):
        return _outcome(advice, error="the CPO offers no Payments Receiver")
    spec = versions.get(partner.version)
    assert spec.financial_advice is not None
    body = spec.financial_advice().to_representation(advice)
    location = advice.checkout.evse.location
    FinancialAdvice.objects.filter(pk=advice.pk).update(attempts=F("attempts") + 1)
    try:
        reply = Caller.for_partner(partner).call(
            "POST",
            f"{url.rstrip('/')}/financial-advice-confirmations",
            json=body,
            functional=True,
            to=(location.country_code, location.party_id),
        )
    except PeerError as exc:
        return _outcome(advice, error=str(exc))
    if not reply.ok:
        return _outcome(advice, error=f"OCPI {reply.status_code} {reply.message}".strip())
    return _outcome(advice, error=None)


def _outcome(advice: FinancialAdvice, *, error: str | None) -> str:
    if error is None:
        FinancialAdvice.objects.filter(pk=advice.pk, sent_at=None).update(
            sent_at=timezone.now(), last_error=""
        )
        return "sent"
    logger.warning("FAC %s not taken by the CPO: %s", advice.advice_id, error)
    FinancialAdvice.objects.filter(pk=advice.pk).update(last_error=error[:2000])
    return f"failed: {error}"


def retry_advice(*, advice_id: int) -> None:
    """An operator sends an unsent FAC again now (the admin's retry)."""
    enqueue_on_commit("payments.tasks.send_advice", advice_id)
