"""A refund is a credit note of its own: its own gapless number referring to the receipt's, its
date, amount, VAT share and reason, on a page and in a PDF under the checkout's secret link, and
e-mailed to the driver; the receipt stays as it was sent and lists the credit notes below it."""

import io
import re
from decimal import Decimal

import httpx
import pytest
from django.contrib.auth.models import User
from pypdf import PdfReader

from payments import receipt_mail, receipts, refunds
from payments.models import CreditNote
from tests.helpers import wait_until
from tests.payments.visit import captured, settled

pytestmark = pytest.mark.django_db(transaction=True)


def refund(checkout_id: int, amount: str, reason: str, key: str) -> None:
    refunds.request_refund(
        checkout_id=checkout_id,
        amount=Decimal(amount),
        reason=reason,
        requested_by="operator:anna",
        key=key,
        borne_by="platform",
    )


def test_a_refund_issues_a_credit_note_and_the_receipt_stays_as_sent(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings)
    taken = captured(checkout)
    url = f"{live_server.url}/checkout/{checkout.public_id}/receipt/"
    before = receipts.receipt_for(checkout)
    refund(checkout.pk, "0.20", "cable was faulty", "operator:cn-1")

    (note,) = CreditNote.objects.filter(checkout=checkout)
    assert re.fullmatch(r"CPY-CN-\d{8}", note.number)
    assert note.receipt_number == before.number
    assert (note.amount_minor, note.reason) == (20, "cable was faulty")
    after = receipts.receipt_for(checkout)
    assert (after.number, after.total_incl_vat) == (before.number, taken)
    page = httpx.get(url).text
    assert f"€{taken}" in page and "€" + str(taken - Decimal("0.20")) not in page
    assert f"Credit note no. {note.number}" in page
    link = f"/checkout/{checkout.public_id}/credit-notes/{note.number}/"
    assert f'href="{link}"' in page

    doc = httpx.get(f"{live_server.url}{link}")
    assert doc.status_code == 200 and doc.headers["Cache-Control"] == "private, no-store"
    assert note.number in doc.text and before.number in doc.text
    assert "€0.20" in doc.text and "cable was faulty" in doc.text
    assert "VAT 21 %" in doc.text and "€0.03" in doc.text  # 0.20 incl. 21 %: 0.17 + 0.03
    pdf = httpx.get(f"{live_server.url}{link[:-1]}.pdf")
    assert pdf.headers["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert note.number in text and before.number in text and "€0.20" in text
    other = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/credit-notes/CPY-CN-99/")
    assert other.status_code == 404


def test_a_second_refund_is_the_next_credit_note(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings)
    refund(checkout.pk, "0.10", "goodwill", "operator:cn-2")
    refund(checkout.pk, "0.10", "goodwill", "operator:cn-2")  # the same ask again: no new note
    refund(checkout.pk, "0.05", "rounding", "operator:cn-3")
    first, second = CreditNote.objects.filter(checkout=checkout).order_by("sequence")
    assert second.sequence == first.sequence + 1  # gapless
    assert (first.amount_minor, second.amount_minor) == (10, 5)
    receipt = receipts.receipt_for(checkout)
    assert [n.number for n in receipt.credit_notes] == [first.number, second.number]
    assert receipt.total_incl_vat == captured(checkout)


def test_the_credit_note_is_emailed_in_the_drivers_language(
    connected_cpo, live_server, stripe_settings, eager_tasks, mailoutbox
) -> None:
    checkout = settled(
        connected_cpo, live_server, stripe_settings, email="driver@example.org", locale="de"
    )
    wait_until(lambda: len(mailoutbox) >= 1)  # the receipt
    refund(checkout.pk, "0.20", "Kabel defekt", "operator:cn-4")
    wait_until(lambda: len(mailoutbox) >= 2)
    note = CreditNote.objects.get(checkout=checkout)
    mail = mailoutbox[1]
    assert mail.to == ["driver@example.org"]
    assert "Gutschrift" in mail.subject and note.number in mail.subject
    assert "0,20 €" in mail.body and "Kabel defekt" in mail.body
    assert f"/checkout/{checkout.public_id}/credit-notes/{note.number}/" in mail.body
    ((name, pdf, kind),) = mail.attachments
    assert kind == "application/pdf" and note.number in name and pdf.startswith(b"%PDF")
    assert receipt_mail.send_credit_note(credit_note_id=note.pk) is False  # once
    assert len(mailoutbox) == 2


def test_the_checkouts_admin_page_links_each_refunds_credit_note(
    connected_cpo, live_server, stripe_settings, eager_tasks, client
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings)
    refund(checkout.pk, "0.20", "cable was faulty", "operator:cn-5")
    note = CreditNote.objects.get(checkout=checkout)
    client.force_login(User.objects.create_superuser("operator", "", "pw-operator-1"))
    page = client.get(f"/admin/payments/checkout/{checkout.pk}/change/").content.decode()
    assert f'href="/checkout/{checkout.public_id}/credit-notes/{note.number}/"' in page
