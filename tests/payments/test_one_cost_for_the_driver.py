"""The driver sees one cost: what they will be charged. Against a CPO whose Sessions and CDR bill
10 % above the price it published, the live page shows the price shown on the Session's
quantities (the min rule settlement applies) and says what the operator's figure is; once
settled, the cost is the amount taken from the card and the page says what the operator billed,
in the driver's language. Over real HTTP with a simulated CPO."""

import re
from decimal import Decimal

import httpx
import pytest

from payments.models import Cdr
from tests.helpers import wait_until
from tests.payments.charging import pay, push_stations, reaches

pytestmark = pytest.mark.django_db(transaction=True)

AMOUNT = r"€(\d+\.\d{2})"
LIVE_NOTE = re.compile(
    rf"^The operator's figure is {AMOUNT}; you pay the price you were shown, {AMOUNT}\.$"
)
SETTLED_NOTE = re.compile(
    rf"^The operator billed {AMOUNT}; you pay the price you were shown, {AMOUNT}\.$"
)


def test_it_shows_what_the_driver_pays_and_what_the_operator_billed(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(
        location_count=1,
        update_interval=0.2,
        time_scale=600,
        session_cost="marked_up",
        cdr_fault="wrong_total",
    )
    checkout = reaches(pay(live_server.url, stripe_settings, push_stations(cpo)), "charging")
    url = f"{live_server.url}/api/v1/checkouts/{checkout.public_id}"

    def differing() -> dict | None:
        session = httpx.get(url).json()["session"]
        if session and session["cost"] and session["operator_cost"] != session["cost"]:
            return session
        return None

    session = wait_until(differing, timeout=20)
    assert Decimal(session["operator_cost"]) > Decimal(session["cost"]) > 0
    operator, pays = LIVE_NOTE.match(session["cost_note"]).groups()
    assert (operator, pays) == (session["operator_cost"], session["cost"])

    httpx.post(f"{url}/stop")
    checkout = reaches(checkout, "settled", timeout=30)
    body = httpx.get(url).json()
    cdr = Cdr.objects.get(checkout=checkout)
    paid = body["session"]["cost"]
    assert paid == body["amount_captured"]  # the cost shown is the amount taken
    assert Decimal(paid) < cdr.total_cost_incl_vat
    billed = f"{cdr.total_cost_incl_vat:.2f}"
    assert body["session"]["operator_cost"] == billed
    operator, pays = SETTLED_NOTE.match(body["session"]["cost_note"]).groups()
    assert (operator, pays) == (billed, paid)

    page = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/").text
    assert body["session"]["cost_note"] in page
    german = httpx.get(
        f"{live_server.url}/checkout/{checkout.public_id}/", headers={"Accept-Language": "de"}
    ).text
    euro = paid.replace(".", ",")
    assert f"Sie zahlen den Ihnen angezeigten Preis, {euro} €." in german
    assert f'<dd id="cost">{euro} €</dd>' in german


def test_it_shows_the_operators_figure_alone_when_it_is_what_the_driver_pays(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2, time_scale=600)
    checkout = reaches(pay(live_server.url, stripe_settings, push_stations(cpo)), "charging")
    url = f"{live_server.url}/api/v1/checkouts/{checkout.public_id}"
    session = wait_until(lambda: httpx.get(url).json()["session"], timeout=20)
    assert session["cost"] == session["operator_cost"] and session["cost_note"] == ""
