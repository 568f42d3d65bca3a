"""Settlement, first part: CDRs received, stored once, and linked to the checkout they bill
(checklist §7, §10). Reconciliation and capture build on this."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

import simplejson
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from ocpi_peer import versions
from ocpi_peer.models import Partner
from payments import gateway
from payments.cases import open_case
from payments.charging import link_checkout
from payments.models import Case, Cdr, ChargingSession, Checkout, LedgerEntry
from payments.money import Money
from payments.services import _book
from stations import tariffs
from stations.pricing import TariffError


@dataclass(frozen=True)
class Received:
    cdr: Cdr
    created: bool
    conflict: bool  # the same id came again with other content (CDR-02): refused, flagged


def content_hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_cdr(
    *, partner: Partner, version: str, fields: dict[str, Any], body: str, canonical: str
) -> Received:
    """Store a CDR once. A repeat with the same content changes nothing; the same id with other
    content is a conflict an operator must see (CDRs are immutable, CDR-01). A CDR we cannot
    link to a checkout is stored and flagged, never dropped (CDR-04)."""
    key = {
        "country_code": fields["country_code"].upper(),
        "party_id": fields["party_id"].upper(),
        "cdr_id": fields["cdr_id"],
    }
    digest = content_hash(canonical)
    existing = Cdr.objects.filter(**key).first()
    if existing is not None:
        return _repeat(existing, digest)
    checkout_id = _link(partner, fields)
    values = {k: v for k, v in fields.items() if k not in key}
    try:
        with transaction.atomic():
            cdr = Cdr.objects.create(
                partner=partner,
                version=version,
                checkout_id=checkout_id,
                body=body,
                content_hash=digest,
                **key,
                **values,
            )
    except IntegrityError:  # a twin request stored it meanwhile
        return _repeat(Cdr.objects.get(**key), digest)
    if not checkout_id:
        open_case(
            Case.Kind.UNMATCHED_CDR,
            "no checkout of ours matches this CDR",
            key=f"unmatched-cdr:{cdr.pk}",
            cdr=cdr,
        )
    if checkout_id and not cdr.credit:
        from payments import tasks

        transaction.on_commit(partial(tasks.settle_cdr.delay, cdr.pk))
    return Received(cdr, created=True, conflict=False)


def _repeat(existing: Cdr, digest: str) -> Received:
    if existing.content_hash == digest:
        return Received(existing, created=False, conflict=False)
    open_case(
        Case.Kind.CDR_CONFLICT,
        "the CPO sent this CDR id again with different content (refused)",
        key=f"cdr-conflict:{existing.pk}:{digest}",
        cdr=existing,
    )
    return Received(existing, created=False, conflict=True)


def _link(partner: Partner, fields: dict[str, Any]) -> int | None:
    """As a Session is linked, then by the session id (LNK-02)."""
    found = link_checkout(partner, fields)
    if found is None and fields.get("session_id"):
        found = (
            ChargingSession.objects.filter(partner=partner, session_id=fields["session_id"])
            .exclude(checkout=None)
            .values_list("checkout_id", flat=True)
            .first()
        )
    return found


# --- reconciliation and capture ---------------------------------------------------------------


_SETTLES_FROM = {
    Checkout.Status.STARTING,
    Checkout.Status.CHARGING,
    Checkout.Status.STOPPING,
    Checkout.Status.FINISHED,
}


@dataclass(frozen=True)
class CapturePlan:
    checkout_id: int
    intent_id: str
    capture_minor: int  # 0: nothing is owed, the hold is cancelled
    payable_minor: int  # what we owe the CPO: the CDR's total incl. VAT
    flags: tuple[tuple[str, str], ...]  # (Case kind, the figures in words)


def plan_capture(*, cdr_pk: int) -> CapturePlan | None:
    """What to capture for a CDR (ARCHITECTURE.md "Money"): min(CDR total, the shown tariff
    applied to the CDR's quantities, hold), incl. VAT; every difference is flagged with its
    figures. None when there is nothing to settle (no checkout, a credit CDR, settled already)."""
    cdr = Cdr.objects.select_related("checkout").get(pk=cdr_pk)
    checkout = cdr.checkout
    if checkout is None or cdr.credit or checkout.status == Checkout.Status.SETTLED:
        return None
    if (
        checkout.payment_status != Checkout.PaymentStatus.HELD
        or checkout.status not in _SETTLES_FROM
    ):
        # Nothing is held any more (released after a failed start or an INVALID session):
        # an operator decides what a CDR for it means.
        open_case(
            Case.Kind.UNSETTLED_CDR,
            f"no hold to capture from: the checkout is {checkout.status}",
            key=f"unsettled-cdr:{cdr.pk}",
            cdr=cdr,
        )
        return None
    currency = checkout.currency
    rate = tariffs.vat_rate(checkout.evse.location.country) or Decimal(0)
    cdr_total = cdr.total_cost_incl_vat
    if cdr_total is None:  # 2.1.1: excl. VAT; the location country's rate applies
        cdr_total = cdr.total_cost_excl_vat * (1 + rate / 100)
    flags: list[tuple[str, str]] = []
    shown = _shown_price(checkout, cdr, flags)
    hold = checkout.hold_amount
    candidates = [cdr_total, hold] + ([shown] if shown is not None else [])
    capture = min(candidates)
    if shown is not None and cdr_total > shown + Decimal("0.01"):
        flags.append(
            (
                Case.Kind.PRICE_DIFFERENCE,
                f"the CDR asks {cdr_total} {currency}, the price shown gives {shown}: "
                "took the lower",
            )
        )
    elif shown is not None and shown > cdr_total + Decimal("0.01"):
        flags.append(
            (
                Case.Kind.PRICE_DIFFERENCE,
                f"the CDR asks {cdr_total} {currency}, less than the price shown ({shown})",
            )
        )
    if cdr_total > hold:
        flags.append(
            (
                Case.Kind.SHORTFALL,
                f"shortfall: the CDR asks {cdr_total} {currency}, only {hold} was held",
            )
        )
    return CapturePlan(
        checkout_id=checkout.pk,
        intent_id=checkout.stripe_payment_intent,
        capture_minor=max(Money(capture, currency).to_minor(), 0),
        payable_minor=Money(cdr_total, currency).to_minor(),
        flags=tuple(flags),
    )


def _shown_price(checkout: Checkout, cdr: Cdr, flags: list[tuple[str, str]]) -> Decimal | None:
    """The price shown to the driver (the checkout's tariff snapshot) applied to the CDR's
    quantities, incl. VAT; None, flagged, when it cannot be computed."""
    snapshot = checkout.tariff_snapshot
    fields = {
        "currency": snapshot["currency"],
        "elements": snapshot["elements"],
        "vat_stated": snapshot.get("vat_stated", True),
        "min_price_excl_vat": snapshot["min_price"][0] or None,
        "min_price_incl_vat": snapshot["min_price"][1] or None,
        "max_price_excl_vat": snapshot["max_price"][0] or None,
        "max_price_incl_vat": snapshot["max_price"][1] or None,
    }
    spec = versions.get(cdr.version)
    try:
        quantities = spec.read(spec.cdr_pricing, simplejson.loads(cdr.body, use_decimal=True))
        shown = tariffs.from_fields(fields, time_zone=snapshot.get("time_zone"))
        check = tariffs.check_cdr(quantities, shown, tariff_id=snapshot["tariff_id"])
    except (ValidationError, TariffError, KeyError, TypeError, ValueError) as exc:
        flags.append(
            (Case.Kind.PRICE_DIFFERENCE, f"the price shown could not be applied to this CDR: {exc}")
        )
        return None
    return check.cost.total.incl_vat


def record_capture(*, plan: CapturePlan, cdr_pk: int, intent: gateway.Intent) -> Checkout:
    """Book what Stripe did, once (keys are unique), and settle the checkout."""
    with transaction.atomic(durable=True):
        checkout = Checkout.objects.select_for_update().get(pk=plan.checkout_id)
        held = (
            checkout.ledger.filter(kind=LedgerEntry.Kind.HOLD)
            .values_list("amount_minor", flat=True)
            .first()
            or 0
        )
        if plan.capture_minor:
            _book(
                checkout,
                LedgerEntry.Kind.CAPTURE,
                plan.capture_minor,
                key=f"capture:{intent.id}",
                stripe_id=intent.id,
            )
        if held > plan.capture_minor:
            _book(
                checkout,
                LedgerEntry.Kind.RELEASE,
                held - plan.capture_minor,
                key=f"release:{intent.id}",
                stripe_id=intent.id,
            )
        _book(checkout, LedgerEntry.Kind.PAYABLE, plan.payable_minor, key=f"payable:{cdr_pk}")
        checkout.status = Checkout.Status.SETTLED
        checkout.settled_at = timezone.now()
        checkout.payment_status = (
            Checkout.PaymentStatus.CAPTURED
            if plan.capture_minor
            else Checkout.PaymentStatus.RELEASED
        )
        checkout.save(update_fields=["status", "settled_at", "payment_status"])
        cdr = Cdr.objects.get(pk=cdr_pk)
        for kind, summary in plan.flags:
            open_case(kind, summary, key=f"{kind}:{cdr_pk}", checkout=checkout, cdr=cdr)
    return checkout
