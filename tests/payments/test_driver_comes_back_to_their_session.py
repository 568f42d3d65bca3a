"""The browser that paid remembers its checkout: scanning the same charger again (or opening
`/charge/`) while it charges leads back to the live page, not to "occupied: another vehicle is
charging". Nobody else is led to it: not another browser, not a made-up cookie."""

import pytest
from django.test import Client

from payments.models import Checkout
from stations.models import Evse
from tests.payments.charger import EVSE_ID, charger
from tests.payments.paying import VISA, card, pay, started

pytestmark = pytest.mark.django_db

COOKIE = "own_checkouts"


def paid_and_charging(client: Client, fake) -> str:
    """The driver pays; the charger then reports itself CHARGING, as the CPO pushes it."""
    checkout = started(client)
    status, _ = pay(client, checkout["id"], card(fake, checkout["setup_client_secret"], VISA))
    assert status == 200
    Evse.objects.filter(evse_id=EVSE_ID).update(status="CHARGING")
    Checkout.objects.filter(public_id=checkout["id"]).update(status="charging")
    return checkout["id"]


def test_it_leads_the_driver_back_to_the_live_page(client: Client, stripe_settings) -> None:
    charger()
    public_id = paid_and_charging(client, stripe_settings)
    live = client.get(f"/checkout/{public_id}/")
    cookie = live.cookies[COOKIE]
    assert cookie.value == public_id
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"
    assert cookie["path"] == "/charge/"

    again = client.get(f"/charge/{EVSE_ID}/")
    assert again.status_code == 302 and again["Location"] == f"/checkout/{public_id}/"
    assert "Cookie" in again["Vary"]
    lookup = client.get("/charge/")
    assert lookup.status_code == 302 and lookup["Location"] == f"/checkout/{public_id}/"


def test_it_shows_another_driver_only_that_the_charger_is_occupied(
    client: Client, stripe_settings
) -> None:
    charger()
    public_id = paid_and_charging(client, stripe_settings)
    client.get(f"/checkout/{public_id}/")
    guessing = Client()
    guessing.cookies[COOKIE] = "x" * 32 + ".not-a-checkout"
    for stranger in (Client(), guessing):
        page = stranger.get(f"/charge/{EVSE_ID}/", HTTP_ACCEPT_LANGUAGE="en")
        html = page.content.decode()
        assert page.status_code == 200 and "another vehicle is charging there." in html
        assert public_id not in html
    assert Client().get("/charge/").status_code == 200


def test_it_no_longer_leads_back_once_the_session_is_over(client: Client, stripe_settings) -> None:
    charger()
    public_id = paid_and_charging(client, stripe_settings)
    client.get(f"/checkout/{public_id}/")
    Checkout.objects.filter(public_id=public_id).update(status="finished")
    Evse.objects.filter(evse_id=EVSE_ID).update(status="AVAILABLE")
    page = client.get(f"/charge/{EVSE_ID}/")
    assert page.status_code == 200 and 'id="pay"' in page.content.decode()


def test_it_keeps_the_newest_few_sessions_of_the_browser(client: Client, stripe_settings) -> None:
    charger()
    public_id = paid_and_charging(client, stripe_settings)
    client.cookies[COOKIE] = ".".join(f"old{n}" for n in range(5))
    kept = client.get(f"/checkout/{public_id}/").cookies[COOKIE].value.split(".")
    assert kept == [public_id, "old0", "old1"]


def test_an_unpaid_checkout_sets_no_cookie(client: Client, stripe_settings) -> None:
    charger()
    checkout = started(client)
    assert COOKIE not in client.get(f"/checkout/{checkout['id']}/").cookies
