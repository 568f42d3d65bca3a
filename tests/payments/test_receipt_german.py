"""A driver who paid in German reads the receipt in German; the language switcher still wins."""

import httpx
import pytest

from tests.payments.visit import captured, settled

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_receipt_is_in_the_drivers_language_and_the_switcher_changes_it(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings, locale="de")
    url = f"{live_server.url}/checkout/{checkout.public_id}/receipt/"
    html = httpx.get(url).text
    amount = f"{captured(checkout)}".replace(".", ",")
    assert f"{amount} €" in html
    assert "Quittung" in html and "Bezahlt" in html and "MwSt. 21 %" in html
    assert "Alles in Ordnung" in html  # the Eichrecht verdict, in words
    assert 'lang="de"' in html
    english = httpx.get(url, cookies={"django_language": "en"}).text
    assert f"€{captured(checkout)}" in english and "Total paid" in english
