"""The whole visit, to the end: the driver pays, charges, stops; the CPO sends its CDR (with
signed meter values), we capture and release the rest; the live page says what was taken and
what was freed on the card, and its link opens the receipt with the amount paid.

As in `test_charge_and_stop`: the simulator is registered with us and has pushed its stations,
Celery tasks run where they are enqueued, simulated time runs 600 times faster."""

import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from cpo_simulator import CpoSimulator
from payments.models import Checkout
from tests.e2e.conftest import Phone
from tests.payments.charging import push_stations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def euros(minor: int) -> str:
    return f"€{Decimal(minor).scaleb(-2):.2f}"


def test_the_driver_charges_and_ends_on_the_receipt_with_the_amount_paid(
    phone: Phone, connected_cpo: Callable[..., CpoSimulator], eager_tasks: None
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.3, time_scale=600, cdr_fault=None)
    evse_id = push_stations(cpo)
    driver = phone()
    page = driver.page
    public_id = driver.pays_and_charges(evse_id)
    status = page.get_by_role("status")
    expect(page.locator("#energy")).to_have_text(re.compile(r"^(?!0 kWh)\d"))
    driver.stop_charging()

    # The CDR comes, the checkout settles: the page keeps asking until it does.
    expect(status).to_have_text("Paid")
    checkout = Checkout.objects.get(public_id=public_id)
    assert checkout.status == Checkout.Status.SETTLED
    moved = {e.kind: e.amount_minor for e in checkout.ledger.all()}
    assert moved["capture"] > 0 and moved["capture"] + moved["release"] == moved["hold"] == 5000
    expect(page.locator("#taken-amount")).to_have_text(euros(moved["capture"]))
    expect(page.locator("#released-amount")).to_have_text(euros(moved["release"]))
    driver.screenshot("1-paid")

    page.get_by_role("link", name="Your receipt").click()
    expect(page).to_have_url(re.compile(rf"/checkout/{public_id}/receipt/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Receipt for charging")
    expect(page.locator("#total-paid")).to_have_text(euros(moved["capture"]))
    expect(page.locator("#total")).to_have_text(euros(moved["capture"]))
    expect(page.locator("#calibration")).to_have_attribute("data-verdict", "valid")
    expect(page.get_by_text(checkout.authorization_reference or "?")).to_be_visible()
    driver.screenshot("2-receipt")

    href = page.get_by_role("link", name="Download as PDF").get_attribute("href")
    pdf = page.request.get(f"{driver.base_url}{href}")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
