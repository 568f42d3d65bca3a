"""A driver's whole visit over real HTTP, for the receipt tests: paid (with an email and a
locale), charged at a simulated CPO, ended, and settled by the CPO's own CDR."""

from __future__ import annotations

from decimal import Decimal

import httpx

from payments.models import ChargingSession, Checkout
from tests.helpers import wait_until
from tests.payments.charging import push_stations
from tests.support.localstripe import confirm_card_setup


def settled(
    connected_cpo,
    live_server,
    fake,
    *,
    cdr_fault=None,
    email="",
    locale="en",
    version="2.2.1",
    invoice=None,
    kwh=None,
    **cpo_options,
) -> Checkout:
    """A checkout paid (with `email` and `locale`, and the `invoice` details when given),
    charged (to at least `kwh` when given) and settled by the CPO's CDR."""
    cpo = connected_cpo(
        version, location_count=1, update_interval=0.2, cdr_fault=cdr_fault, **cpo_options
    )
    evse_id = push_stations(cpo)
    request = {"evse_id": evse_id, "connector_id": "1", "email": email, "locale": locale}
    if invoice is not None:
        request["invoice"] = invoice
    created = httpx.post(f"{live_server.url}/api/v1/checkouts", json=request)
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
    session = cpo.wait_for_session("ACTIVE")
    if kwh is not None:
        wait_until(lambda: charged_kwh(checkout.pk) >= kwh, timeout=20)
    cpo.end_session(session["id"])
    wait_until(lambda: status_of(checkout.pk) == "settled", timeout=20)
    return Checkout.objects.get(pk=checkout.pk)


def charged_kwh(pk: int) -> Decimal:
    return max(
        ChargingSession.objects.filter(checkout_id=pk).values_list("kwh", flat=True),
        default=Decimal(0),
    )


def status_of(pk: int) -> str:
    return Checkout.objects.values_list("status", flat=True).get(pk=pk)


def captured(checkout: Checkout) -> Decimal:
    minor = sum(e.amount_minor for e in checkout.ledger.filter(kind="capture"))
    return Decimal(minor).scaleb(-2)
