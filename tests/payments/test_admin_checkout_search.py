"""An operator finds a checkout by whatever the driver, the CPO or Stripe quotes: the
authorization reference, the receipt number, the CDR id, the card's last 4 digits, the receipt
e-mail, the EVSE ID however printed, the PaymentIntent id. Each is an indexed equality, never
a scan of joined text (no LIKE in the queries)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ocpi_peer.models import Partner
from payments.models import Checkout, receipt_number
from tests.payments.charger import charger
from tests.payments.ledger_rows import cdr_of, checkout_of
from tests.support.roles import signed_in

pytestmark = pytest.mark.django_db

CHECKOUTS = "/admin/payments/checkout/"


@pytest.fixture
def two() -> tuple[Checkout, Checkout]:
    charger()
    partner = Partner.objects.get(name="Test CPO")
    wanted = checkout_of(partner, "AUTH-7F3A")
    Checkout.objects.filter(pk=wanted.pk).update(card_last4="4242", email="Driver@Example.org")
    cdr_of(wanted, "CDR-FIND-ME", Decimal("12.30"))
    other = checkout_of(partner, "AUTH-OTHER")
    Checkout.objects.filter(pk=other.pk).update(card_last4="0005")
    return Checkout.objects.get(pk=wanted.pk), Checkout.objects.get(pk=other.pk)


def found(client: Client, term: str) -> list[int]:
    with CaptureQueriesContext(connection) as queries:
        page = client.get(CHECKOUTS, {"q": term})
    assert page.status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if " LIKE " in q["sql"].upper()]
    return [checkout.pk for checkout in page.context["cl"].result_list]


def test_it_finds_a_checkout_by_what_drivers_cpos_and_stripe_quote(two) -> None:
    wanted, other = two
    support = signed_in("anna", "support")
    for term in (
        "AUTH-7F3A",
        "auth-7f3a",
        receipt_number(wanted),
        receipt_number(wanted).lower(),
        "CDR-FIND-ME",
        "4242",
        "…4242",
        "driver@example.org",
        "Driver@Example.org",
        "pi_AUTH-7F3A",
        f" {wanted.public_id} ",
    ):
        assert found(support, term) == [wanted.pk], term
    assert found(support, "0005") == [other.pk]
    assert sorted(found(support, "de*abc*eloc1")) == sorted([wanted.pk, other.pk])  # EVSE ID


def test_it_finds_nothing_for_a_part_or_for_nonsense(two) -> None:
    support = signed_in("anna", "support")
    for term in ("AUTH", "424", "FIND", "example.org", "'; DROP TABLE", "€", "9" * 40):
        assert found(support, term) == [], term
