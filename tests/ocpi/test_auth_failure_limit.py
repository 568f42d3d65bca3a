"""Requests with a missing or unknown token are limited per client address: past
OCPI_AUTH_FAILURE_LIMIT the address is answered 429 in the OCPI envelope until the window has
passed, while partners calling with their tokens from elsewhere are served as ever."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from ocpi_peer.models import AuthFailure
from ocpi_peer.registration import invite_partner
from ocpi_peer.transport import authorization_header

pytestmark = pytest.mark.django_db

GUESSER = "203.0.113.66"
PARTNER = "198.51.100.9"


def versions(client: Client, address: str, token: str | None, **headers: str):
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = authorization_header(token, base64_encoded=True)
    return client.get("/ocpi/versions", REMOTE_ADDR=address, **headers)


@pytest.fixture
def token_a(settings) -> str:
    settings.OCPI_AUTH_FAILURE_LIMIT = "3/10m"
    return invite_partner(name="Careful CPO")[1]


def test_it_answers_429_in_the_envelope_past_the_limit(client: Client, token_a: str) -> None:
    for guess in ("guess-1", "guess-2", None):
        refused = versions(client, GUESSER, guess)
        assert refused.status_code == 401 and refused.json()["status_code"] == 2000
    limited = versions(client, GUESSER, "guess-3")
    assert limited.status_code == 429
    body = limited.json()
    assert body["status_code"] == 2000 and body["timestamp"].endswith("Z")
    assert "too many requests with a missing or unknown token" in body["status_message"]
    # Past the limit the token is not even looked up: a right guess is no different.
    assert versions(client, GUESSER, token_a).status_code == 429


def test_it_serves_a_good_token_from_another_address(client: Client, token_a: str) -> None:
    for _ in range(4):
        versions(client, GUESSER, "guess")
    served = versions(client, PARTNER, token_a)
    assert served.status_code == 200 and served.json()["status_code"] == 1000


def test_it_does_not_count_requests_with_a_good_token(client: Client, token_a: str) -> None:
    for _ in range(5):
        assert versions(client, PARTNER, token_a).status_code == 200
    assert versions(client, PARTNER, "stale-token").status_code == 401
    assert versions(client, PARTNER, "stale-token").status_code == 401
    assert versions(client, PARTNER, token_a).status_code == 200


def test_it_serves_the_address_again_once_the_window_has_passed(
    client: Client, token_a: str
) -> None:
    for _ in range(3):
        versions(client, GUESSER, "guess")
    assert versions(client, GUESSER, token_a).status_code == 429
    AuthFailure.objects.update(at=timezone.now() - timedelta(minutes=11))
    assert versions(client, GUESSER, token_a).status_code == 200
    assert versions(client, GUESSER, "guess").status_code == 401
    assert AuthFailure.objects.count() == 1  # the old failures went as the new one came


def test_it_counts_the_caller_behind_a_trusted_proxy_not_the_proxy(
    client: Client, token_a: str, settings
) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    for _ in range(3):
        versions(client, "10.0.0.5", "guess", HTTP_X_FORWARDED_FOR=GUESSER)
    assert versions(client, "10.0.0.5", "guess", HTTP_X_FORWARDED_FOR=GUESSER).status_code == 429
    served = versions(client, "10.0.0.5", token_a, HTTP_X_FORWARDED_FOR=PARTNER)
    assert served.status_code == 200


def test_it_counts_an_ipv6_caller_per_64(client: Client, token_a: str) -> None:
    for host in range(1, 4):
        versions(client, f"2001:db8:aa:1::{host}", "guess")
    assert versions(client, "2001:db8:aa:1::ffff", token_a).status_code == 429
    assert versions(client, "2001:db8:aa:2::1", token_a).status_code == 200
