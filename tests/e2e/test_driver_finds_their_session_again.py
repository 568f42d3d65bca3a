"""A driver pays, charges, closes the tab and scans the charger's QR code again: the phone
leads them back to their live session, not to "occupied". Another driver scanning the same
charger reads that it is occupied, and sees nothing of the first driver's session. On the live
page the driver can have the link e-mailed to them.

The CPO simulator is registered with us and has pushed its stations; Celery tasks run where
they are enqueued; the session runs in real time."""

import re
from collections.abc import Callable

import pytest
from django.core import mail
from playwright.sync_api import expect

from cpo_simulator import CpoSimulator
from tests.e2e.conftest import Phone
from tests.payments.charging import push_stations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_closing_the_tab_and_scanning_again_leads_back_to_the_live_session(
    phone: Phone, connected_cpo: Callable[..., CpoSimulator], eager_tasks: None
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.3)
    evse_id = push_stations(cpo)
    driver = phone()
    public_id = driver.pays_and_charges(evse_id)
    driver.screenshot("1-charging")

    context = driver.page.context
    driver.page.close()  # the tab is gone; the phone keeps its cookies
    driver.page = context.new_page()
    page = driver.page
    page.goto(f"{driver.base_url}/charge/{evse_id}/")  # the QR code again
    expect(page).to_have_url(re.compile(rf"/checkout/{public_id}/$"))
    expect(page.get_by_role("status").first).to_have_text("Charging")
    expect(page.get_by_role("button", name="Stop charging")).to_be_visible()
    driver.screenshot("2-back-on-the-live-page")

    page.goto(f"{driver.base_url}/charge/")  # the site's front door leads there too
    expect(page).to_have_url(re.compile(rf"/checkout/{public_id}/$"))

    page.get_by_label("Send me the link to this page by e-mail").fill("driver@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_text("The link is on its way to your e-mail.")).to_be_visible()
    (message,) = mail.outbox
    assert f"/checkout/{public_id}/" in message.body
    driver.screenshot("3-link-sent")

    other = phone()
    other.page.goto(f"{other.base_url}/charge/{evse_id}/")
    expect(
        other.page.get_by_text(
            "This charger cannot be paid for now: another vehicle is charging there."
        )
    ).to_be_visible()
    expect(other.page.locator("#pay")).to_have_count(0)
    assert public_id not in other.page.content()
    other.screenshot("4-another-driver")
