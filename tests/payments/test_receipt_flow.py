"""A driver's whole visit ends with a receipt: paid at a simulated CPO's charger over real HTTP,
charged, ended, the CPO's own CDR (with OCMF signed meter values) settles the checkout, and the
receipt page shows what was taken, VAT and the times in the location's zone. The visit itself is
`settled` in tests/payments/visit.py, which the other receipt tests use too."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest

from payments.models import CpoTerms
from tests.payments.visit import captured, settled

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_receipt_page_shows_what_was_paid_with_vat_and_local_times(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings)
    paid = captured(checkout)
    assert paid > 0
    page = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt/")
    assert page.status_code == 200
    html = page.text
    assert f"€{paid}" in html
    net = (paid / Decimal("1.21")).quantize(Decimal("0.01"))
    assert f"€{net}" in html and f"€{paid - net}" in html and "VAT 21 %" in html
    assert checkout.authorization_reference in html
    cdr = checkout.cdrs.get()
    assert cdr.cdr_id in html
    local = cdr.start.astimezone(ZoneInfo("Europe/Amsterdam"))
    assert f"{local:%Y-%m-%d %H:%M %Z}" in html  # the location's zone, not UTC
    assert "Europe/Amsterdam" in html
    assert "Visa •••• 4242" in html
    assert 'data-verdict="valid"' in html
    assert "Everything checks out" in html
    assert page.headers["Cache-Control"] == "private, no-store"


def test_the_seller_is_the_cpo_with_the_legal_details_an_operator_entered(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    CpoTerms.objects.create(
        country_code="NL",
        party_id="SIM",
        merchant_of_record=CpoTerms.MerchantOfRecord.CPO,
        default_hold=Decimal("30.00"),
        legal_name="Simulated Charging B.V.",
        legal_address="Laadpaalstraat 1\n1011 AB Amsterdam",
        vat_id="NL123456789B01",
    )
    checkout = settled(connected_cpo, live_server, stripe_settings)
    html = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt/").text
    seller = html.split('id="seller">')[1].split("</dd>")[0]
    assert seller.split("<br>")[:3] == [
        "Simulated Charging B.V.",
        "Laadpaalstraat 1",
        "1011 AB Amsterdam",
    ]
    assert "VAT ID NL123456789B01" in seller and "NL*SIM" in seller
    assert "ChargePay" not in seller  # we are the payment service, not the seller
