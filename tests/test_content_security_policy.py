"""Every page carries a Content-Security-Policy that lets in our own scripts and styles and what
Stripe.js needs, and nothing inline: an injected `<script>` or `style` does not run, and no
other site may frame the pages. The Stripe origins follow STRIPE_JS_URL and STRIPE_API_BASE, so
that a Stripe elsewhere (the local fake of the demo and the tests) works as Stripe does."""

from typing import Any

import pytest
from django.test import Client

from tests.payments.charger import charger
from tests.support.localstripe import FakeStripe

pytestmark = pytest.mark.django_db


def policy(response: Any) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {
        name: sources
        for name, *sources in (part.split() for part in header.split(";") if part.strip())
    }


def test_the_charger_page_allows_stripe_js_and_no_inline_script(client: Client) -> None:
    directives = policy(client.get("/charge/"))
    assert directives["script-src"] == ["'self'", "https://js.stripe.com"]
    assert set(directives["frame-src"]) == {"https://js.stripe.com", "https://hooks.stripe.com"}
    assert directives["connect-src"] == ["'self'", "https://api.stripe.com"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"] and directives["form-action"] == ["'self'"]
    assert not any("unsafe" in source for sources in directives.values() for source in sources)


def test_the_payment_page_has_no_inline_script_or_style(
    client: Client, stripe_settings: FakeStripe
) -> None:
    charger()
    html = client.get("/charge/DE*ABC*ELOC1/").content.decode()
    assert 'id="pay"' in html
    assert "<script>" not in html and "<style" not in html and "style=" not in html
    assert '<script src="/static/payments/charge.js">' in html


def test_it_follows_a_stripe_elsewhere(client: Client, settings: Any) -> None:
    settings.STRIPE_JS_URL = "http://127.0.0.1:8420/js.stripe.com/v3/"
    settings.STRIPE_API_BASE = "http://127.0.0.1:8420"
    directives = policy(client.get("/charge/"))
    assert directives["script-src"] == ["'self'", "http://127.0.0.1:8420"]
    assert directives["connect-src"] == ["'self'", "http://127.0.0.1:8420"]
    assert "https://js.stripe.com" not in directives["frame-src"]


def test_the_admin_is_under_it_too(client: Client) -> None:
    directives = policy(client.get("/admin/login/"))
    assert directives["script-src"][0] == "'self'" and directives["frame-ancestors"] == ["'none'"]


def test_ocpi_answers_carry_the_strictest_policy(client: Client) -> None:
    answer = client.get("/ocpi/versions")
    assert answer["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
