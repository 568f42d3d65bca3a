"""No receipt to show: an unknown link, a checkout not settled yet, one that charged nothing.
Each gets a page that says so (404), never a server error."""

import httpx
import pytest

from payments import receipt_mail, receipts
from payments.models import Checkout
from tests.payments.charging import push_stations

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_unknown_link_says_the_payment_is_not_found(live_server) -> None:
    for path in ("receipt/", "receipt.pdf"):
        answer = httpx.get(f"{live_server.url}/checkout/no-such-secret/{path}")
        assert answer.status_code == 404
        assert "Payment not found" in answer.text


def test_before_settlement_the_page_says_the_receipt_is_not_ready(
    connected_cpo, live_server, stripe_settings, mailoutbox
) -> None:
    cpo = connected_cpo(location_count=1)
    created = httpx.post(
        f"{live_server.url}/api/v1/checkouts",
        json={"evse_id": push_stations(cpo), "connector_id": "1", "email": "d@example.org"},
    ).json()
    base = f"{live_server.url}/checkout/{created['id']}"
    for path in ("receipt/", "receipt.pdf"):
        answer = httpx.get(f"{base}/{path}")
        assert answer.status_code == 404
        assert "Your receipt is not ready yet" in answer.text
    checkout = Checkout.objects.get(public_id=created["id"])
    with pytest.raises(receipts.NoReceipt):
        receipts.receipt_for(checkout)
    assert receipt_mail.send_receipt(checkout_id=checkout.pk) is False
    assert mailoutbox == []

    httpx.post(f"{live_server.url}/api/v1/checkouts/{created['id']}/stop", json={})
    answer = httpx.get(f"{base}/receipt/")
    assert answer.status_code == 404
    assert "Nothing was charged" in answer.text
