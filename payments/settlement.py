"""Settlement: CDRs received, stored once, linked to the checkout they bill (checklist §7, §10),
reconciled and captured; and what happens when a CDR changes after the money moved.

The rule (ARCHITECTURE.md "Money"): the driver pays min(CDR total, the price shown applied to
the CDR's quantities, hold), incl. VAT; we owe the CPO the CDR's total (PAYABLE).

The first regular CDR settles the checkout (`plan_capture`, task `settle_cdr`). Everything
after that is `reconcile`, which looks at all the checkout's CDRs at once, so the order in
which they arrive does not matter:

- A credit CDR cancels the CDR it names (`credit_reference_id`): what we owe the CPO follows at
  once (a PAYABLE of the credit's negative total, only if the credited CDR was booked as owed).
- The CDR that bills the checkout is then the one regular CDR no credit cancels (the "live"
  one). When a live CDR we have not booked yet exists (a corrected CDR, or the first CDR of a
  checkout settled early because its hold was about to expire), the driver owes the min rule
  applied to it: what was captured (less refunds) above that is refunded, keyed by the credit
  CDR (`credit:<pk>`) or, without one, by that CDR (`cdr:<pk>`); what is below it is a
  shortfall for an operator (a capture cannot be topped up). We owe the CPO its total.
- When every regular CDR is credited, we wait `CREDIT_CDR_WAIT` (a CREDIT_WAIT deadline) for the
  corrected CDR. If none comes, the credit's amount is refunded, never more than was captured
  less refunds. A corrected CDR that comes later still is reconciled as above.
- Two live CDRs at once (a CPO billing twice without a credit) move no money: an operator
  decides.

So the simulator's `credit_after` (original 10 % too high, credit, corrected) costs the driver
the corrected price (the min rule had already captured no more than the price shown) and leaves
us owing the CPO exactly the corrected total. Refunds go through `payments.refunds`, which
never refunds more than was captured.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ocpi_peer.models import Partner
from payments import advice, costs, eichrecht, gateway, refunds
from payments.cases import open_case, resolve_case
from payments.charging import link_checkout
from payments.ledger import book
from payments.models import (
    Case,
    Cdr,
    ChargingSession,
    Checkout,
    CpoTerms,
    Deadline,
    LedgerEntry,
)
from payments.queue import enqueue_on_commit
from stations import tariffs
from stations.l10n import money
from stations.money import Money, round_to_minor
from stations.pricing import SessionCost


@dataclass(frozen=True)
class Received:
    cdr: Cdr
    created: bool
    conflict: bool  # the same id came again with other content (CDR-02): refused, flagged


class CdrOfAnother(LookupError):
    """A CDR id another connection holds under this party: neither a repeat nor a conflict of
    this partner's, and never taken over."""


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
    if existing is not None and existing.partner_id != partner.pk:
        raise CdrOfAnother(f"CDR {fields['cdr_id']} is held by another connection")
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
        twin = Cdr.objects.get(**key)
        if twin.partner_id != partner.pk:
            raise CdrOfAnother(f"CDR {fields['cdr_id']} is held by another connection") from None
        return _repeat(twin, digest)
    if not checkout_id:
        open_case(
            Case.Kind.UNMATCHED_CDR,
            "no checkout of ours matches this CDR",
            key=f"unmatched-cdr:{cdr.pk}",
            cdr=cdr,
        )
    if checkout_id:
        eichrecht.check_cdr(cdr)  # meter key, identification, times: cases, never an error
        enqueue_on_commit("payments.tasks.settle_cdr", cdr.pk)
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
    if found is None and fields.get("credit") and fields.get("credit_reference_id"):
        found = (
            Cdr.objects.filter(partner=partner, cdr_id=fields["credit_reference_id"])
            .exclude(checkout=None)
            .values_list("checkout_id", flat=True)
            .first()
        )
    if found is None and fields.get("session_id"):
        found = (
            ChargingSession.objects.filter(partner=partner, session_id=fields["session_id"])
            .exclude(checkout=None)
            .values_list("checkout_id", flat=True)
            .first()
        )
    return found


