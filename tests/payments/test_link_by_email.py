"""A driver can have the link to their checkout e-mailed from the live page: the message holds
the secret link, the address is not kept once it is sent, and the form is rate limited."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from payments import receipt_mail
from payments.models import LinkMail
from tests.payments.charger import charger
from tests.payments.paying import VISA, card, pay, started

pytestmark = pytest.mark.django_db


def paid(client: Client, fake) -> str:
    checkout = started(client)
    status, _ = pay(client, checkout["id"], card(fake, checkout["setup_client_secret"], VISA))
    assert status == 200
    return checkout["id"]


def test_it_sends_the_link_and_forgets_the_address(
    client: Client, stripe_settings, eager_tasks, django_capture_on_commit_callbacks, settings
) -> None:
    charger()
    public_id = paid(client, stripe_settings)
    page = client.get(f"/checkout/{public_id}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Send me the link to this page by e-mail" in page
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"/checkout/{public_id}/link", {"email": "driver@example.org"})
    assert sent.status_code == 303
    assert sent["Location"] == f"/checkout/{public_id}/?link=sent#link-mail"
    (message,) = mail.outbox
    assert message.to == ["driver@example.org"]
    assert f"{settings.PUBLIC_BASE_URL}/checkout/{public_id}/" in message.body
    assert "/legal/terms/" in message.body
    assert LinkMail.objects.get().email == ""
    after = client.get(sent["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The link is on its way to your e-mail." in after


def test_it_refuses_an_address_that_is_none(client: Client, stripe_settings) -> None:
    charger()
    public_id = paid(client, stripe_settings)
    page = client.post(
        f"/checkout/{public_id}/link", {"email": "not an address"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert page.status_code == 400
    assert "Enter a valid email address." in page.content.decode()
    assert not LinkMail.objects.exists() and not mail.outbox


def test_it_is_rate_limited(client: Client, stripe_settings, settings) -> None:
    charger()
    public_id = paid(client, stripe_settings)
    answers = [
        client.post(f"/checkout/{public_id}/link", {"email": f"d{n}@example.org"}).status_code
        for n in range(4)
    ]
    assert answers == [303, 303, 303, 429]


def test_it_sends_nothing_for_a_checkout_that_is_none(client: Client) -> None:
    answer = client.post("/checkout/no-such-checkout/link", {"email": "driver@example.org"})
    assert answer.status_code == 404 and not LinkMail.objects.exists()


def test_an_address_never_sent_to_goes_with_the_retention(
    client: Client, stripe_settings, settings
) -> None:
    charger()
    public_id = paid(client, stripe_settings)
    client.post(f"/checkout/{public_id}/link", {"email": "driver@example.org"})
    assert LinkMail.objects.get().email == "driver@example.org"  # its task never ran
    later = timezone.now() + settings.EMAIL_RETENTION + timedelta(minutes=1)
    receipt_mail.erase_old_emails(now=later)
    assert not LinkMail.objects.exists()
