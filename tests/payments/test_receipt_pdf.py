"""The receipt as a PDF: read back with pypdf, it says the amount paid in euros, the
authorization reference and the CDR."""

import io

import httpx
import pytest
from pypdf import PdfReader

from tests.payments.visit import captured, settled

pytestmark = pytest.mark.django_db(transaction=True)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_pdf_reads_back_with_the_amount_in_euros_and_the_reference(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings)
    answer = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt.pdf")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/pdf"
    text = pdf_text(answer.content)
    assert f"€{captured(checkout)}" in text
    assert checkout.authorization_reference in text
    assert checkout.cdrs.get().cdr_id in text
    assert "VAT 21 %" in text and "Everything checks out" in text


def test_the_pdf_is_in_german_for_a_german_driver(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings, locale="de")
    answer = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt.pdf")
    text = pdf_text(answer.content)
    amount = f"{captured(checkout)}".replace(".", ",")
    assert f"{amount} €" in text
    assert "Quittung" in text and "MwSt. 21 %" in text


def page_count(content: bytes) -> int:
    return len(PdfReader(io.BytesIO(content)).pages)


@pytest.mark.parametrize("locale", ["en", "de"])
def test_a_normal_sessions_receipt_is_one_page(
    connected_cpo, live_server, stripe_settings, eager_tasks, locale
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings, locale=locale)
    answer = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt.pdf")
    assert "signed_values" in checkout.cdrs.get().body  # with its signed meter data
    assert page_count(answer.content) == 1