class LinkRefused(Exception):
    """An operator's link of a CDR to a checkout that cannot be right; the message says why."""


def link_cdr(*, cdr_pk: int, checkout_id: int, by: str) -> Cdr:
    """An operator links a CDR we could not match to the checkout it bills (a CPMS that lost
    our token and reference); it is then settled, or reconciled, as if matched on arrival. A CDR
    from another connection than the checkout's must be of the party whose charger it used: its
    party moved since, and a credit or corrected CDR for a checkout that stayed with the old
    connection (`payments.party_moves`) comes over the new one, where nothing matches it."""
    with transaction.atomic(durable=True):
        checkout = (
            Checkout.objects.select_for_update(of=("self",))
            .select_related("evse__location")
            .get(pk=checkout_id)
        )
        cdr = Cdr.objects.select_for_update().get(pk=cdr_pk)
        if cdr.checkout_id is not None:
            raise LinkRefused(f"this CDR bills checkout {cdr.checkout_id} already")
        location = checkout.evse.location
        same_party = (cdr.country_code.upper(), cdr.party_id.upper()) == (
            location.country_code.upper(),
            location.party_id.upper(),
        )
        if cdr.partner_id != checkout.partner_id and not same_party:
            raise LinkRefused("the CDR came from another CPO connection than the checkout")
        if cdr.currency.upper() != checkout.currency.upper():
            raise LinkRefused(f"the CDR is in {cdr.currency}, the checkout in {checkout.currency}")
        cdr.checkout = checkout
        cdr.save(update_fields=["checkout"])
        eichrecht.check_cdr(cdr)  # as on arrival, now that it has a session and an EVSE
        for case in Case.objects.filter(key=f"unmatched-cdr:{cdr.pk}", resolved_at=None):
            resolve_case(case_id=case.pk, by=by, resolution=f"linked to checkout {checkout.pk}")
        enqueue_on_commit("payments.tasks.settle_cdr", cdr.pk)
    return cdr


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
    bill = _bill(checkout, cdr)
    return CapturePlan(
        checkout_id=checkout.pk,
        intent_id=checkout.stripe_payment_intent,
        capture_minor=bill.driver_minor,
        payable_minor=bill.payable_minor,
        flags=bill.flags,
    )


@dataclass(frozen=True)
class Bill:
    driver_minor: int  # what the driver owes: min(CDR total, price shown, hold), incl. VAT
    payable_minor: int  # what we owe the CPO: the CDR's total incl. VAT
    flags: tuple[tuple[str, str], ...]


incl_vat = costs.incl_vat


def cdr_total_incl_vat(checkout: Checkout, cdr: Cdr) -> Decimal:
    total = incl_vat(checkout, cdr.total_cost_incl_vat, cdr.total_cost_excl_vat)
    assert total is not None  # a CDR always has its total excl. VAT
    return total


def _bill(checkout: Checkout, cdr: Cdr) -> Bill:
    """The min rule for one regular CDR, with every difference as a flag: a case when it is
    larger than the party's tolerance (`price_tolerance`), else a note on the checkout (NOTED).
    Figures are compared as money, rounded to the currency's minor unit: the engine's exact
    price (0.876941702) is not what anyone pays."""
    currency = checkout.currency
    cdr_total = round_to_minor(cdr_total_incl_vat(checkout, cdr), currency)
    flags: list[tuple[str, str]] = []
    shown = _shown_price(checkout, cdr, flags)
    hold = checkout.hold_amount
    # The rule the driver's page shows while charging (`costs.running_cost`), on the CDR.
    rule = costs.driver_cost(currency=currency, operator=cdr_total, shown=shown, hold=hold)
    capture = rule.amount
    assert capture is not None  # a CDR always has its total
    tolerance = price_tolerance(checkout)
    asks = f"the CDR asks {money(cdr_total, currency)}"
    if shown is not None:
        shown = round_to_minor(shown, currency)
        if cdr_total > shown:
            flags.append(
                _difference(
                    cdr_total - shown,
                    tolerance,
                    f"{asks}, the price shown gives {money(shown, currency)}: took the lower",
                )
            )
        elif shown > cdr_total:
            flags.append(
                _difference(
                    shown - cdr_total,
                    tolerance,
                    f"{asks}, less than the price shown ({money(shown, currency)})",
                )
            )
    _session_differs(checkout, cdr_total, tolerance, flags)
    if cdr_total > hold:
        flags.append(
            (
                Case.Kind.SHORTFALL,
                f"shortfall: {asks}, only {money(hold, currency)} was held",
            )
        )
    return Bill(
        driver_minor=Money(capture, currency).to_minor(),
        payable_minor=Money(cdr_total, currency).to_minor(),
        flags=tuple(flags),
    )


