"""Terms of use, imprint, privacy policy and support: written by the operator in the admin, in
German and English where they give both, shown as plain text (never as HTML), and linked from
every driver page, the receipt, its PDF and its e-mail."""

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client

from payments.models import LegalPage
from tests.payments.charger import EVSE_ID, charger
from tests.payments.paying import started
from tests.payments.test_receipt_pdf import pdf_text
from tests.payments.visit import settled

LINKS = ("/legal/terms/", "/legal/imprint/", "/legal/privacy/", "/legal/support/")


@pytest.mark.django_db
def test_it_shows_the_operators_text_in_the_readers_language(client: Client) -> None:
    LegalPage.objects.create(
        kind="terms",
        text_en="Our terms.\n\nWrite to help@example.org or see https://example.org/terms",
        text_de="Unsere Bedingungen.",
    )
    english = client.get("/legal/terms/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<p>Our terms.</p>" in english
    assert '<a href="mailto:help@example.org">help@example.org</a>' in english
    assert '<a href="https://example.org/terms" rel="nofollow">' in english
    german = client.get("/legal/terms/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Nutzungsbedingungen" in german and "Unsere Bedingungen." in german


@pytest.mark.django_db
def test_a_page_in_one_language_is_shown_in_that_one(client: Client) -> None:
    LegalPage.objects.create(kind="privacy", text_en="We keep your e-mail 30 days.")
    german = client.get("/legal/privacy/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<div class="legal-text" lang="en"><p>We keep your e-mail 30 days.</p>' in german


@pytest.mark.django_db
def test_it_never_renders_the_text_as_html(client: Client) -> None:
    LegalPage.objects.create(kind="support", text_en='<script>alert("x")</script><b>bold</b>')
    html = client.get("/legal/support/").content.decode()
    assert "<script>alert" not in html and "<b>bold" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.django_db
def test_the_imprint_names_us_and_an_unwritten_page_says_so(client: Client, settings) -> None:
    settings.PLATFORM_LEGAL_NAME = "ChargePay GmbH"
    settings.PLATFORM_LEGAL_ADDRESS = "Ladestraße 1\n10115 Berlin"
    settings.PLATFORM_VAT_ID = "DE123456789"
    imprint = client.get("/legal/imprint/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "ChargePay GmbH<br>Ladestraße 1<br>10115 Berlin<br>" in imprint
    assert "DE123456789" in imprint
    terms = client.get("/legal/terms/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The operator has not published this page yet." in terms
    assert client.get("/legal/cookies/").status_code == 404


@pytest.mark.django_db
def test_every_driver_page_links_them(client: Client, stripe_settings) -> None:
    charger()
    checkout = started(client)
    pages = [
        f"/charge/{EVSE_ID}/",
        "/charge/",
        "/charge/NOPE/",
        f"/checkout/{checkout['id']}/",
    ]
    pages += list(LINKS)
    for path in pages:
        html = client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        for link in LINKS:
            assert f'href="{link}"' in html, (path, link)
    pay_page = client.get(f"/charge/{EVSE_ID}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'I accept the <a href="/legal/terms/" target="_blank">terms of use</a>' in pay_page


@pytest.mark.django_db
def test_the_operator_writes_them_in_the_admin(client: Client) -> None:
    admin = User.objects.create_superuser("op", "", "pw")
    client.force_login(admin)
    answer = client.post(
        "/admin/payments/legalpage/add/",
        {"kind": "imprint", "text_en": "Registered in Berlin.", "text_de": "Sitz: Berlin."},
    )
    assert answer.status_code == 302
    assert (
        "Sitz: Berlin." in client.get("/legal/imprint/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    )


@pytest.mark.django_db(transaction=True)
def test_the_receipt_its_pdf_and_its_email_link_them(
    connected_cpo, live_server, stripe_settings, eager_tasks, mailoutbox
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings, email="driver@example.org")
    base = live_server.url
    page = httpx.get(f"{base}/checkout/{checkout.public_id}/receipt/").text
    pdf = pdf_text(httpx.get(f"{base}/checkout/{checkout.public_id}/receipt.pdf").content)
    for link in LINKS:
        assert f'href="{link}"' in page
        assert f"{base}{link}" in pdf.replace("\n", "")
    (mail,) = mailoutbox
    ((html, _),) = mail.alternatives
    for link in LINKS:
        assert f"{base}{link}" in mail.body and f'href="{base}{link}"' in html


@pytest.mark.django_db
def test_the_operations_role_may_write_them() -> None:
    from tests.support.roles import staff

    assert staff("ops", "operations").has_perm("payments.change_legalpage")
    assert not staff("money", "finance").has_perm("payments.change_legalpage")
