"""A driver's phone: headless Chromium (Debian's `chromium`, driven by Playwright's sync API)
against our live server and the fake Stripe, whose Stripe.js stand-in renders the card Element
as plain inputs (placeholders `number`, `exp_month`, `exp_year`, `cvc`, `postal_code`) and asks
for 3-D Secure in a box with the buttons "Complete authentication" / "Fail authentication".

With `Driver.use_payment_element()` a phone gets our own stand-in instead
(`stripe_payment_element.js`): the Payment Element and the Express Checkout Element as the page
uses them, against the same fake Stripe. `tests/e2e/accessibility.py` runs axe-core on a page.

Screenshots go to `test-artifacts/e2e/` at the repository root (git-ignored)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from playwright.sync_api import Locator, Page, expect, sync_playwright

from tests.payments.charger import EVSE_ID, charger
from tests.support.localstripe import FakeStripe

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
# Stripe.js with the Payment Element, as far as the charger page uses it (localstripe's own
# stand-in has only the card Element); `Driver.use_payment_element()` serves it.
PAYMENT_ELEMENT_JS = Path(__file__).with_name("stripe_payment_element.js")

# Exactly the flags the browser runs with; Playwright adds only what it needs to drive it
# (its pipe and a fresh profile), none of its own defaults.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
WAIT_MS = 10_000  # the longest any step may take (expect() polls until then)

VISA, DECLINED, THREE_DS = "4242424242424242", "4000000000000341", "4000002500003155"


@dataclass
class Driver:
    """A driver with a phone in hand, on our site. `errors` collects uncaught script errors and
    what the page's Content-Security-Policy refused (the browser says so on the console)."""

    page: Page
    base_url: str
    name: str
    errors: list[str] = field(default_factory=list)
    payment_element: bool = False

    def open_charger(self, evse_id: str = EVSE_ID) -> None:
        self.page.goto(f"{self.base_url}/charge/{evse_id}/")
        # Stripe.js is in: the card Element's five fields, or the Payment Element's three.
        expect(self.page.locator("#payment-element input")).to_have_count(
            3 if self.payment_element else 5
        )

    def use_payment_element(self, fake: FakeStripe) -> None:
        """From now on this phone gets our Stripe.js stand-in with the Payment Element instead
        of localstripe's, talking to the same fake Stripe."""
        script = PAYMENT_ELEMENT_JS.read_text().replace('"FAKE_STRIPE"', json.dumps(fake.base_url))
        self.page.route(
            fake.js_url,
            lambda route: route.fulfill(body=script, content_type="text/javascript"),
        )
        self.payment_element = True

    def type_into_payment_element(self, number: str) -> None:
        """Into the Payment Element, as the stand-in shows it: number, expiry, security code."""
        self.page.get_by_label("Card number").fill(number)
        self.page.get_by_label("Expiry (MM / YY)").fill("12 / 30")
        self.page.get_by_label("Security code").fill("123")

    def screenshot(self, what: str) -> Path:
        path = ARTIFACTS / f"{self.name}-{what}.png"
        self.page.screenshot(path=path, full_page=True)
        return path

    def card_input(self, field_name: str) -> Locator:
        return self.page.locator("#payment-element").get_by_placeholder(field_name, exact=True)

    def type_card(self, number: str) -> None:
        """Into the card Element, as the stand-in asks for it: number, MM, YY, CVC, postcode."""
        for name, value in [
            ("number", number),
            ("exp_month", "12"),
            ("exp_year", "30"),
            ("cvc", "123"),
            ("postal_code", "10115"),
        ]:
            self.card_input(name).fill(value)

    def fill_form(self, *, card: str, email: str = "driver@example.org") -> None:
        self.page.get_by_role("radio", name="Type 2 · 22 kW").check()
        self.open_receipt_details()
        self.page.get_by_label("E-mail for the receipt (optional)").fill(email)
        self.page.get_by_label("I accept the terms of use and the price shown above.").check()
        self.type_card(card)

    def open_receipt_details(self) -> None:
        """The e-mail and invoice fields are one tap away, under the card."""
        details = self.page.locator("details#invoice")
        if details.get_attribute("open") is None:
            details.locator("summary").click()

    def pay(self) -> None:
        self.page.get_by_role("button", name="Pay and start charging").click()

    def stop_charging(self) -> None:
        """Stop, and yes to the question the live page asks before it stops."""
        self.page.get_by_role("button", name="Stop charging").click()
        self.page.get_by_role("button", name="Yes, stop charging").click()

    def complete_3ds(self) -> None:
        # This dialog's own button: the next 3-D Secure step opens a new dialog with a button of
        # the same name, which a locator by role would take for this one still showing.
        button = self.page.get_by_role("button", name="Complete authentication").element_handle()
        button.click()
        button.wait_for_element_state("hidden")

    def pays_and_charges(self, evse_id: str) -> str:
        """Pays with the Visa test card at the charger and waits for "Charging"; returns the
        checkout's id."""
        self.open_charger(evse_id)
        self.fill_form(card=VISA)
        self.pay()
        expect(self.page).to_have_url(re.compile(r"/checkout/[^/]+/$"))
        expect(self.page.get_by_role("status")).to_have_text("Charging")
        return self.page.url.rstrip("/").rsplit("/", 1)[-1]

    def sees_payment_reserved(self) -> str:
        """Waits for the status page to say the hold is placed; returns the checkout's id."""
        expect(self.page).to_have_url(re.compile(r"/checkout/[^/]+/$"))
        expect(self.page.get_by_role("status")).to_have_text(
            "Payment reserved — your charger is being started"
        )
        expect(self.page.locator("#held")).to_have_text("Reserved on your card: €50.00")
        return self.page.url.rstrip("/").rsplit("/", 1)[-1]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.call_report = report  # type: ignore[attr-defined]
    return report


