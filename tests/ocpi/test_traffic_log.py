"""Every request in and out is in the traffic log, with ids and statuses, and never a token."""

import pytest

from ocpi_peer.models import Partner, TrafficLog
from ocpi_peer.registration import invite_partner, register_with_cpo
from tests.conftest import StartCpo

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_registration_is_logged_both_ways_without_tokens(
    cpo_simulator: StartCpo, ocpi_base: str
) -> None:
    partner, token_a = invite_partner(name="Logged CPO")
    cpo = cpo_simulator()
    cpo.register_with(f"{ocpi_base}/versions", token_a)
    partner.refresh_from_db()
    rows = list(TrafficLog.objects.filter(partner=partner).order_by("created_at"))
    inbound = [r for r in rows if r.direction == "in"]
    outbound = [r for r in rows if r.direction == "out"]
    assert [r.method for r in inbound] == ["GET", "GET", "POST"]  # versions, details, credentials
    assert [r.url.rsplit("/", 1)[-1] for r in outbound] == ["versions", "2.2.1"]
    assert all(r.http_status == 200 and r.ocpi_status == 1000 for r in rows)
    assert all(r.request_id and r.correlation_id for r in rows)
    post = inbound[-1]
    assert '"token": "***"' in post.request_body and '"token": "***"' in post.response_body
    secrets = [token_a, partner.token, cpo.emsp_token]
    for row in TrafficLog.objects.all():
        text = " ".join(str(v) for v in row.__dict__.values())
        assert not any(secret in text for secret in secrets)


def test_calls_caused_by_a_request_carry_its_correlation_id(
    cpo_simulator: StartCpo, ocpi_base: str
) -> None:
    _, token_a = invite_partner(name="Correlated CPO")
    cpo = cpo_simulator()
    answer = cpo.register_with(f"{ocpi_base}/versions", token_a)
    post = next(r for r in TrafficLog.objects.filter(direction="in", method="POST"))
    assert answer.headers["X-Correlation-ID"] == post.correlation_id
    assert answer.headers["X-Request-ID"] == post.request_id
    caused = [r for r in cpo.requests if r.method == "GET" and r.headers.get("X-Correlation-ID")]
    assert caused and all(r.headers["X-Correlation-ID"] == post.correlation_id for r in caused)


def test_a_failed_outbound_call_is_logged_with_the_reason(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator()
    url = cpo.versions_url
    cpo.stop()
    with pytest.raises(Exception, match="could not connect"):
        register_with_cpo(versions_url=url, token="some-token-A")
    row = TrafficLog.objects.get(direction="out")
    assert row.http_status is None
    assert "could not connect" in row.error
    assert not Partner.objects.exists()
