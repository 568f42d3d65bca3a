"""The terms of use, imprint, privacy policy and support page are a tap away on every page the
driver sees, from the charger page (where "terms of use" by the Pay button is itself a link) to
the live page and the receipt; each shows what the operator wrote, in the driver's language."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from cpo_simulator import CpoSimulator
from payments.models import LegalPage
from tests.e2e.conftest import Phone
from tests.payments.charging import push_stations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLES = ("Terms of use", "Imprint", "Privacy policy", "Support")


def footer_links(page: Page) -> None:
    legal = page.get_by_role("navigation", name="Legal")
    for title in TITLES:
        expect(legal.get_by_role("link", name=title, exact=True)).to_be_visible()


def test_the_legal_pages_are_linked_from_every_driver_page_and_the_receipt(
    phone: Phone, connected_cpo: Callable[..., CpoSimulator], eager_tasks: None
) -> None:
    LegalPage.objects.create(
        kind="terms",
        text_en="Charging is paid by card.\n\nQuestions: help@example.org",
        text_de="Laden wird per Karte bezahlt.",
    )
    LegalPage.objects.create(kind="support", text_en="Call +49 30 1234567, day and night.")
    cpo = connected_cpo(location_count=1, update_interval=0.3, time_scale=600, cdr_fault=None)
    evse_id = push_stations(cpo)
    driver = phone()
    page = driver.page

    page.goto(f"{driver.base_url}/charge/")
    footer_links(page)
    driver.open_charger(evse_id)
    footer_links(page)
    terms = page.locator("#pay").get_by_role("link", name="terms of use")
    expect(terms).to_have_attribute("href", "/legal/terms/")
    driver.screenshot("1-charger-page")

    public_id = driver.pays_and_charges(evse_id)
    footer_links(page)
    driver.stop_charging()
    expect(page.get_by_role("status").first).to_have_text("Paid")
    page.get_by_role("link", name="Your receipt").click()
    expect(page).to_have_url(re.compile(rf"/checkout/{public_id}/receipt/$"))
    footer_links(page)
    driver.screenshot("2-receipt")

    page.get_by_role("navigation", name="Legal").get_by_role("link", name="Terms of use").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Terms of use")
    expect(page.get_by_text("Charging is paid by card.")).to_be_visible()
    expect(page.get_by_role("link", name="help@example.org")).to_have_attribute(
        "href", "mailto:help@example.org"
    )
    driver.screenshot("3-terms")
    page.get_by_role("button", name="Deutsch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nutzungsbedingungen")
    expect(page.get_by_text("Laden wird per Karte bezahlt.")).to_be_visible()
    page.get_by_role("navigation", name="Rechtliches").get_by_role(
        "link", name="Hilfe und Kontakt"
    ).click()
    expect(page.get_by_text("Call +49 30 1234567, day and night.")).to_be_visible()
    driver.screenshot("4-support-in-english-only")
