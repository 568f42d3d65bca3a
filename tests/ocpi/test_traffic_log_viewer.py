"""Operators read the traffic log: filtered by partner, module, direction, statuses, correlation
id and time to the second, times shown to the second with the zone's name, full URLs, one
exchange with its request and answer side by side. Nobody adds, edits or deletes a row, not
even a superuser, and no token is ever shown."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from ocpi_peer.models import Partner, TrafficLog
from ocpi_peer.traffic import record_traffic
from tests.support.roles import signed_in

pytestmark = pytest.mark.django_db

SECRET = "s3cret-token-of-theirs"
LIST = "/admin/ocpi_peer/trafficlog/"


def exchange(
    partner: Partner | None,
    *,
    direction: str = "out",
    url: str = "https://cpo.example.com/ocpi/2.2.1/locations?limit=10",
    http: int | None = 200,
    ocpi: int | None = 1000,
    correlation: str = "corr-1",
    at: datetime | None = None,
    request: bytes | None = None,
    response: bytes | None = b'{"status_code": 1000, "data": []}',
) -> TrafficLog:
    record_traffic(
        direction=direction,
        partner=partner,
        method="GET",
        url=url,
        http_status=http,
        ocpi_status=ocpi,
        duration_ms=12,
        request_id="req-1",
        correlation=correlation,
        request_body=request,
        response_body=response,
    )
    row = TrafficLog.objects.latest("pk")
    if at is not None:
        TrafficLog.objects.filter(pk=row.pk).update(created_at=at)
        row.refresh_from_db()
    return row


@pytest.fixture
def operator(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("operator", "", "pw-operator-1"))
    return client


def listed(client: Client, query: str) -> list[int]:
    answer = client.get(f"{LIST}?{query}")
    assert answer.status_code == 200
    return [row.pk for row in answer.context["cl"].result_list]


def test_it_filters_by_each_of_its_filters(operator: Client) -> None:
    cpo = Partner.objects.create(name="CPO One")
    hub = Partner.objects.create(name="Hub Two")
    locations = exchange(cpo, at=datetime(2026, 11, 30, 10, 0, 5, tzinfo=UTC))
    refused = exchange(
        hub,
        direction="in",
        url="/ocpi/2.2.1/sessions/NL/SIM/S1",
        http=401,
        ocpi=2001,
        correlation="corr-2",
        at=datetime(2026, 11, 30, 10, 0, 6, tzinfo=UTC),
    )
    tariffs = exchange(
        cpo,
        url="https://cpo.example.com/ocpi/tariffs/",
        at=datetime(2026, 11, 30, 10, 0, 7, tzinfo=UTC),
    )
    assert listed(operator, f"partner__id__exact={hub.pk}") == [refused.pk]
    assert listed(operator, "module=locations") == [locations.pk]
    assert listed(operator, "module=tariffs") == [tariffs.pk]
    assert listed(operator, "direction__exact=in") == [refused.pk]
    assert listed(operator, "http_status=401") == [refused.pk]
    assert listed(operator, "ocpi_status=2001") == [refused.pk]
    assert listed(operator, "correlation=corr-1") == [tariffs.pk, locations.pk]
    assert listed(operator, "since=2026-11-30 10:00:06&until=2026-11-30 10:00:06") == [refused.pk]
    assert listed(operator, "since=2026-11-30 10:00:06") == [tariffs.pk, refused.pk]
    assert listed(operator, "until=2026-11-30T10:00:05") == [locations.pk]


def test_a_time_it_cannot_read_filters_nothing_and_says_so(operator: Client, settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Berlin"  # half past midnight of year 1 is in year 0 in UTC
    row = exchange(None)
    for junk in ("yesterday", "2026-11-31 10:00:00", "2026-13-01", "0001-01-01 00:30:00"):
        answer = operator.get(LIST, {"since": junk, "correlation": "corr-1"})
        assert answer.status_code == 200 and [r.pk for r in answer.context["cl"].result_list] == [
            row.pk
        ]
        assert "not understood, not applied" in answer.content.decode()
    assert operator.get(LIST, {"module": "nonsense"}).status_code == 200
    latest = operator.get(LIST, {"until": "9999-12-31 23:59:59"}).context["cl"].result_list
    assert [r.pk for r in latest] == [row.pk]


def test_it_shows_times_to_the_second_with_the_zone_and_full_urls(
    operator: Client, settings: Any
) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    settings.PUBLIC_BASE_URL = "https://pay.example.org"
    exchange(
        None, direction="in", url="/ocpi/2.2.1/cdrs", at=datetime(2026, 7, 1, 8, 9, 10, tzinfo=UTC)
    )
    page = operator.get(LIST).content.decode()
    assert "2026-07-01 10:09:10 CEST" in page
    assert "https://pay.example.org/ocpi/2.2.1/cdrs" in page


def test_one_exchange_shows_request_and_answer_side_by_side_without_tokens(
    operator: Client,
) -> None:
    credentials = json.dumps({"token": SECRET, "url": "https://cpo.example.com/versions"})
    row = exchange(
        Partner.objects.create(name="CPO One"),
        url="https://cpo.example.com/ocpi/2.2.1/credentials",
        request=credentials.encode(),
        response=json.dumps({"status_code": 1000, "data": {"token": SECRET}}).encode(),
    )
    page = operator.get(f"{LIST}{row.pk}/change/").content.decode()
    request_side = page.split('id="exchange-request"')[1].split('id="exchange-answer"')[0]
    answer_side = page.split('id="exchange-answer"')[1]
    assert "GET https://cpo.example.com/ocpi/2.2.1/credentials" in request_side
    assert "&quot;url&quot;: &quot;https://cpo.example.com/versions&quot;" in request_side
    assert "HTTP 200 · OCPI 1000 · 12 ms" in answer_side
    assert "&quot;token&quot;: &quot;***&quot;" in answer_side
    assert SECRET not in page


@pytest.mark.parametrize("role", ["superuser", "operations"])
def test_no_one_adds_changes_or_deletes_a_row(client: Client, role: str) -> None:
    row = exchange(None)
    if role == "superuser":
        client.force_login(User.objects.create_superuser("root", "", "pw-operator-1"))
    else:
        client = signed_in("olga", "operations")
    listing = client.get(LIST)
    assert listing.status_code == 200
    actions = listing.context["cl"].model_admin.get_actions(listing.wsgi_request)
    assert "delete_selected" not in actions
    assert 'value="delete_selected"' not in listing.content.decode()
    page = client.get(f"{LIST}{row.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(f"{LIST}{row.pk}/change/", {"url": "changed"}).status_code == 403
    assert client.post(f"{LIST}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get(f"{LIST}add/").status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    client.post(LIST, bulk)
    assert TrafficLog.objects.filter(pk=row.pk, url=row.url).exists()


@pytest.mark.parametrize("role", ["finance", "support"])
def test_roles_without_partners_do_not_read_it(role: str) -> None:
    exchange(None)
    assert signed_in(f"user-{role}", role).get(LIST).status_code == 403


def test_a_token_cut_off_by_the_body_limit_is_not_shown_in_part(operator: Client) -> None:
    # Three bytes a character: the stored body is cut (at twice BODY_LIMIT bytes) inside the
    # token's value, well before its BODY_LIMIT characters are reached.
    padding = "€" * 2656
    body = json.dumps({"pad": padding, "token": SECRET}, ensure_ascii=False).encode()
    row = exchange(None, request=body)
    assert len(body) > 8000 and '"token": "***"' in row.request_body
    page = operator.get(f"{LIST}{row.pk}/change/").content.decode()
    assert SECRET[:6] not in page
