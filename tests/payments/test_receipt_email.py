"""The receipt by e-mail: once, in the driver's language, text and HTML with the PDF attached;
the address is erased after the retention period and the receipt stays viewable without it."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from payments import receipt_mail
from payments.models import Checkout
from tests.helpers import free_port, wait_until
from tests.payments.visit import captured, settled

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_receipt_is_emailed_once_with_the_pdf(
    connected_cpo, live_server, stripe_settings, eager_tasks, mailoutbox
) -> None:
    checkout = settled(
        connected_cpo, live_server, stripe_settings, email="driver@example.org", locale="de"
    )
    wait_until(lambda: len(mailoutbox) >= 1)  # settlement sent it, after commit
    assert receipt_mail.send_receipt(checkout_id=checkout.pk) is False  # and never again
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["driver@example.org"]
    assert "Quittung" in mail.subject
    amount = f"{captured(checkout)}".replace(".", ",")
    assert f"{amount} €" in mail.body
    assert f"/checkout/{checkout.public_id}/receipt/" in mail.body
    ((html, mimetype),) = mail.alternatives
    assert mimetype == "text/html" and f"{amount} €" in html
    ((name, pdf, pdf_type),) = mail.attachments
    assert pdf_type == "application/pdf" and name.endswith(".pdf") and pdf.startswith(b"%PDF")
    assert Checkout.objects.get(pk=checkout.pk).receipt_sent_at is not None


def test_no_address_no_email(
    connected_cpo, live_server, stripe_settings, eager_tasks, mailoutbox
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings)
    assert receipt_mail.send_receipt(checkout_id=checkout.pk) is False
    assert mailoutbox == []


def test_the_address_is_erased_after_retention_and_the_receipt_stays(
    connected_cpo, live_server, stripe_settings, eager_tasks, settings
) -> None:
    settings.EMAIL_RETENTION = timedelta(days=30)
    checkout = settled(connected_cpo, live_server, stripe_settings, email="driver@example.org")
    now = timezone.now()
    assert receipt_mail.erase_old_emails(now=now + timedelta(days=29)) == 0
    assert Checkout.objects.get(pk=checkout.pk).email == "driver@example.org"
    assert receipt_mail.erase_old_emails(now=now + timedelta(days=31)) == 1
    assert Checkout.objects.get(pk=checkout.pk).email == ""
    page = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt/")
    assert page.status_code == 200 and f"€{captured(checkout)}" in page.text


def test_a_mail_server_that_fails_leaves_the_receipt_to_be_sent_again(
    connected_cpo, live_server, stripe_settings, eager_tasks, mailoutbox, settings
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings)
    # The driver's address, given now, so that only this test sends (settlement did not).
    Checkout.objects.filter(pk=checkout.pk).update(email="driver@example.org")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    with pytest.raises(OSError):
        receipt_mail.send_receipt(checkout_id=checkout.pk)
    assert Checkout.objects.get(pk=checkout.pk).receipt_sent_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert receipt_mail.send_receipt(checkout_id=checkout.pk) is True
    assert len(mailoutbox) == 1
