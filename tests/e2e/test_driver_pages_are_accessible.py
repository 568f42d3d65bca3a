"""axe-core finds nothing on any page a driver sees, in English and in German: the charger page
(Payment Element, the details opened), the live page, the receipt and the receipt still to
come, a charger that cannot be paid for, the charger search and the chargers near a place, the
legal pages, an unknown charger, an unknown payment and a page that does not exist. Each is kept
as a phone-sized screenshot."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from cpo_simulator import CpoSimulator
from stations.models import Evse
from tests.e2e.accessibility import assert_accessible
from tests.e2e.conftest import VISA, Phone
from tests.payments.charger import EVSE_ID
from tests.payments.visit import settled
from tests.support.localstripe import FakeStripe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAY = {"en-GB": "Pay and start charging", "de-DE": "Bezahlen und Laden starten"}
TERMS = {
    "en-GB": "I accept the terms of use and the price shown above.",
    "de-DE": "Ich akzeptiere die Nutzungsbedingungen und den oben genannten Preis.",
}


@pytest.mark.parametrize("locale", PAY)
def test_every_driver_page_has_no_accessibility_violation(
    phone: Phone,
    stripe_settings: FakeStripe,
    connected_cpo: Callable[..., CpoSimulator],
    live_server: Any,
    eager_tasks: None,
    locale: str,
) -> None:
    receipt = settled(connected_cpo, live_server, stripe_settings, locale=locale[:2])
    driver = phone(locale=locale)
    page = driver.page
    driver.use_payment_element(stripe_settings)

    def check(name: str, path: str | None = None) -> None:
        if path is not None:
            page.goto(driver.base_url + path)
        driver.screenshot(f"{locale}-{name}")
        assert_accessible(page)

    driver.open_charger()
    check("charger")
    page.locator("details#invoice > summary").click()
    page.locator("details#more > summary").click()
    check("charger-details-open")

    driver.type_into_payment_element(VISA)
    page.get_by_label(TERMS[locale]).check()
    page.get_by_role("button", name=PAY[locale]).click()
    expect(page).to_have_url(re.compile(r"/checkout/[^/]+/$"))
    check("live")
    paid = page.url.rstrip("/").rsplit("/", 1)[-1]
    check("receipt-to-come", f"/checkout/{paid}/receipt/")
    check("receipt", f"/checkout/{receipt.public_id}/receipt/")

    Evse.objects.filter(evse_id=EVSE_ID).update(status=Evse.Status.CHARGING)
    check("charger-occupied", f"/charge/{EVSE_ID}/")
    check("charger-search", "/charge/")
    check("chargers-nearby", "/charge/?place=Amsterdam")
    expect(page.locator("ol.nearby li").first).to_be_visible()
    for kind in ("terms", "imprint", "privacy", "support"):
        check(f"legal-{kind}", f"/legal/{kind}/")
    check("unknown-charger", "/charge/NO*SUCH*CHARGER/")
    check("unknown-payment", "/checkout/no-such-payment/")
    check("no-such-page", "/no-such-page/")
