"""Operators with one role each sign in and do their job in the browser, and see no door to the
jobs of the other roles: operations invites a CPO; finance downloads the settlement export but
gets no "Invite a CPO"; support resolves a case but cannot open a refund."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from playwright.sync_api import Page, expect

from ocpi_peer.models import Partner
from payments.cases import open_case
from payments.models import Case
from tests.e2e.conftest import Driver, Phone
from tests.payments.ledger_rows import at, book, checkout_of
from tests.support.roles import PASSWORD, staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(driver: Driver, username: str, role: str) -> Page:
    staff(username, role)
    page = driver.page
    page.goto(f"{driver.base_url}/admin/")
    page.get_by_label("Username:").fill(username)
    page.get_by_label("Password:").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=re.compile("Site administration"))).to_be_visible()
    return page


def test_operations_invites_a_cpo(phone: Phone) -> None:
    driver = phone()
    page = sign_in(driver, "olga", "operations")
    page.get_by_role("link", name="Partners", exact=True).click()
    page.get_by_role("link", name="Invite a CPO").click()
    page.get_by_label("Name:").fill("New CPO")
    page.get_by_role("button", name="Create token A").click()
    expect(page.locator("#token-a")).not_to_be_empty()
    driver.screenshot("operations-invited")
    assert LogEntry.objects.get().object_repr == "New CPO"


def test_finance_downloads_the_settlement_export_and_cannot_invite(phone: Phone) -> None:
    book(checkout_of(Partner.objects.get(), "REF-ONE"), "capture", 1230, at(30, 10))
    driver = phone()
    page = sign_in(driver, "fiona", "finance")
    expect(page.get_by_role("link", name="Partners", exact=True)).to_have_count(0)
    page.get_by_role("link", name="Checkouts", exact=True).click()
    page.get_by_role("link", name="Settlement export (CSV)").click()
    page.get_by_label("From:").fill("2026-11-30")
    page.get_by_label("To:").fill("2026-11-30")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    with open(download.value.path(), encoding="utf-8") as csv_file:
        assert ",REF-ONE," in csv_file.read()
    invite = page.goto(f"{driver.base_url}/admin/ocpi_peer/partner/invite/")
    assert invite is not None and invite.status == 403
    expect(page.get_by_role("link", name="Invite a CPO")).to_have_count(0)


def test_support_resolves_a_case_and_cannot_open_refunds(phone: Phone) -> None:
    checkout = checkout_of(Partner.objects.get(), "REF-ONE")
    open_case(Case.Kind.MISSING_CDR, "no CDR came", key="missing:1", checkout=checkout)
    driver = phone()
    page = sign_in(driver, "sam", "support")
    page.get_by_role("link", name="Cases", exact=True).click()
    page.locator("input[name=_selected_action]").first.check()
    page.locator("select[name=action]").select_option("resolve")
    page.get_by_role("button", name="Go").click()
    page.get_by_label("Resolution:").fill("the CPO sent it late")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_text("1 case resolved")).to_be_visible()
    driver.screenshot("support-resolved")
    page.goto(f"{driver.base_url}/admin/payments/checkout/{checkout.pk}/change/")
    expect(page.get_by_role("link", name="Refund", exact=True)).to_have_count(0)
    refund = page.goto(f"{driver.base_url}/admin/payments/checkout/{checkout.pk}/refund/")
    assert refund is not None and refund.status == 403
