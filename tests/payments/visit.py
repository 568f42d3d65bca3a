"""A driver's whole visit over real HTTP, for the receipt tests: paid (with an email and a
locale), charged at a simulated CPO, ended, and settled by the CPO's own CDR."""

from __future__ import annotations

from decimal import Decimal

import httpx

from payments.models import Checkout
from tests.helpers import wait_until
from tests.payments.charging import push_stations
from tests.support.localstripe import confirm_card_setup


def settled(
    connected_cpo, live_server, fake, *, cdr_fault=None, email="", locale="en", version="2.2.1"
) -> Checkout:
    """A checkout paid (with `email` and `locale`), charged and settled by the CPO's CDR."""
    cpo = connected_cpo(version, location_count=1, update_interval=0.2, cdr_fault=cdr_fault)
    evse_id = push_stations(cpo)
    created = httpx.post(
        f"{live_server.url}/api/v1/checkouts",
        json={"evse_id": evse_id, "connector_id": "1", "email": email, "locale": locale},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    method = confirm_card_setup(fake.base_url, body["setup_client_secret"], "4242424242424242")
    paid = httpx.post(
        f"{live_server.url}/api/v1/checkouts/{body['id']}/pay",
        json={"payment_method": method["payment_method"]},
        timeout=60,
    )
    assert paid.status_code == 200, paid.text
    checkout = Checkout.objects.get(public_id=body["id"])
    wait_until(lambda: status_of(checkout.pk) == "charging", timeout=20)
    cpo.end_session(cpo.wait_for_session("ACTIVE")["id"])
    wait_until(lambda: status_of(checkout.pk) == "settled", timeout=20)
    return Checkout.objects.get(pk=checkout.pk)


def status_of(pk: int) -> str:
    return Checkout.objects.values_list("status", flat=True).get(pk=pk)


def captured(checkout: Checkout) -> Decimal:
    minor = sum(e.amount_minor for e in checkout.ledger.filter(kind="capture"))
    return Decimal(minor).scaleb(-2)