Phone = Callable[..., Driver]  # `phone(locale="de-DE")` opens a browser context


@pytest.fixture
def site(live_server: Any, settings: Any, stripe_settings: FakeStripe) -> str:
    """Our platform over real HTTP, with the fake Stripe and a payable charger."""
    settings.PUBLIC_BASE_URL = live_server.url
    charger()
    return str(live_server.url)


@pytest.fixture
def phone(
    site: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[Phone]:
    """Starts Chromium and opens fresh phone-sized contexts in it (`phone(locale="de-DE")`);
    all are closed, and must have had no uncaught script error and nothing refused by the
    Content-Security-Policy, at the end of the test.

    One browser per test, not per session: Playwright's sync API keeps its event loop running in
    a greenlet of the main thread for as long as it is started, and Django refuses ORM calls
    from a thread with a running loop. So the loop must be gone when the test ends, and during
    the test the check is lifted (no coroutine of ours runs in that loop; the live server
    answers in its own thread)."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("no `chromium` on PATH: the browser tests need Debian's chromium package")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    drivers: list[Driver] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            ignore_default_args=True,  # exactly our flags, plus the pipe Playwright talks over
            args=[
                *CHROMIUM_FLAGS,
                f"--user-data-dir={tmp_path / 'profile'}",
                "--remote-debugging-pipe",
            ],
            timeout=30_000,
        )

        def open_phone(locale: str = "en-US") -> Driver:
            context = browser.new_context(
                viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale=locale
            )
            context.set_default_timeout(WAIT_MS)
            page = context.new_page()
            driver = Driver(page=page, base_url=site, name=request.path.stem.removeprefix("test_"))
            page.on("pageerror", lambda error: driver.errors.append(str(error)))
            page.on(
                "console",
                lambda message: (
                    driver.errors.append(message.text)
                    if "Content Security Policy" in message.text
                    else None
                ),
            )
            drivers.append(driver)
            return driver

        expect.set_options(timeout=WAIT_MS)
        try:
            yield open_phone
            report = getattr(request.node, "call_report", None)
            if report is not None and report.failed:  # what the driver saw when it went wrong
                for driver in drivers:
                    driver.screenshot("failed")
        finally:
            browser.close()
            # The test's own ORM calls ran while Playwright was started, in a context of their
            # own, and so on database connections of their own that pytest-django never sees:
            # left open, the last of them keeps the test database from being dropped.
            connections.close_all()
    for driver in drivers:
        assert driver.errors == [], f"script errors or CSP refusals in the page: {driver.errors}"
