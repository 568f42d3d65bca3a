"""A receipt over €250 is a full German invoice (§ 14 UStG): it names the recipient the driver
entered (with the payment or afterwards, under the receipt's link), the seller's VAT id, the date
of supply and the net amount and VAT; without the recipient it says that a full invoice needs
them. Below €250 it stays a small-amount invoice (§ 33 UStDV), with the recipient if entered.
Over real HTTP: the driver API, the receipt page and its form, the PDF and the e-mail."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest
from django.utils import timezone
from pypdf import PdfReader

from payments import receipt_mail
from payments.models import Checkout, CpoTerms
from tests.helpers import wait_until
from tests.payments.visit import captured, settled

pytestmark = pytest.mark.django_db(transaction=True)

COMPANY = {
    "name": "Fuhrpark Müller GmbH",
    "street": "Ladestraße 7",
    "postal_code": "50667",
    "city": "Köln",
    "country": "Deutschland",
    "vat_id": "de 123 456 789",
}


@pytest.fixture
def large_charges(settings) -> None:
    """A hold large enough for a charge over €250, and us as seller with a VAT id."""
    settings.PLATFORM_LEGAL_NAME = "ChargePay GmbH"
    settings.PLATFORM_LEGAL_ADDRESS = "Stromweg 5\n10115 Berlin"
    settings.PLATFORM_VAT_ID = "DE999999999"
    CpoTerms.objects.create(
        country_code="NL",
        party_id="SIM",
        default_hold=Decimal("1000.00"),
        legal_name="Simulated Charging B.V.",
        legal_address="Laadpaalstraat 1\n1011 AB Amsterdam",
        vat_id="NL123456789B01",
    )


def large(connected_cpo, live_server, fake, **options) -> Checkout:
    """A session of about 500 kWh at 0.59 €/kWh (a day at the 22 kW charger, fast-forwarded)."""
    checkout = settled(
        connected_cpo,
        live_server,
        fake,
        charge_kw=22,
        time_scale=60000,
        kwh=Decimal(480),
        **options,
    )
    assert captured(checkout) > Decimal(250)
    return checkout


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def receipt_url(live_server, checkout: Checkout) -> str:
    return f"{live_server.url}/checkout/{checkout.public_id}/receipt/"


def block(html: str, element_id: str) -> str:
    return html.split(f'id="{element_id}">')[1].split("</dd>")[0]


def csrf(client: httpx.Client, url: str) -> str:
    page = client.get(url).text
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_it_makes_a_receipt_over_250_a_full_invoice_with_the_details_entered_when_paying(
    connected_cpo, live_server, stripe_settings, eager_tasks, mailoutbox, large_charges
) -> None:
    checkout = large(
        connected_cpo, live_server, stripe_settings, invoice=COMPANY, email="fleet@example.org"
    )
    html = httpx.get(receipt_url(live_server, checkout)).text
    assert "Invoice (§ 14 UStG)" in html
    recipient = block(html, "recipient").split("<br>")
    assert recipient == [
        "Fuhrpark Müller GmbH",
        "Ladestraße 7",
        "50667 Köln",
        "Deutschland",
        "VAT ID DE123456789",
    ]
    assert "VAT ID DE999999999" in block(html, "seller")  # we sell: our VAT id
    end = checkout.cdrs.get().end.astimezone(ZoneInfo("Europe/Amsterdam"))
    assert block(html, "supply-date") == f"{end:%Y-%m-%d}"
    paid = captured(checkout)
    net = (paid / Decimal("1.21")).quantize(Decimal("0.01"))
    assert f"€{net:,}" in html and f"€{paid - net:,}" in html and "VAT 21 %" in html
    assert 'id="invoice-missing"' not in html

    pdf = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt.pdf")
    text = pdf_text(pdf.content)
    assert "Fuhrpark Müller GmbH" in text and "DE123456789" in text
    assert "Date of supply" in text and "DE999999999" in text

    wait_until(lambda: len(mailoutbox) >= 1)
    body = mailoutbox[0].body
    assert "Invoice to: Fuhrpark Müller GmbH, Ladestraße 7, 50667 Köln" in body
    assert "Date of supply: " in body


def test_it_says_a_full_invoice_needs_the_recipient_and_takes_it_on_the_receipt_page(
    connected_cpo, live_server, stripe_settings, eager_tasks, mailoutbox, large_charges
) -> None:
    checkout = large(connected_cpo, live_server, stripe_settings, email="d@example.org")
    url = receipt_url(live_server, checkout)
    html = httpx.get(url).text
    assert "An invoice over €250.00 must name its recipient" in html
    assert 'href="#invoice-details"' in html and 'id="invoice-form"' in html
    assert 'id="recipient"' not in html
    wait_until(lambda: len(mailoutbox) >= 1)
    assert "must name its recipient" in mailoutbox[0].body

    with httpx.Client() as client:
        token = csrf(client, url)
        form = {"csrfmiddlewaretoken": token, **COMPANY}
        saved = client.post(f"{url}invoice-details", data=form, headers={"Referer": url})
        assert saved.status_code == 303
        html = client.get(url).text
    assert block(html, "recipient").startswith("Fuhrpark Müller GmbH<br>Ladestraße 7")
    assert "must name its recipient" not in html
    pdf = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt.pdf")
    text = pdf_text(pdf.content)
    assert "Fuhrpark Müller GmbH" in text
    assert len(mailoutbox) == 1  # nothing is e-mailed again


def test_it_refuses_a_vat_id_of_the_wrong_shape_with_a_message(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings)
    url = receipt_url(live_server, checkout)
    with httpx.Client() as client:
        form = {"csrfmiddlewaretoken": csrf(client, url), **COMPANY, "vat_id": "DE12345"}
        refused = client.post(f"{url}invoice-details", data=form, headers={"Referer": url})
        assert refused.status_code == 400
        assert "This is not a valid VAT ID for DE" in refused.text
        unknown = client.post(
            f"{url}invoice-details", data={**form, "vat_id": "123456789"}, headers={"Referer": url}
        )
        assert "A VAT ID starts with its country&#x27;s code" in unknown.text
        nameless = client.post(
            f"{url}invoice-details",
            data={**form, "name": "", "vat_id": "NL123456789B01"},
            headers={"Referer": url},
        )
        assert nameless.status_code == 400 and "Please enter the name or company" in nameless.text
    assert Checkout.objects.get(pk=checkout.pk).invoice_name == ""
    # Without the CSRF token, nothing is taken.
    forged = httpx.post(f"{url}invoice-details", data=COMPANY, headers={"Referer": url})
    assert forged.status_code == 403

    api = httpx.post(
        f"{live_server.url}/api/v1/checkouts",
        json={"evse_id": checkout.evse.evse_id, "connector_id": "1", "invoice": {"vat_id": "FR1"}},
        headers={"Accept-Language": "de"},
    )
    assert api.status_code == 400
    assert "Dies ist keine gültige USt-IdNr. für FR" in str(api.json()["fields"]["invoice"])


def test_it_keeps_a_receipt_up_to_250_simplified_and_shows_the_details_entered(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings, invoice=COMPANY)
    assert captured(checkout) <= Decimal(250)
    html = httpx.get(receipt_url(live_server, checkout)).text
    assert "Small-amount invoice up to €250.00 (§ 33 UStDV)" in html
    assert block(html, "recipient").startswith("Fuhrpark Müller GmbH<br>")
    assert 'id="supply-date"' not in html and "must name its recipient" not in html


def test_it_says_it_in_german(
    connected_cpo, live_server, stripe_settings, eager_tasks, large_charges
) -> None:
    checkout = large(connected_cpo, live_server, stripe_settings, locale="de")
    url = receipt_url(live_server, checkout)
    html = httpx.get(url).text
    assert "Rechnung (§ 14 UStG)" in html
    assert "Eine Rechnung über 250,00 € muss den Empfänger nennen" in html
    assert "Rechnungsdaten" in html and "Name oder Firma" in html and "Leistungsdatum" in html
    with httpx.Client() as client:
        form = {"csrfmiddlewaretoken": csrf(client, url), **COMPANY}
        client.post(f"{url}invoice-details", data=form, headers={"Referer": url})
        html = client.get(url).text
    assert "Rechnungsempfänger" in html and "USt-IdNr. DE123456789" in html


def test_it_erases_the_details_with_the_email_after_retention(
    connected_cpo, live_server, stripe_settings, eager_tasks, settings
) -> None:
    settings.EMAIL_RETENTION = timedelta(days=30)
    checkout = settled(connected_cpo, live_server, stripe_settings, invoice=COMPANY)
    now = timezone.now()
    assert receipt_mail.erase_old_emails(now=now + timedelta(days=29)) == 0
    assert Checkout.objects.get(pk=checkout.pk).invoice_name == "Fuhrpark Müller GmbH"
    assert receipt_mail.erase_old_emails(now=now + timedelta(days=31)) == 1
    kept = Checkout.objects.get(pk=checkout.pk)
    assert (kept.invoice_name, kept.invoice_street, kept.invoice_vat_id) == ("", "", "")
    html = httpx.get(receipt_url(live_server, checkout)).text
    assert 'id="recipient"' not in html and "Fuhrpark" not in html


def test_it_says_when_the_seller_has_no_vat_id_on_record(
    connected_cpo, live_server, stripe_settings, eager_tasks, large_charges
) -> None:
    CpoTerms.objects.filter(party_id="SIM").update(merchant_of_record="cpo", vat_id="")
    checkout = large(connected_cpo, live_server, stripe_settings, invoice=COMPANY)
    html = httpx.get(receipt_url(live_server, checkout)).text
    assert "The seller&#x27;s VAT ID is not on record" in html
    assert "VAT ID" not in block(html, "seller")
    assert 'id="invoice-missing"' not in html  # the recipient is complete
