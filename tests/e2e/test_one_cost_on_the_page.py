"""One cost on the driver's page, from the charging to the money taken: against a CPO that bills
10 % above the price it published, the live page shows the price shown (what the driver will
pay) with a sentence naming the operator's figure; once the session is finished the cost stays
put, and once the CDR is settled the page shows that same cost, taken from the card, and what
the operator billed.

As in `test_charge_and_stop`: the simulator is registered with us and has pushed its stations,
Celery tasks run where they are enqueued, simulated time runs 600 times faster; its CDR comes
two seconds after the session ends, so the finished page is seen before the settled one."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from cpo_simulator import CpoSimulator
from payments.models import Checkout
from tests.e2e.conftest import Phone
from tests.payments.charging import push_stations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EUROS = r"€\d+\.\d{2}"


def test_the_driver_reads_one_cost_while_charging_and_once_paid(
    phone: Phone, connected_cpo: Callable[..., CpoSimulator], eager_tasks: None
) -> None:
    cpo = connected_cpo(
        location_count=1,
        update_interval=0.3,
        time_scale=600,
        session_cost="marked_up",
        cdr_fault="wrong_total",
        cdr_delay=2.0,
    )
    evse_id = push_stations(cpo)
    driver = phone()
    page = driver.page
    public_id = driver.pays_and_charges(evse_id)
    status, cost, note = (
        page.get_by_role("status"),
        page.locator("#cost"),
        page.locator("#cost-note"),
    )
    expect(note).to_have_text(
        re.compile(
            rf"^The operator's figure is {EUROS}; you pay the price you were shown, {EUROS}\.$"
        )
    )
    live_note = note.inner_text()
    assert live_note.endswith(f", {cost.inner_text()}.")  # the cost shown is what the driver pays
    driver.screenshot("1-charging")

    driver.stop_charging()
    expect(status).to_have_text("Finished")
    finished = cost.inner_text()
    assert re.fullmatch(EUROS, finished), finished
    driver.screenshot("2-finished")

    expect(status).to_have_text("Paid")
    expect(cost).to_have_text(finished)  # the same cost, now the amount taken
    expect(page.locator("#taken-amount")).to_have_text(finished)
    expect(note).to_have_text(
        re.compile(
            rf"^The operator billed {EUROS}; you pay the price you were shown, {finished}\.$"
        )
    )
    driver.screenshot("3-paid")
    checkout = Checkout.objects.get(public_id=public_id)
    assert f"€{checkout.ledger.get(kind='capture').amount_minor / 100:.2f}" == finished
