"""The whole loop over OCPI 2.3.0 with our checkout as the CPO's Payment Terminal: the price
shown, the hold, START_SESSION with the authorization_reference, the session, the CDR, the
capture, one Financial Advice Confirmation at the CPO that it can read back from us, and a
receipt that points at the CPO's invoice when the CDR says the CPO invoices."""

import json
from decimal import Decimal

import httpx
import pytest

from payments.models import FinancialAdvice
from tests.helpers import wait_until
from tests.payments.charging import pay, reaches
from tests.payments.ptp import terminal_at
from tests.payments.settling import minor

pytestmark = pytest.mark.django_db(transaction=True)

INVOICES = "https://cpo.example.com/invoices/"


def test_it_charges_captures_advises_once_and_links_the_cpos_invoice(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(version="2.3.0", location_count=1, update_interval=0.2, cdr_fault=None)
    cpo.invoice_reference_id = "INV-2026-000017"
    terminal, evse_id = terminal_at(cpo)
    put = cpo.call_us(
        "PUT",
        f"payments/terminals/{terminal.terminal_id}",
        json={
            "customer_reference": "ACME",
            "invoice_base_url": INVOICES,
            "invoice_creator": "CPO",
            "last_updated": "2026-01-01T00:00:00Z",
        },
    )
    assert put.json()["data"]["invoice_creator"] == "CPO", put.text
    shown = httpx.get(f"{live_server.url}/api/v1/evses/{evse_id}").json()
    assert shown["payable"] is True and shown["connectors"][0]["payable"] is True

    checkout = pay(live_server.url, stripe_settings, evse_id)
    (start,) = [c for c in cpo.commands if c.command == "START_SESSION"]
    assert start.body["authorization_reference"] == checkout.authorization_reference
    reaches(checkout, "charging")
    session = cpo.wait_for_session("ACTIVE")
    cpo.end_session(session["id"])
    checkout = reaches(checkout, "settled")
    captured = minor(checkout)["capture"]
    assert captured > 0

    (advice,) = cpo.wait_for_advices(1)
    assert advice["authorization_reference"] == checkout.authorization_reference
    assert advice["capture_status_code"] == "SUCCESS" and advice["currency"] == "EUR"
    total = advice["total_costs"]
    gross = total["before_taxes"] + sum(t["amount"] for t in total["taxes"])
    assert gross == Decimal(captured) / 100
    assert [(t["name"], t["percentage"]) for t in total["taxes"]] == [("VAT", 21)]  # NL
    eft = advice["eft_data"]
    assert eft[0] == "VISA" and "Nr: **** **** **** 4242" in eft
    assert f"Stripe PaymentIntent: {checkout.stripe_payment_intent}" in eft
    posts = [c for c, _, _ in cpo.payment_posts if c == "financial-advice-confirmations"]
    assert len(posts) == 1
    wait_until(lambda: FinancialAdvice.objects.get().sent_at is not None, timeout=10)

    listed = cpo.call_us("GET", "payments/financial-advice-confirmations")
    assert listed.headers["X-Total-Count"] == "1"
    assert json.loads(listed.text, parse_float=Decimal)["data"] == [advice]
    one = cpo.call_us("GET", f"payments/financial-advice-confirmations/{advice['id']}")
    assert json.loads(one.text, parse_float=Decimal)["data"] == advice

    receipt = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt/")
    html = receipt.text
    link = f"{INVOICES}{checkout.authorization_reference}"
    assert f'href="{link}"' in html
    assert "Seller (charge point operator)" in html and "Simulated CPO" in html
    german = httpx.get(
        f"{live_server.url}/checkout/{checkout.public_id}/receipt/",
        headers={"Accept-Language": "de"},
    ).text
    assert "der Betreiber, stellt die Rechnung für diesen Ladevorgang aus" in german
