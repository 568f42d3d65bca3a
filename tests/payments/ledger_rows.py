"""Settled checkouts, ledger entries and CDRs written straight to the database as the services
leave them, for the tests of what is read back from them (exports, the admin)."""

from datetime import UTC, datetime
from decimal import Decimal

from ocpi_peer.models import Partner
from payments.models import Cdr, Checkout, LedgerEntry
from stations.models import Evse
from tests.payments.charger import EVSE_ID


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def checkout_of(partner: Partner, ref: str, currency: str = "EUR") -> Checkout:
    """A checkout as the services leave it after settlement (the rows are what is exported)."""
    evse = Evse.objects.get(evse_id=EVSE_ID)
    return Checkout.objects.create(
        partner=partner,
        evse=evse,
        connector=evse.connectors.get(),
        currency=currency,
        hold_amount=Decimal("50"),
        authorization_reference=ref,
        stripe_payment_intent=f"pi_{ref}",
        status=Checkout.Status.SETTLED,
    )


def book(checkout: Checkout, kind: str, minor: int, when: datetime) -> None:
    LedgerEntry.objects.create(
        checkout=checkout,
        kind=kind,
        amount_minor=minor,
        currency=checkout.currency,
        idempotency_key=f"{kind}:{checkout.pk}:{when.isoformat()}",
        created_at=when,
    )


def cdr_of(checkout: Checkout, cdr_id: str, total: Decimal) -> Cdr:
    return Cdr.objects.create(
        partner=checkout.partner,
        country_code="DE",
        party_id="ABC",
        cdr_id=cdr_id,
        version="2.2.1",
        checkout=checkout,
        body="{}",
        content_hash=cdr_id,
        start=at(29, 22),
        end=at(30, 9),
        currency=checkout.currency,
        total_cost_excl_vat=(total / Decimal("1.19")).quantize(Decimal("0.01")),
        total_cost_incl_vat=total,
        total_energy=Decimal("10"),
    )
