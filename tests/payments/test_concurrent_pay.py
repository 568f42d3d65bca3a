"""Two `pay` requests for one checkout at the same moment place one hold: the row lock and the
recorded attempt decide, not luck. Row locks need PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.db import connection

from payments.models import Checkout, LedgerEntry
from tests.payments.charger import EVSE_ID, charger
from tests.support.localstripe import confirm_card_setup

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks (select_for_update) need PostgreSQL; SQLite ignores them")


def test_simultaneous_pays_place_one_hold(live_server, stripe_settings) -> None:
    charger()
    base = live_server.url
    checkout = httpx.post(
        f"{base}/api/v1/checkouts", json={"evse_id": EVSE_ID, "connector_id": "1"}
    ).json()
    method = confirm_card_setup(
        stripe_settings.base_url, checkout["setup_client_secret"], "4242424242424242"
    )["payment_method"]

    def pay(_: int) -> httpx.Response:
        return httpx.post(
            f"{base}/api/v1/checkouts/{checkout['id']}/pay",
            json={"payment_method": method},
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(pay, range(4)))
    assert {a.status_code for a in answers} <= {200, 409}
    assert any(a.status_code == 200 and a.json()["status"] == "authorized" for a in answers)
    assert LedgerEntry.objects.filter(kind="hold").count() == 1
    intents = httpx.get(
        f"{stripe_settings.base_url}/v1/payment_intents",
        headers={"Authorization": f"Bearer {stripe_settings.secret_key}"},
        params={"limit": 100},
    ).json()["data"]
    assert len([i for i in intents if i["metadata"].get("checkout") == checkout["id"]]) == 1
    assert Checkout.objects.get(public_id=checkout["id"]).status == "authorized"
