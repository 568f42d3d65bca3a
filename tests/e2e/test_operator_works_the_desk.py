"""An operator of the finance team at the desk, in the browser: finds a settled checkout by
the authorization reference, the receipt number and the card's last 4 digits; refunds part of
it, which needs an amount typed in and a confirmation that says who bears it; and downloads the
export of a run of days, whose receipt number, VAT and fee columns are there and whose sums are
the ledger's."""

import csv
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone
from playwright.sync_api import Page, expect

from ocpi_peer.models import Partner
from payments.models import Checkout, LedgerEntry, receipt_number
from tests.e2e.conftest import Driver, Phone
from tests.payments.ledger_rows import book, checkout_of
from tests.payments.settling import settled
from tests.support.roles import PASSWORD, staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESK = {"width": 1280, "height": 900}


def sign_in(driver: Driver) -> Page:
    staff("fiona", "finance")
    page = driver.page
    page.set_viewport_size(DESK)
    page.goto(f"{driver.base_url}/admin/")
    page.get_by_label("Username:").fill("fiona")
    page.get_by_label("Password:").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=re.compile("Site administration"))).to_be_visible()
    return page


def search(page: Page, base_url: str, term: str) -> None:
    page.goto(f"{base_url}/admin/payments/checkout/")
    page.locator("#searchbar").fill(term)
    page.get_by_role("button", name="Search").click()


def ledger_total(kind: str) -> Decimal:
    minor = LedgerEntry.objects.filter(kind=kind).aggregate(s=Sum("amount_minor"))["s"] or 0
    return Decimal(minor) / 100


def test_it_finds_refunds_and_exports_a_checkout(
    phone: Phone, connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    other = checkout_of(Partner.objects.get(name="Test CPO"), "REF-OTHER")
    Checkout.objects.filter(pk=other.pk).update(card_last4="0005")
    for kind, minor in (("hold", 5000), ("capture", 990), ("release", 4010), ("payable", 990)):
        book(other, kind, minor, timezone.now())
    driver = phone()
    page = sign_in(driver)

    for term in (checkout.authorization_reference, receipt_number(checkout), "4242"):
        search(page, driver.base_url, str(term))
        expect(page.locator("#result_list tbody tr")).to_have_count(1)
        expect(page.locator("#result_list tbody")).to_contain_text(checkout.stripe_payment_intent)
    driver.screenshot("1-found-by-last-4")

    page.locator("#result_list tbody a").first.click()
    expect(page.get_by_role("link", name="receipt")).to_be_visible()
    page.get_by_role("link", name="Refund", exact=True).click()
    expect(page.get_by_label("Amount (EUR):")).to_have_value("")  # nothing suggested
    page.get_by_label("Reason:").fill("the charger stopped early")
    page.get_by_label("the CPO (deducted from what we owe it)").check()
    page.get_by_role("button", name="Continue").click()
    amount = page.get_by_label("Amount (EUR):")
    assert amount.evaluate("field => field.validity.valueMissing")  # the browser asks for it
    expect(page).to_have_url(re.compile(r"/refund/$"))
    amount.fill("0.01")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#refund-amount")).to_have_text("Refund €0.01 to the driver?")
    expect(page.locator("#refund-consequences")).to_contain_text(
        "The CPO bears it: we will owe Pushing CPO"
    )
    assert not checkout.refunds.exists()  # nothing moved before the confirmation
    driver.screenshot("2-confirm-refund")
    page.get_by_role("button", name="Yes, refund").click()
    expect(page.locator(".messagelist")).to_contain_text(
        "refund of €0.01, borne by the CPO, requested"
    )
    refund = checkout.refunds.get()
    assert (refund.amount_minor, refund.borne_by, refund.status) == (1, "cpo", "refunded")
    assert checkout.ledger.get(kind="payable", refund=refund).amount_minor == -1
    driver.screenshot("3-refunded")

    today = timezone.localdate()
    page.goto(f"{driver.base_url}/admin/payments/checkout/settlement/")
    page.get_by_label("From:").fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("To:").fill(today.isoformat())
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    with open(download.value.path(), encoding="utf-8") as export:
        rows = list(csv.DictReader(export))
    mine = next(row for row in rows if row["checkout_id"] == str(checkout.pk))
    assert mine["receipt_number"] == receipt_number(checkout)
    assert Decimal(mine["vat_in_paid"]) > 0 and mine["refunds_borne_by_cpo"] == "0.01"
    paid, owed = Decimal(mine["paid_by_driver"]), Decimal(mine["owed_to_cpo"])
    assert Decimal(mine["platform_fee"]) == paid - owed
    (total,) = [row for row in rows if row["checkout_id"] == "total"]
    for column, kind in (
        ("held", "hold"),
        ("captured", "capture"),
        ("released", "release"),
        ("refunded", "refund"),
        ("owed_to_cpo", "payable"),
    ):
        assert Decimal(total[column]) == ledger_total(kind), column
    assert {row["checkout_id"] for row in rows} == {str(checkout.pk), str(other.pk), "total"}
