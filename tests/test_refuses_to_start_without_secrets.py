"""With DEBUG off (the default) the platform does not start without its secrets, each real: an
operator who forgets one, or copies a placeholder or the development key, is stopped before the
platform serves or works, by a sentence naming the variable to set, and not left to find out
from a forged webhook or tokens encrypted with a key derived from a public one."""

from __future__ import annotations

import pytest
from django.core.management.utils import get_random_secret_key

from tests.support.production import manage, production_env, run

SHORT_BUT_VARIED = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL"  # 48 characters
MONOTONOUS = "abab" * 20

REFUSED = [
    ("SECRET_KEY", None, "SECRET_KEY is not set"),
    ("SECRET_KEY", "dev-only-secret-key-change-me-in-production", "SECRET_KEY is a value"),
    ("SECRET_KEY", SHORT_BUT_VARIED, "SECRET_KEY is too weak"),
    ("SECRET_KEY", MONOTONOUS, "SECRET_KEY is too weak"),
    ("FIELD_ENCRYPTION_KEY", None, "FIELD_ENCRYPTION_KEY is not set"),
    ("FIELD_ENCRYPTION_KEY", "not-a-fernet-key", "FIELD_ENCRYPTION_KEY is not a Fernet key"),
    ("STRIPE_SECRET_KEY", None, "STRIPE_SECRET_KEY is not set"),
    ("STRIPE_SECRET_KEY", "sk_test_placeholder", "STRIPE_SECRET_KEY is a value"),
    ("STRIPE_SECRET_KEY", "pk_live_" + "x" * 40, "STRIPE_SECRET_KEY is not a Stripe secret"),
    ("STRIPE_SECRET_KEY", "sk_live_short", "STRIPE_SECRET_KEY is not a Stripe secret"),
    ("STRIPE_PUBLISHABLE_KEY", None, "STRIPE_PUBLISHABLE_KEY is not set"),
    ("STRIPE_PUBLISHABLE_KEY", "pk_test_placeholder", "STRIPE_PUBLISHABLE_KEY is a value"),
    ("STRIPE_WEBHOOK_SECRET", None, "STRIPE_WEBHOOK_SECRET is not set"),
    ("STRIPE_WEBHOOK_SECRET", "", "STRIPE_WEBHOOK_SECRET is not set"),
    ("STRIPE_WEBHOOK_SECRET", "whsec_placeholder", "STRIPE_WEBHOOK_SECRET is a value"),
    ("STRIPE_WEBHOOK_SECRET", "x" * 40, "STRIPE_WEBHOOK_SECRET is not a Stripe webhook"),
]


@pytest.mark.parametrize(("variable", "value", "said"), REFUSED)
def test_it_does_not_start_naming_the_variable(variable: str, value: str | None, said: str) -> None:
    done = manage("check", env=production_env(**{variable: value}))
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert said in done.stderr
    # Only that variable is named: the operator is told what to fix, and nothing else.
    named = [line for line in done.stderr.splitlines() if line.startswith("- ")]
    assert len(named) == 1 and named[0].startswith(f"- {variable} "), named


def test_it_names_every_missing_secret_at_once() -> None:
    env = production_env(SECRET_KEY=None, FIELD_ENCRYPTION_KEY=None, STRIPE_WEBHOOK_SECRET=None)
    done = manage("check", env=env)
    assert done.returncode != 0
    for variable in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "STRIPE_WEBHOOK_SECRET"):
        assert f"- {variable} is not set" in done.stderr


def test_live_and_test_stripe_keys_are_not_mixed() -> None:
    env = production_env(STRIPE_PUBLISHABLE_KEY="pk_test_" + "x" * 40)
    done = manage("check", env=env)
    assert done.returncode != 0
    assert "STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY are from different modes" in done.stderr


def test_debug_is_off_unless_set() -> None:
    done = manage("check", env=production_env(DEBUG=None, SECRET_KEY=None))
    assert done.returncode != 0
    assert "SECRET_KEY is not set" in done.stderr


def test_the_celery_worker_does_not_start_either() -> None:
    env = production_env(STRIPE_SECRET_KEY=None)
    done = run("-m", "celery", "-A", "config", "worker", "--pool", "solo", env=env, timeout=60)
    assert done.returncode != 0
    assert "STRIPE_SECRET_KEY is not set" in done.stderr


def test_it_starts_with_real_looking_secrets_and_restricted_keys() -> None:
    env = production_env(STRIPE_SECRET_KEY="rk_live_" + "a1B2" * 20)
    done = manage("check", env=env)
    assert done.returncode == 0, done.stderr


def test_a_secret_key_starting_with_a_dollar_is_taken_as_it_is() -> None:
    # Django's own generator draws from an alphabet with "$" in it; django-environ would read
    # such a value as the name of another variable.
    env = production_env(SECRET_KEY="$" + get_random_secret_key())
    done = manage("check", env=env)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TRUSTED_PROXIES", "10.0.0.5,10.0.0.0/33"),
        ("TRUSTED_PROXY_SSL_HEADER", "X-Forwarded-Proto: https"),
    ],
)
def test_a_malformed_proxy_setting_stops_the_start(variable: str, value: str) -> None:
    done = manage("check", env=production_env(**{variable: value}))
    assert done.returncode != 0
    assert f"ImproperlyConfigured: {variable}" in done.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [("CHECKOUT_RATE_LIMIT_PER_EVSE", "20/10min"), ("OCPI_AUTH_FAILURE_LIMIT", "0/10m")],
)
def test_a_malformed_rate_limit_stops_the_start(variable: str, value: str) -> None:
    done = manage("check", env=production_env(**{variable: value}))
    assert done.returncode != 0
    assert f"ImproperlyConfigured: {variable}" in done.stderr
