"""An operator's morning at the desk, in the browser: a driver has paid and is charging; the
operator (operations) finds the checkout on the front page's dashboard and follows its figure
to the checkout, checks the CPO's connection and reads what was learnt about its CPMS, then
reads one exchange of the traffic log in full, with no way to delete it."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from cpo_simulator import CpoSimulator
from ocpi_peer.models import Partner
from payments.models import Checkout
from tests.e2e.conftest import Phone
from tests.e2e.test_operator_roles import sign_in
from tests.payments.charging import push_stations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESK = {"width": 1280, "height": 900}


def test_the_operator_follows_the_dashboard_checks_the_cpo_and_reads_the_traffic(
    phone: Phone, connected_cpo: Callable[..., CpoSimulator], eager_tasks: None
) -> None:
    cpo = connected_cpo(location_count=3, page_size=2, update_interval=0.3)
    evse_id = push_stations(cpo)
    public_id = phone().pays_and_charges(evse_id)
    checkout = Checkout.objects.get(public_id=public_id)

    operator = phone()
    page = operator.page
    page.set_viewport_size(DESK)
    sign_in(operator, "olga", "operations")

    # The dashboard counts the checkout today, started, its hold outstanding.
    figures = page.locator("#dashboard-figures")
    expect(figures.locator("#figure-checkouts td").first).to_have_text("1")
    expect(figures.locator("#figure-started td").first).to_have_text("1")
    expect(figures.locator("#figure-start-success td").first).to_have_text("100.0 %")
    expect(figures.locator("#figure-holds")).to_contain_text("1 checkout: €50.00")
    expect(page.locator("#dashboard")).to_contain_text("UTC")
    expect(page.locator("#dashboard-chart rect")).to_have_count(30 * 4)
    expect(page.locator("#dashboard-partners")).to_contain_text("Pushing CPO")
    operator.screenshot("1-dashboard")

    figures.locator("#figure-started td a").first.click()
    expect(page).to_have_url(re.compile(r"/admin/payments/checkout/\?"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(evse_id)
    rows.first.locator("th a").click()
    expect(page).to_have_url(re.compile(rf"/admin/payments/checkout/{checkout.pk}/change/"))
    operator.screenshot("2-checkout-from-the-dashboard")

    # Check connection: the compatibility profile fills in.
    partner = Partner.objects.get(name="Pushing CPO")
    page.goto(f"{operator.base_url}/admin/ocpi_peer/partner/{partner.pk}/change/")
    expect(page.locator("#partner-health")).to_contain_text("their last successful call to us")
    page.get_by_role("button", name="Check connection").click()
    expect(page.locator(".messagelist")).to_contain_text("connection checked, works")
    findings = page.locator("#compatibility-findings")
    expect(findings).to_contain_text("Base64 token accepted")
    expect(findings).to_contain_text("capped at 2 (asked for 10)")
    expect(findings).to_contain_text('<absolute URL>; rel="next"')
    operator.screenshot("3-connection-checked")

    # The traffic log: the check's page of locations, in full, and no delete anywhere.
    page.goto(
        f"{operator.base_url}/admin/ocpi_peer/trafficlog/"
        f"?partner__id__exact={partner.pk}&direction__exact=out&module=locations"
    )
    expect(page.locator("#result_list")).to_contain_text("/locations?limit=10")
    expect(page.locator("select[name=action] option[value=delete_selected]")).to_have_count(0)
    operator.screenshot("4-traffic-log")
    page.locator("#result_list tbody tr").last.locator("th a").click()
    expect(page.locator("#exchange-request")).to_contain_text("GET http")
    expect(page.locator("#exchange-request")).to_contain_text("/locations?limit=10")
    expect(page.locator("#exchange-answer")).to_contain_text("HTTP 200 · OCPI 1000")
    expect(page.locator("#exchange-answer")).to_contain_text('"country_code"')
    expect(page.get_by_role("link", name="Delete")).to_have_count(0)
    expect(page.locator("input[name=_save]")).to_have_count(0)
    operator.screenshot("5-one-exchange")
