"""A driver pays at a simulated CPO's charger over real HTTP, with Celery tasks running where
they are enqueued, so START_SESSION goes out the moment the hold is confirmed."""

from __future__ import annotations

from datetime import timedelta

import httpx
from django.utils import timezone

from payments import tasks
from payments.models import Checkout, Deadline
from tests.helpers import wait_until
from tests.support.localstripe import confirm_card_setup


def push_stations(cpo) -> str:
    """The CPO pushes its first location and tariffs; returns the first EVSE's id."""
    assert cpo.push_location(0).json()["status_code"] == 1000
    for tariff_id in ("TARIFF-AC", "TARIFF-DC"):
        cpo.push_tariff(tariff_id)
    return cpo.location(0)["evses"][0]["evse_id"]


def pay(base_url: str, fake, evse_id: str) -> Checkout:
    created = httpx.post(
        f"{base_url}/api/v1/checkouts", json={"evse_id": evse_id, "connector_id": "1"}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    method = confirm_card_setup(fake.base_url, body["setup_client_secret"], "4242424242424242")[
        "payment_method"
    ]
    paid = httpx.post(
        f"{base_url}/api/v1/checkouts/{body['id']}/pay", json={"payment_method": method}, timeout=60
    )
    assert paid.status_code == 200, paid.text
    return Checkout.objects.get(public_id=body["id"])


def status_of(checkout: Checkout) -> str:
    return Checkout.objects.values_list("status", flat=True).get(pk=checkout.pk)


def reaches(checkout: Checkout, status: str, timeout: float = 20) -> Checkout:
    wait_until(lambda: status_of(checkout) == status, timeout=timeout)
    return Checkout.objects.get(pk=checkout.pk)


def fall_due(checkout: Checkout, kind: str) -> None:
    """Let a deadline fall due now, and sweep as beat would."""
    Deadline.objects.filter(checkout=checkout, kind=kind, done_at=None).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )
    tasks.sweep_deadlines()