# A flag's kind for a price difference within the party's tolerance: noted on the checkout
# (`Checkout.price_notes`), not opened as a case.
NOTED = ""
DEFAULT_PRICE_TOLERANCE = Decimal("0.05")  # a party without terms; `CpoTerms.price_tolerance`


def price_tolerance(checkout: Checkout) -> Decimal:
    """How far the CPO's figures may differ from the price shown before an operator must look:
    the CPO party's terms, else a few cents."""
    location = checkout.evse.location
    found = (
        CpoTerms.objects.filter(
            country_code__iexact=location.country_code, party_id__iexact=location.party_id
        )
        .values_list("price_tolerance", flat=True)
        .first()
    )
    return DEFAULT_PRICE_TOLERANCE if found is None else found


def _difference(by: Decimal, tolerance: Decimal, summary: str) -> tuple[str, str]:
    if by <= tolerance:
        return NOTED, f"{summary} (within the tolerance of {tolerance})"
    return Case.Kind.PRICE_DIFFERENCE, summary


def _open_cases(flags: tuple[tuple[str, str], ...], checkout: Checkout, cdr: Cdr) -> None:
    """A case per difference, keyed by the CDR and the difference's place in the bill (a bill
    is worked out the same way every time), so a retried settlement opens none twice. A
    difference within the tolerance is noted on the checkout once instead."""
    for n, (kind, summary) in enumerate(flags):
        if kind == NOTED:
            note = f"{cdr}: {summary}"
            if note not in checkout.price_notes:
                checkout.price_notes = f"{checkout.price_notes}\n{note}".strip()
                Checkout.objects.filter(pk=checkout.pk).update(price_notes=checkout.price_notes)
            continue
        open_case(kind, summary, key=f"{kind}:{cdr.pk}:{n}", checkout=checkout, cdr=cdr)


def _session_differs(
    checkout: Checkout, cdr_total: Decimal, tolerance: Decimal, flags: list[tuple[str, str]]
) -> None:
    """The CPO's last Session said what the charge cost as it ended; a CDR that bills
    otherwise is worth an operator's look even when the price shown caps what the driver pays."""
    session = checkout.sessions.order_by("-last_updated").first()
    if session is None:
        return
    said = incl_vat(checkout, session.total_cost_incl_vat, session.total_cost_excl_vat)
    if said is None:
        return
    currency = checkout.currency
    said = round_to_minor(said, currency)
    if said != cdr_total:
        flags.append(
            _difference(
                abs(said - cdr_total),
                tolerance,
                f"the CDR asks {money(cdr_total, currency)}, the CPO's last Session said "
                f"{money(said, currency)}",
            )
        )


def _shown_price(checkout: Checkout, cdr: Cdr, flags: list[tuple[str, str]]) -> Decimal | None:
    """The price shown to the driver (the checkout's tariff snapshot) applied to the CDR's
    quantities, incl. VAT; None, flagged, when it cannot be computed."""
    return _shown_price_of(
        checkout, partial(costs.cdr_quantities, cdr.version, cdr.body), flags, what="this CDR"
    )


UNPRICEABLE = costs.UNPRICEABLE


def shown_cost(checkout: Checkout, version: str, body: str) -> SessionCost:
    """The price shown to the driver (the checkout's tariff snapshot) applied to the
    quantities of a CDR in `version`'s JSON; raises one of UNPRICEABLE when it cannot be.
    Receipts print the same figures settlement charged."""
    return costs.apply_shown(checkout, costs.cdr_quantities(version, body))


