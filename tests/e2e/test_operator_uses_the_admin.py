"""An operator signs in to the admin and works a list with its scripts (select all, the action
counter), all under the Content-Security-Policy: nothing it needs is refused (the `phone`
fixture fails the test on any refusal the browser reports)."""

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.e2e.conftest import Phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_signs_in_and_selects_evses(phone: Phone) -> None:
    User.objects.create_superuser("operator", "", "secret-pass")
    driver = phone()
    page = driver.page
    page.goto(f"{driver.base_url}/admin/")
    page.get_by_label("Username:").fill("operator")
    page.get_by_label("Password:").fill("secret-pass")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=re.compile("Site administration"))).to_be_visible()
    page.goto(f"{driver.base_url}/admin/stations/evse/")
    page.locator("#action-toggle").check()  # admin/js/actions.js counts what is selected
    expect(page.locator(".action-counter")).to_have_text(re.compile(r"^1 of 1 selected$"))
    driver.screenshot("evse-list")
