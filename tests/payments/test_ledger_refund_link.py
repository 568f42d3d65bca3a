"""A refund's ledger rows (REFUND, FAILED_REFUND) link to the Refund they book, so its reason is
read from there rather than from a note; rows booked before the link get it from their key."""

import importlib

import pytest
from django.apps import apps

from ocpi_peer.models import Partner
from payments import refunds
from payments.models import Checkout, LedgerEntry, Refund
from tests.payments.charger import charger
from tests.payments.ledger_rows import checkout_of

pytestmark = pytest.mark.django_db

link_refunds = importlib.import_module("payments.migrations.0010_ledger_refund").link_refunds


def refund_of(checkout: Checkout, key: str, reason: str = "cable broken: sorry") -> Refund:
    return Refund.objects.create(
        checkout=checkout,
        key=key,
        amount_minor=300,
        currency=checkout.currency,
        reason=reason,
        requested_by="operator",
    )


@pytest.fixture
def checkout() -> Checkout:
    charger()
    return checkout_of(Partner.objects.get(name="Test CPO"), "REF-ONE")


def test_a_refund_and_a_failed_refund_are_booked_with_their_refund(checkout: Checkout) -> None:
    done, failed = refund_of(checkout, "operator:1"), refund_of(checkout, "operator:2")
    refunds.record_refund(refund_id=done.pk, stripe_refund_id="re_1")
    refunds.record_refund_failure(refund_id=failed.pk, error="card expired")
    assert LedgerEntry.objects.get(kind="refund").refund == done
    assert LedgerEntry.objects.get(kind="failed_refund").refund == failed


def test_rows_booked_before_the_link_find_their_refund_by_key(checkout: Checkout) -> None:
    done, failed = refund_of(checkout, "operator:1"), refund_of(checkout, "credit:CDR-2")
    other = checkout_of(checkout.partner, "REF-TWO")
    for kind, key in [
        ("refund", "refund:operator:1"),
        ("failed_refund", "failed-refund:credit:CDR-2"),
        ("capture", "capture:pi_REF-ONE"),
    ]:
        LedgerEntry.objects.create(
            checkout=checkout, kind=kind, amount_minor=300, currency="EUR", idempotency_key=key
        )
    LedgerEntry.objects.create(  # the same refund key on another checkout is not this refund
        checkout=other, kind="refund", amount_minor=1, currency="EUR", idempotency_key="refund:x"
    )
    refund_of(checkout, "x")
    link_refunds(apps, None)
    linked = dict(LedgerEntry.objects.values_list("idempotency_key", "refund_id"))
    assert linked == {
        "refund:operator:1": done.pk,
        "failed-refund:credit:CDR-2": failed.pk,
        "capture:pi_REF-ONE": None,
        "refund:x": None,
    }
