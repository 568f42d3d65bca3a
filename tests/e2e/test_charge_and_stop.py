"""The whole visit at a simulated CPO's charger: the driver pays, the live page says the car is
charging and the energy rises, the driver presses stop and reads that it is finished.

The CPO simulator is registered with us and has pushed its stations; Celery tasks run where they
are enqueued, so START_SESSION goes out the moment the hold is placed, and STOP_SESSION the moment
the driver presses stop. Simulated time runs 600 times faster, so energy rises within seconds."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, expect

from cpo_simulator import CpoSimulator
from payments.models import Checkout, LedgerEntry
from tests.e2e.conftest import Phone
from tests.payments.charging import push_stations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KWH = re.compile(r"^\d{1,3}(,\d{3})*(\.\d{1,2})? kWh$")  # as the page writes it for en


def kwh(energy: Locator) -> float:
    text = energy.inner_text()
    assert KWH.match(text), f"energy not readable: {text!r}"
    return float(text.removesuffix(" kWh").replace(",", ""))


def test_the_driver_sees_the_energy_rise_and_stops_charging(
    phone: Phone, connected_cpo: Callable[..., CpoSimulator], eager_tasks: None
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.3, time_scale=600)
    evse_id = push_stations(cpo)
    driver = phone()
    page = driver.page
    public_id = driver.pays_and_charges(evse_id)
    status = page.get_by_role("status")
    energy = page.locator("#energy")
    # A readable figure above zero: the CPO's first Session push is in.
    expect(energy).to_have_text(re.compile(r"^(?!0 kWh)" + KWH.pattern[1:]))
    first_text = energy.inner_text()
    first = kwh(energy)
    expect(energy).not_to_have_text(first_text)  # a later poll brings more
    second = kwh(energy)
    assert second > first > 0
    expect(page.locator("#duration")).to_have_text(re.compile(r"^(\d+ h \d{2} min|\d{1,2} s)$"))
    expect(page.locator("#cost")).to_have_text(re.compile(r"^€\d+\.\d{2}$"))
    expect(page.locator("#held-amount")).to_have_text(re.compile(r"^€\d+\.\d{2}$"))
    stop = page.get_by_role("button", name="Stop charging")
    expect(stop).to_be_visible()
    driver.screenshot("1-charging")

    stop.click()
    expect(page.get_by_text("Stop charging now?")).to_be_visible()
    with page.expect_response(lambda answer: answer.url.endswith("/stop")) as stopped:
        page.get_by_role("button", name="Yes, stop charging").click()
    assert (stopped.value.status, stopped.value.json()["status"]) == (202, "stopping")
    expect(status).to_have_text("Finished")
    expect(stop).to_be_hidden()
    assert kwh(energy) >= second
    driver.screenshot("2-finished")

    checkout = Checkout.objects.get(public_id=public_id)
    assert checkout.status == Checkout.Status.FINISHED
    assert (checkout.evse.evse_id, checkout.stop_reason) == (evse_id, "driver")
    assert [c.command for c in cpo.commands] == ["START_SESSION", "STOP_SESSION"]
    assert LedgerEntry.objects.filter(checkout=checkout, kind="hold").count() == 1