def _shown_price_of(
    checkout: Checkout,
    quantities: Callable[[], tariffs.CdrPricing],
    flags: list[tuple[str, str]],
    *,
    what: str,
) -> Decimal | None:
    try:
        return costs.apply_shown(checkout, quantities()).total.incl_vat
    except UNPRICEABLE as exc:
        flags.append(
            (Case.Kind.PRICE_DIFFERENCE, f"the price shown could not be applied to {what}: {exc}")
        )
        return None


def record_capture(*, plan: CapturePlan, cdr_pk: int, intent: gateway.Intent) -> Checkout:
    """Book what Stripe did, once (keys are unique), and settle the checkout. A checkout that
    another CDR settled meanwhile books nothing here: `reconcile` sorts out which CDR bills it."""
    with transaction.atomic(durable=True):
        checkout = Checkout.objects.select_for_update().get(pk=plan.checkout_id)
        if checkout.status == Checkout.Status.SETTLED:
            _reconcile_later(checkout)
            return checkout
        captured = _settle_hold(checkout, plan.capture_minor, intent)
        book(checkout, LedgerEntry.Kind.PAYABLE, plan.payable_minor, key=f"payable:{cdr_pk}")
        advice.after_capture(checkout, captured_minor=captured, owed_minor=plan.payable_minor)
        cdr = Cdr.objects.get(pk=cdr_pk)
        _open_cases(plan.flags, checkout, cdr)
        if checkout.cdrs.exclude(pk=cdr_pk).exists():  # a credit or another CDR came meanwhile
            _reconcile_later(checkout)
    return checkout


def _settle_hold(checkout: Checkout, capture_minor: int, intent: gateway.Intent) -> int:
    """Book what Stripe did with the hold (the capture, as much as Stripe says it took, and
    the released rest) under the intent's keys, and settle the checkout; the caller holds its
    lock. Returns what was captured."""
    if capture_minor and intent.amount_received:
        capture_minor = intent.amount_received
    held = held_minor(checkout)
    if capture_minor:
        book(
            checkout,
            LedgerEntry.Kind.CAPTURE,
            capture_minor,
            key=f"capture:{intent.id}",
            stripe_id=intent.id,
        )
    if held > capture_minor:
        book(
            checkout,
            LedgerEntry.Kind.RELEASE,
            held - capture_minor,
            key=f"release:{intent.id}",
            stripe_id=intent.id,
        )
    checkout.payment_status = (
        Checkout.PaymentStatus.CAPTURED if capture_minor else Checkout.PaymentStatus.RELEASED
    )
    mark_settled(checkout)
    return capture_minor


def held_minor(checkout: Checkout) -> int:
    return (
        checkout.ledger.filter(kind=LedgerEntry.Kind.HOLD)
        .values_list("amount_minor", flat=True)
        .first()
        or 0
    )


def mark_settled(checkout: Checkout) -> None:
    """The checkout is settled (the caller holds its lock and set `payment_status`): the EVSE
    is free (a CDR may come before the session's COMPLETED push), and the driver's single-use
    token is withdrawn, at the CPO too (task `withdraw_token`, after commit)."""
    now = timezone.now()
    checkout.status = Checkout.Status.SETTLED
    checkout.settled_at = now
    checkout.evse_claim = None
    checkout.ended_at = checkout.ended_at or now
    checkout.save(
        update_fields=["status", "settled_at", "payment_status", "evse_claim", "ended_at"]
    )
    enqueue_on_commit("payments.tasks.withdraw_token", checkout.pk)
    if checkout.email:
        enqueue_on_commit("payments.tasks.send_receipt", checkout.pk)


def _reconcile_later(checkout: Checkout) -> None:
    enqueue_on_commit("payments.tasks.reconcile_checkout", checkout.pk)


# --- after settlement: credit CDRs, corrected CDRs, CDRs after an early settlement ----------


def credit_wait() -> timedelta:
    return settings.CREDIT_CDR_WAIT


def reconcile(*, checkout_id: int) -> str:
    """Bring a settled checkout in line with all its CDRs (the module's docstring has the
    rule). Idempotent: it only acts on what the ledger does not show yet."""
    with transaction.atomic(durable=True):
        checkout = Checkout.objects.select_for_update().get(pk=checkout_id)
        return reconcile_locked(checkout, credit_wait_over=False)


