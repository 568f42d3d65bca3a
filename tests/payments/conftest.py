"""A fake Stripe (localstripe) over real HTTP, and the settings pointing the gateway at it."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.localstripe import FakeStripe, running


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One fake Stripe per run, on loopback, with a state file no parallel run shares.
    Yields its base URL; its log is `localstripe.log` beside the state."""
    with running(tmp_path_factory.mktemp("localstripe")) as base_url:
        yield base_url


@pytest.fixture
def stripe_settings(localstripe: str, settings: Any) -> FakeStripe:
    """Points STRIPE_API_BASE, the keys, the webhook secret and STRIPE_JS_URL at the fake."""
    fake = FakeStripe(base_url=localstripe)
    settings.STRIPE_API_BASE = fake.base_url
    settings.STRIPE_SECRET_KEY = fake.secret_key
    settings.STRIPE_PUBLISHABLE_KEY = fake.publishable_key
    settings.STRIPE_WEBHOOK_SECRET = fake.webhook_secret
    settings.STRIPE_JS_URL = fake.js_url
    return fake
