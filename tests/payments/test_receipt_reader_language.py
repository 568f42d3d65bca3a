"""The receipt speaks the reader's language: a German reader (browser or switcher) of a checkout
paid in English reads it in German, every line of it; the e-mail goes out in the language the
driver paid in."""

import httpx
import pytest

from tests.helpers import wait_until
from tests.payments.visit import captured, settled

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_german_reader_of_an_english_checkouts_receipt_reads_german(
    connected_cpo, live_server, stripe_settings, eager_tasks, mailoutbox
) -> None:
    checkout = settled(
        connected_cpo, live_server, stripe_settings, email="driver@example.org", locale="en"
    )
    url = f"{live_server.url}/checkout/{checkout.public_id}/receipt/"
    amount = f"{captured(checkout)}".replace(".", ",")
    german = httpx.get(url, headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}).text
    assert 'lang="de"' in german and f"{amount} €" in german
    assert "Quittung" in german and "Verkäufer" in german and "Betreiber des Ladepunkts" in german
    assert "Total paid" not in german and "Seller" not in german
    pdf = httpx.get(url[: -len("/")] + ".pdf", headers={"Accept-Language": "de"})
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    # Nobody says which language they read: the one the checkout was paid in.
    assert "Total paid" in httpx.get(url).text
    wait_until(lambda: len(mailoutbox) >= 1)
    assert "Total paid" in mailoutbox[0].body and "Quittung" not in mailoutbox[0].subject


def test_a_browser_asking_for_a_language_we_do_not_speak_gets_the_checkouts(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings, locale="de")
    url = f"{live_server.url}/checkout/{checkout.public_id}/receipt/"
    assert "Quittung" in httpx.get(url, headers={"Accept-Language": "fr-FR"}).text
    english = httpx.get(url, headers={"Accept-Language": "en-GB,en"}).text
    assert "Receipt for charging" in english and "Quittung" not in english