def standing_cdrs(cdrs: list[Cdr]) -> list[Cdr]:
    """The regular CDRs among `cdrs` that no credit CDR among them cancels, in their order."""
    credited = {c.credit_reference_id for c in cdrs if c.credit}
    return [c for c in cdrs if not c.credit and c.cdr_id not in credited]


def reconcile_locked(checkout: Checkout, *, credit_wait_over: bool) -> str:
    """`reconcile` for a caller holding the checkout's lock in its transaction (the CREDIT_WAIT
    deadline, with `credit_wait_over`)."""
    if checkout.status != Checkout.Status.SETTLED:
        return "not settled yet"  # the settlement reconciles when it is done
    cdrs = list(checkout.cdrs.order_by("received_at", "pk"))
    credits = [c for c in cdrs if c.credit]
    regular = [c for c in cdrs if not c.credit]
    live = standing_cdrs(cdrs)
    booked = set(
        checkout.ledger.filter(kind=LedgerEntry.Kind.PAYABLE).values_list(
            "idempotency_key", flat=True
        )
    )
    for credit in credits:  # what we owe the CPO follows each credit at once
        original = next((c for c in regular if c.cdr_id == credit.credit_reference_id), None)
        if original is None:
            open_case(
                Case.Kind.CDR_CONFLICT,
                f"credit CDR {credit.cdr_id} credits CDR {credit.credit_reference_id}, "
                "which this checkout never received: no money moved",
                key=f"credit-unknown:{credit.pk}",
                checkout=checkout,
                cdr=credit,
            )
        elif f"payable:{original.pk}" in booked:
            amount = Money(cdr_total_incl_vat(checkout, credit), checkout.currency).to_minor()
            book(
                checkout,
                LedgerEntry.Kind.PAYABLE,
                -abs(amount),
                key=f"payable:{credit.pk}",
                note=f"credit CDR {credit.cdr_id} for {original.cdr_id}",
            )
    net = refunds.captured_minor(checkout) - refunds.refunded_minor(checkout)
    if len(live) > 1:
        ids = ", ".join(c.cdr_id for c in live)
        open_case(
            Case.Kind.CDR_CONFLICT,
            f"more than one CDR bills this checkout and none credits the other ({ids}): "
            "no money moved",
            key=f"cdrs-conflict:{checkout.pk}:{ids}"[:255],
            checkout=checkout,
            cdr=live[-1],
        )
        return "conflict"
    if live:
        return _bill_live(checkout, live[0], credits, net)
    if not credits:
        return "nothing to do"
    credit = credits[-1]
    if credit.refunds.exists():
        return "credit refunded already"
    if not credit_wait_over:
        if not checkout.deadlines.filter(kind=Deadline.Kind.CREDIT_WAIT, done_at=None).exists():
            Deadline.objects.create(
                checkout=checkout,
                kind=Deadline.Kind.CREDIT_WAIT,
                due_at=timezone.now() + credit_wait(),
            )
        return "waiting for the corrected CDR"
    amount = min(
        abs(Money(cdr_total_incl_vat(checkout, credit), checkout.currency).to_minor()), net
    )
    _refund(checkout, amount, f"credit:{credit.pk}", credit, f"credit CDR {credit.cdr_id}")
    return f"refunded {amount}"


