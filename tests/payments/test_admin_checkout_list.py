"""The checkout list tells the truth: a hold only where one was placed, what was captured, and
times in the operator's time zone (TIME_ZONE) with its name; a checkout's page links the
driver's live page and receipt and shows the price differences noted on it."""

from decimal import Decimal

import pytest

from ocpi_peer.models import Partner
from payments.models import Checkout
from tests.payments.charger import charger
from tests.payments.ledger_rows import at, book, checkout_of
from tests.support.roles import signed_in

pytestmark = pytest.mark.django_db

CHECKOUTS = "/admin/payments/checkout/"


def cells(page: str, checkout: Checkout) -> str:
    """The list's row of `checkout`, as text."""
    row = page.split(f'value="{checkout.pk}"')[1].split("</tr>")[0]
    return row


def test_it_lists_held_and_captured_only_when_they_happened_in_local_time(settings) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    charger()
    partner = Partner.objects.get(name="Test CPO")
    settled = checkout_of(partner, "REF-PAID")
    book(settled, "hold", 5000, at(30, 8))
    book(settled, "capture", 1230, at(30, 10))
    expired = checkout_of(partner, "REF-NEVER-PAID")
    Checkout.objects.filter(pk=expired.pk).update(
        status=Checkout.Status.EXPIRED, payment_status="", created_at=at(30, 10, 5)
    )
    page = signed_in("anna", "support").get(CHECKOUTS).content.decode()
    paid_row, never_row = cells(page, settled), cells(page, expired)
    assert "€50.00" in paid_row and "€12.30" in paid_row
    assert "€" not in never_row and "—" in never_row
    assert "2026-11-30 11:05 CET" in never_row  # 10:05 UTC


def test_its_page_links_the_drivers_pages_and_shows_noted_differences() -> None:
    charger()
    checkout = checkout_of(Partner.objects.get(name="Test CPO"), "REF-PAID")
    note = "CDR CDR-1: the CDR asks €12.33, the price shown gives €12.30: took the lower"
    Checkout.objects.filter(pk=checkout.pk).update(price_notes=note)
    book(checkout, "hold", Decimal(5000), at(30, 8))
    page = signed_in("anna", "support").get(f"{CHECKOUTS}{checkout.pk}/change/").content.decode()
    assert f'href="/checkout/{checkout.public_id}/"' in page
    assert f'href="/checkout/{checkout.public_id}/receipt/"' in page
    assert "took the lower" in page and "€12.33" in page
