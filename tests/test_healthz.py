"""`/healthz` tells a load balancer or an operator whether the database and the broker answer."""

from typing import Any

import pytest
from django.test import Client

from config.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_it_reports_ok_when_database_and_broker_answer(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_it_reports_a_broker_that_is_down(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    # Celery prefers the environment variable over its configuration: point both at nothing.
    # The configuration first: its value to restore is read through the variable, which must
    # still be the test run's own then.
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "failing", "database": "ok", "broker": "down"}


def test_it_answers_over_plain_http_when_https_is_enforced(client: Client, settings: Any) -> None:
    # A load balancer asks over plain http behind the proxy that ends TLS; every other path is
    # sent to HTTPS.
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/charge/").status_code == 301
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