def _bill_live(checkout: Checkout, cdr: Cdr, credits: list[Cdr], net: int) -> str:
    """The one CDR that bills the checkout now, if we have not booked it yet."""
    if checkout.ledger.filter(idempotency_key=f"payable:{cdr.pk}").exists():
        return "up to date"
    bill = _bill(checkout, cdr)
    book(checkout, LedgerEntry.Kind.PAYABLE, bill.payable_minor, key=f"payable:{cdr.pk}")
    _open_cases(bill.flags, checkout, cdr)
    checkout.deadlines.filter(kind=Deadline.Kind.CREDIT_WAIT, done_at=None).update(
        done_at=timezone.now()
    )
    currency = checkout.currency
    if net > bill.driver_minor:
        credit = credits[-1] if credits else None
        if credit is not None and not credit.refunds.exists():
            key, why = f"credit:{credit.pk}", f"credit CDR {credit.cdr_id}, corrected by"
        else:
            key, why = f"cdr:{cdr.pk}", "billed by"
        _refund(
            checkout,
            net - bill.driver_minor,
            key,
            credit or cdr,
            f"{why} CDR {cdr.cdr_id}: "
            f"{Money.from_minor(bill.driver_minor, currency)} owed, "
            f"{Money.from_minor(net, currency)} paid",
        )
        return f"refunded {net - bill.driver_minor}"
    if bill.driver_minor > net:
        open_case(
            Case.Kind.SHORTFALL,
            f"shortfall: CDR {cdr.cdr_id} makes the driver owe "
            f"{Money.from_minor(bill.driver_minor, currency)}, only "
            f"{Money.from_minor(net, currency)} was captured (less refunds)",
            key=f"shortfall-after:{cdr.pk}",
            checkout=checkout,
            cdr=cdr,
        )
        return "shortfall"
    return "paid right"


def _refund(checkout: Checkout, amount_minor: int, key: str, cdr: Cdr, reason: str) -> None:
    if amount_minor <= 0:
        return
    try:
        refunds.queue(
            checkout,
            amount_minor=amount_minor,
            reason=reason,
            requested_by="settlement",
            key=key,
            cdr=cdr,
        )
    except refunds.RefundRefused as exc:  # e.g. the key used with another amount
        open_case(
            Case.Kind.FAILED_REFUND,
            f"refund of {Money.from_minor(amount_minor, checkout.currency)} not made: "
            f"{exc.message}",
            key=f"refund-refused:{key}",
            checkout=checkout,
            cdr=cdr,
        )


# --- deadlines -----------------------------------------------------------------------------


# A hold settlement whose task was lost is tried again this much later, until the card's
# deadline; a missing CDR is looked for again after MISSING_CDR_AFTER.
HOLD_RETRY_AFTER = timedelta(hours=1)


def deadline_due(checkout: Checkout, kind: str) -> None:
    """A settlement deadline fell due (`dispatch.handle_deadline`, checkout locked). Calls out
    (a CDR pull, a capture) go to tasks after commit; the next look is armed here, in the same
    transaction, so a lost task is made up for."""
    now = timezone.now()
    if kind == Deadline.Kind.CREDIT_WAIT:
        reconcile_locked(checkout, credit_wait_over=True)
    elif kind == Deadline.Kind.MISSING_CDR and _awaits_cdr(checkout):
        _arm(checkout, Deadline.Kind.MISSING_CDR, now + settings.MISSING_CDR_AFTER)
        enqueue_on_commit("payments.tasks.pull_missing_cdr", checkout.pk)
    elif kind in (Deadline.Kind.MISSING_CDR, Deadline.Kind.HOLD_EXPIRING) and (
        cdr_pk := _unsettled_cdr(checkout)
    ):
        # The CDR came but its settlement never finished (a task lost with its broker, a
        # worker gone): settle it again, idempotently, before the hold can expire.
        _arm(checkout, kind, now + HOLD_RETRY_AFTER)
        enqueue_on_commit("payments.tasks.settle_cdr", cdr_pk)
    elif kind == Deadline.Kind.HOLD_EXPIRING and _hold_expires_unbilled(checkout):
        if checkout.capture_before is None or now + HOLD_RETRY_AFTER < checkout.capture_before:
            _arm(checkout, Deadline.Kind.HOLD_EXPIRING, now + HOLD_RETRY_AFTER)
        if checkout.status in _SETTLES_FROM:
            enqueue_on_commit("payments.tasks.settle_expiring_hold", checkout.pk)
        else:  # it never charged (or failed and its release did not get through): let go
            open_case(
                Case.Kind.EXPIRING_HOLD,
                f"the hold is about to expire on a checkout that is {checkout.status}: released",
                key=f"expiring-hold:{checkout.pk}",
                checkout=checkout,
            )
            enqueue_on_commit("payments.tasks.release_hold", checkout.pk)


