"""What the platform refuses to start without when DEBUG is off: each secret set, and real, not
one of the values anyone can read in this repository (the development key, the placeholders,
the demo's and the tests' keys). The settings call `require_secrets` while they load, so the web
server, the Celery worker and beat and every management command stop alike, before serving or
working, with one sentence per variable to fix. Beside that, how the settings read the proxy
variables (TRUSTED_PROXY_SSL_HEADER, TRUSTED_PROXIES), the rate limits, and the origin of
PUBLIC_BASE_URL."""

from __future__ import annotations

import binascii
import ipaddress
import re
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from ocpi_peer import clients

DEV_SECRET_KEY = "dev-only-secret-key-change-me-in-production"  # noqa: S105

# Values this repository carries, for development, the demo and the tests: public, so never secret.
PUBLIC_VALUES = frozenset(
    {
        DEV_SECRET_KEY,
        "sk_test_placeholder",
        "pk_test_placeholder",
        "whsec_placeholder",
        "sk_test_demo",
        "pk_test_demo",
        "whsec_demo",
        "sk_test_localstripe",
        "pk_test_localstripe",
        "whsec_localstripe_tests",
    }
)
# Stripe's keys carry at least this much after their prefix (its oldest keys 24 characters,
# today's about a hundred); anything shorter was made up, not issued.
STRIPE_KEY_MIN_BODY = 24
SECRET_KEY_MIN_LENGTH = 50  # Django's own `check --deploy` asks as much
SECRET_KEY_MIN_UNIQUE = 5

SECRET_KEY_PREFIXES = ("sk_live_", "sk_test_", "rk_live_", "rk_test_")
PUBLISHABLE_KEY_PREFIXES = ("pk_live_", "pk_test_")
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret

SECRETS = (
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
)


def require_secrets(values: Mapping[str, str | None]) -> None:
    """Raises ImproperlyConfigured naming every variable of `SECRETS` that is unset (None or
    empty) or not fit for production; `values` holds them as the environment gave them."""
    problems = [
        problem
        for name in SECRETS
        if (problem := _problem(name, values.get(name) or None)) is not None
    ]
    secret, publishable = values.get("STRIPE_SECRET_KEY"), values.get("STRIPE_PUBLISHABLE_KEY")
    if not problems and _mode(secret) != _mode(publishable):
        problems.append(
            "STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY are from different modes (one live,"
            " one test): set both from the same mode of the Stripe account."
        )
    if problems:
        raise ImproperlyConfigured(
            "DEBUG is off (DEBUG=true is for development only), so the platform runs for real"
            " and needs its secrets:\n" + "\n".join(f"- {problem}" for problem in problems)
        )


def proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """SECURE_PROXY_SSL_HEADER for a header name as a proxy sends it (`X-Forwarded-Proto`):
    the request came over HTTPS when that header says `https`. None for no name."""
    if not name:
        return None
    if not re.fullmatch(r"[A-Za-z0-9-]+", name):
        raise ImproperlyConfigured(
            f"TRUSTED_PROXY_SSL_HEADER is not a header name: {name!r} (e.g. X-Forwarded-Proto)"
        )
    return "HTTP_" + name.upper().replace("-", "_"), "https"


def origin(url: str) -> str:
    """`scheme://host[:port]` of a URL: what a browser sends as Origin from its pages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def networks(name: str, entries: list[str]) -> list[str]:
    """Addresses and networks as their canonical network text (`10.0.0.5` is `10.0.0.5/32`);
    an entry that is neither stops the start, naming the variable."""
    try:
        return [str(ipaddress.ip_network(entry.strip(), strict=False)) for entry in entries]
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}: {error} (give addresses or networks)") from error


def rate_limit(name: str, value: str) -> str:
    """A rate limit as set (`20/10m`), checked now: a typo stops the start, naming the variable,
    rather than failing every request it would limit."""
    try:
        clients.parse_rate(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}: {error}") from error
    return value


def _problem(name: str, value: str | None) -> str | None:
    if value is None:
        return f"{name} is not set. {_HOW[name]}"
    if value in PUBLIC_VALUES:
        return f"{name} is a value published with the source code, not a secret. {_HOW[name]}"
    return _CHECKS[name](value)


def _secret_key(value: str) -> str | None:
    if (
        len(value) < SECRET_KEY_MIN_LENGTH
        or len(set(value)) < SECRET_KEY_MIN_UNIQUE
        or value.startswith("django-insecure-")
    ):
        return (
            f"SECRET_KEY is too weak (under {SECRET_KEY_MIN_LENGTH} characters, under"
            f" {SECRET_KEY_MIN_UNIQUE} distinct ones, or Django's insecure one)."
            f" {_HOW['SECRET_KEY']}"
        )
    return None


def _fernet_key(value: str) -> str | None:
    try:
        Fernet(value.encode())
    except (ValueError, binascii.Error):
        return f"FIELD_ENCRYPTION_KEY is not a Fernet key. {_HOW['FIELD_ENCRYPTION_KEY']}"
    return None


def _stripe_key(name: str, prefixes: tuple[str, ...], what: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        prefix = next((p for p in prefixes if value.startswith(p)), None)
        if prefix is None or len(value) - len(prefix) < STRIPE_KEY_MIN_BODY:
            return f"{name} is not {what}. {_HOW[name]}"
        return None

    return check


def _mode(key: str | None) -> str:
    """ "live" or "test": the mode of a Stripe API key."""
    return "live" if key and "_live_" in key[:8] else "test"


_HOW = {
    "SECRET_KEY": (
        f"Set it to a random value of at least {SECRET_KEY_MIN_LENGTH} characters, e.g. from"
        " `python -c 'from django.core.management.utils import get_random_secret_key as k;"
        " print(k())'`."
    ),
    "FIELD_ENCRYPTION_KEY": (
        "Set it to a key from `python -c 'from cryptography.fernet import Fernet;"
        " print(Fernet.generate_key().decode())'` and keep it: partners' OCPI tokens are"
        " encrypted with it."
    ),
    "STRIPE_SECRET_KEY": (
        "Set the secret key (sk_live_…, sk_test_…) or a restricted key (rk_…) from the Stripe"
        " Dashboard, Developers > API keys."
    ),
    "STRIPE_PUBLISHABLE_KEY": (
        "Set the publishable key (pk_live_…, pk_test_…) from the Stripe Dashboard, Developers >"
        " API keys."
    ),
    "STRIPE_WEBHOOK_SECRET": (
        "Set the signing secret (whsec_…) of the webhook endpoint the Stripe Dashboard shows"
        " for <PUBLIC_BASE_URL>/stripe/webhook/."
    ),
}

_CHECKS: dict[str, Callable[[str], str | None]] = {
    "SECRET_KEY": _secret_key,
    "FIELD_ENCRYPTION_KEY": _fernet_key,
    "STRIPE_SECRET_KEY": _stripe_key(
        "STRIPE_SECRET_KEY", SECRET_KEY_PREFIXES, "a Stripe secret or restricted key"
    ),
    "STRIPE_PUBLISHABLE_KEY": _stripe_key(
        "STRIPE_PUBLISHABLE_KEY", PUBLISHABLE_KEY_PREFIXES, "a Stripe publishable key"
    ),
    "STRIPE_WEBHOOK_SECRET": _stripe_key(
        "STRIPE_WEBHOOK_SECRET", (WEBHOOK_SECRET_PREFIX,), "a Stripe webhook signing secret"
    ),
}
