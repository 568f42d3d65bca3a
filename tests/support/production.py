"""The platform as an operator starts it for real: a process with DEBUG off and the environment
the README's "Running in production" asks for, with secrets made fresh for each run (none of
the values the repository carries), so the settings are read as a deployment reads them, not
as the tests' own (DEBUG on) are. `python -m tests.support.production` is the process that
`answers()` starts."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from django.core.management.utils import get_random_secret_key

ROOT = Path(__file__).resolve().parents[2]
HOST = "pay.example.com"

# What a test process has set and a production process must not inherit.
_LEFT_OUT = ("DEBUG", "DJANGO_SETTINGS_MODULE", "OCPI_ALLOW_PRIVATE_URLS")


def production_env(**overrides: str | None) -> dict[str, str]:
    """The documented production settings, real-looking; an override of None leaves that
    variable out."""
    env = {key: value for key, value in os.environ.items() if key not in _LEFT_OUT}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": get_random_secret_key(),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "STRIPE_SECRET_KEY": "sk_live_" + secrets.token_urlsafe(72),
        "STRIPE_PUBLISHABLE_KEY": "pk_live_" + secrets.token_urlsafe(72),
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_urlsafe(24),
        "PUBLIC_BASE_URL": f"https://{HOST}",
        "ALLOWED_HOSTS": HOST,
        "CELERY_BROKER_URL": "memory://",
        # Its own database, never the one the tests' own process points at (which, on
        # PostgreSQL, is not the test database and may not exist).
        "DATABASE_URL": "sqlite://:memory:",
    }
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python ARGS…` in the repository, as a deployment's process manager would start it."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run("manage.py", *args, env=env)


def answers(env: dict[str, str], requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a process started with `env` answers to `requests` (each `method`, `path`, and
    optionally `headers` as WSGI keys, `data`, `cookies`), sent through Django's test client
    with CSRF checks on and Host `HOST`: status, headers, and whether each cookie set is
    Secure."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.production"],
        cwd=ROOT,
        env=env,
        input=json.dumps(requests),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: list[dict[str, Any]] = json.loads(done.stdout)
    return result


def _answer_requests() -> None:
    import django

    django.setup()
    from django.test import Client

    results = []
    for request in json.load(sys.stdin):
        client = Client(enforce_csrf_checks=True, HTTP_HOST=HOST)
        for name, value in request.get("cookies", {}).items():
            client.cookies[name] = value
        method = getattr(client, request["method"])
        response = method(request["path"], request.get("data"), **request.get("headers", {}))
        results.append(
            {
                "status": response.status_code,
                "headers": dict(response.headers),
                "secure_cookies": {
                    name: bool(morsel["secure"]) for name, morsel in response.cookies.items()
                },
            }
        )
    print(json.dumps(results))


if __name__ == "__main__":
    _answer_requests()