def _arm(checkout: Checkout, kind: str, due_at: datetime) -> None:
    """The next look, beside the deadline being handled (which is done when this returns)."""
    Deadline.objects.create(checkout=checkout, kind=kind, due_at=due_at)


def _has_cdr(checkout: Checkout) -> bool:
    return checkout.cdrs.filter(credit=False).exists()


def _awaits_cdr(checkout: Checkout) -> bool:
    """Finished, or settled early because its hold was expiring, and still no CDR."""
    return checkout.status in (Checkout.Status.FINISHED, Checkout.Status.SETTLED) and not (
        _has_cdr(checkout)
    )


def _unsettled_cdr(checkout: Checkout) -> int | None:
    """The CDR that should have settled this checkout, while the hold still stands."""
    if checkout.payment_status != Checkout.PaymentStatus.HELD or checkout.status not in (
        _SETTLES_FROM
    ):
        return None
    regular = checkout.cdrs.filter(credit=False).order_by("received_at", "pk")
    return regular.values_list("pk", flat=True).first()


def _hold_expires_unbilled(checkout: Checkout) -> bool:
    return checkout.payment_status == Checkout.PaymentStatus.HELD and not _has_cdr(checkout)


def missing_cdr_since(checkout_id: int) -> tuple[int, datetime]:
    """(partner, from when) to pull a missing CDR: the checkout's start, a day's margin."""
    checkout = Checkout.objects.get(pk=checkout_id)
    return checkout.partner_id, (checkout.authorized_at or checkout.created_at) - timedelta(days=1)


def missing_cdr_checked(*, checkout_id: int, pulled: str) -> None:
    """After pulling the partner's CDRs for a checkout finished without one: if it is still
    missing, an operator sees it (one case) and we look again after MISSING_CDR_AFTER."""
    with transaction.atomic(durable=True):
        checkout = Checkout.objects.select_for_update().get(pk=checkout_id)
        if not _awaits_cdr(checkout):
            return
        open_case(
            Case.Kind.MISSING_CDR,
            f"no CDR from the CPO since the session ended at {checkout.ended_at:%Y-%m-%d %H:%M} "
            f"UTC; pulled its CDRs: {pulled}",
            key=f"missing-cdr:{checkout.pk}",
            checkout=checkout,
        )


def capture_failed(*, checkout_id: int, error: str, cdr_pk: int | None = None) -> None:
    """Stripe refused a capture or release, or stayed unreachable through every retry: the
    money is still held and an operator must act before the card's deadline."""
    with transaction.atomic(durable=True):
        checkout = Checkout.objects.select_for_update().get(pk=checkout_id)
        cdr = Cdr.objects.filter(pk=cdr_pk).first() if cdr_pk else None
        open_case(
            Case.Kind.FAILED_CAPTURE,
            f"capture failed, the money is still held: {error}"[:2000],
            key=f"failed-capture:{checkout.pk}:{cdr_pk or 'hold'}",
            checkout=checkout,
            cdr=cdr,
        )
        advice.after_failed_capture(checkout, error=error, key=f"{checkout.pk}:{cdr_pk or 'hold'}")


# --- a hold about to expire without a CDR ---------------------------------------------------


@dataclass(frozen=True)
class HoldPlan:
    checkout_id: int
    intent_id: str
    capture_minor: int  # 0: released
    summary: str  # for the EXPIRING_HOLD case


def expiring_hold_policy(checkout: Checkout) -> str:
    """The CPO party's choice (CpoTerms.expiring_hold_policy), else the platform's."""
    location = checkout.evse.location
    terms = CpoTerms.objects.filter(
        country_code=location.country_code, party_id=location.party_id
    ).first()
    return (terms.expiring_hold_policy if terms else "") or settings.EXPIRING_HOLD_POLICY


def plan_expiring_hold(*, checkout_id: int) -> HoldPlan | None:
    """What to do with a hold about to expire while no CDR came: capture what the last Session
    supports (min(session total, the price shown applied to it, hold), incl. VAT) or release,
    by policy. None when a CDR came meanwhile or nothing is held."""
    checkout = Checkout.objects.select_related("evse__location").get(pk=checkout_id)
    if not _hold_expires_unbilled(checkout):
        return None
    currency = checkout.currency
    policy = expiring_hold_policy(checkout)
    deadline = f"{checkout.capture_before:%Y-%m-%d %H:%M} UTC" if checkout.capture_before else "?"
    session = checkout.sessions.order_by("-last_updated").first()
    if checkout.status not in _SETTLES_FROM:
        policy = "release"  # never started charging: nothing was delivered
    if policy != "capture" or session is None:
        why = "no session" if session is None and policy == "capture" else f"policy {policy}"
        return HoldPlan(
            checkout.pk,
            checkout.stripe_payment_intent,
            0,
            f"the hold expires {deadline} and no CDR came: released ({why})",
        )
    flags: list[tuple[str, str]] = []
    total = _session_total(checkout, session)
    shown = _shown_price_of(
        checkout,
        partial(costs.session_quantities, checkout, session),
        flags,
        what="the last session",
    )
    candidates = [total, checkout.hold_amount] + ([shown] if shown is not None else [])
    capture = Money(min(candidates), currency).to_minor()
    noted = "; ".join(summary for _, summary in flags)
    return HoldPlan(
        checkout.pk,
        checkout.stripe_payment_intent,
        max(capture, 0),
        f"the hold expires {deadline} and no CDR came: captured "
        f"{Money.from_minor(max(capture, 0), currency)} as the last session supports "
        f"(session {money(total, currency)}, price shown "
        f"{money(shown, currency) if shown is not None else '?'}, hold "
        f"{money(checkout.hold_amount, currency)}); a CDR arriving later is reconciled"
        + (f". {noted}" if noted else ""),
    )


def _session_total(checkout: Checkout, session: ChargingSession) -> Decimal:
    total = incl_vat(checkout, session.total_cost_incl_vat, session.total_cost_excl_vat)
    return Decimal(0) if total is None else total


def record_expiring_hold(*, plan: HoldPlan, intent: gateway.Intent) -> None:
    """Book the capture (or release) of an expiring hold, settle the checkout without a CDR
    (nothing is owed to the CPO until its CDR says so) and open the EXPIRING_HOLD case."""
    with transaction.atomic(durable=True):
        checkout = Checkout.objects.select_for_update().get(pk=plan.checkout_id)
        if checkout.status == Checkout.Status.SETTLED:
            return  # a CDR settled it meanwhile
        captured = _settle_hold(checkout, plan.capture_minor, intent)
        advice.after_capture(checkout, captured_minor=captured, owed_minor=None)
        open_case(
            Case.Kind.EXPIRING_HOLD,
            plan.summary,
            key=f"expiring-hold:{checkout.pk}",
            checkout=checkout,
        )
        if _has_cdr(checkout):  # a CDR came while Stripe was asked
            _reconcile_later(checkout)


# --- what the driver's page shows -------------------------------------------------------------


def settled_cost(
    checkout: Checkout, session: ChargingSession | None, *, paid_minor: int
) -> costs.DriverCost:
    """After settlement the driver's cost is what was taken (captured less refunds); the CPO's
    figure beside it is the total of the CDR that bills the checkout, else (settled before its
    CDR came) its last Session's. `basis` says why they differ: the price shown, or the hold."""
    currency = checkout.currency
    paid = Money.from_minor(max(paid_minor, 0), currency).amount
    live = standing_cdrs(list(checkout.cdrs.order_by("received_at", "pk")))
    if len(live) == 1:
        operator: Decimal | None = cdr_total_incl_vat(checkout, live[0])
    else:
        operator = costs.operator_figure(checkout, session) if session is not None else None
    if operator is None or checkout.payment_status == Checkout.PaymentStatus.RELEASED:
        return costs.DriverCost(paid, "none", None)  # nothing to compare, or nothing taken
    operator = Money(operator, currency).rounded().amount
    if operator <= paid:
        return costs.DriverCost(paid, "operator", operator)
    hold = Money(checkout.hold_amount, currency).rounded().amount
    return costs.DriverCost(paid, "hold" if paid == hold else "shown", operator)
