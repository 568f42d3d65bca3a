"""Each connection's health, on its page and as list columns: the last successful call each
way, the error rate of our calls and of theirs over 24 hours, how far behind each pull is,
how START_SESSION fares and how long its result takes, and its open cases."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from ocpi_peer.health import health_of
from ocpi_peer.models import CommandRequest, Partner, SyncState, TrafficLog
from payments.cases import open_case
from payments.models import Case

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def log(
    partner: Partner, direction: str, ago: timedelta, http: int | None, ocpi: int | None
) -> None:
    TrafficLog.objects.create(
        partner=partner,
        direction=direction,
        method="GET",
        url="/ocpi/2.2.1/locations",
        http_status=http,
        ocpi_status=ocpi,
        created_at=NOW - ago,
    )


def start(partner: Partner, result: str, took: float | None, ago: timedelta) -> None:
    sent = NOW - ago
    CommandRequest.objects.create(
        partner=partner,
        command="START_SESSION",
        result=result,
        created_at=sent,
        sent_at=sent,
        result_at=sent + timedelta(seconds=took) if took is not None else None,
    )


@pytest.fixture
def partner() -> Partner:
    cpo = Partner.objects.create(name="Busy CPO", status=Partner.Status.REGISTERED)
    hour, day = timedelta(hours=1), timedelta(days=1)
    log(cpo, "out", 2 * hour, 200, 1000)  # our last good call
    log(cpo, "out", hour, 200, 2001)  # refused by OCPI status
    log(cpo, "out", hour, None, None)  # no answer at all
    log(cpo, "out", 30 * hour, 500, 3000)  # older than a day: in no rate
    log(cpo, "in", 3 * hour, 200, 1000)
    log(cpo, "in", 5 * hour, 200, 1000)
    log(cpo, "in", 4 * hour, 401, None)
    log(cpo, "in", 2 * day, 200, 1000)
    SyncState.objects.create(
        partner=cpo, module="locations", last_success_started_at=NOW - timedelta(minutes=10)
    )
    SyncState.objects.create(partner=cpo, module="tariffs", last_success_started_at=None)
    start(cpo, "ACCEPTED", 2.0, hour)
    start(cpo, "ACCEPTED", 4.0, hour)
    start(cpo, "ACCEPTED", 9.0, hour)
    start(cpo, "REJECTED", 1.0, hour)
    start(cpo, "ACCEPTED", 1.0, 40 * day)  # older than the window
    CommandRequest.objects.create(partner=cpo, command="START_SESSION", created_at=NOW)  # waiting
    open_case(Case.Kind.MISSING_CDR, "no CDR", key="m:1", partner_id=cpo.pk)
    open_case(Case.Kind.STOP_FAILED, "stop failed", key="s:1", partner_id=cpo.pk)
    return cpo


def test_it_reads_the_partners_health(partner: Partner, django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(4):
        health = health_of([partner.pk], now=NOW)[partner.pk]
    assert health.last_ok_out == NOW - timedelta(hours=2)
    assert health.last_ok_in == NOW - timedelta(hours=3)
    assert (health.errors_out.failed, health.errors_out.total) == (2, 3)
    assert health.errors_out.percent == Decimal("66.7")
    assert (health.errors_in.failed, health.errors_in.total) == (1, 3)
    assert health.sync_lag(NOW) == {"locations": timedelta(minutes=10), "tariffs": None}
    assert (health.start_success.failed, health.start_success.total) == (3, 4)  # 3 accepted
    assert health.start_latency == timedelta(seconds=4)
    assert health.open_cases == 2


def test_a_partner_without_traffic_reads_as_such(partner: Partner) -> None:
    quiet = Partner.objects.create(name="Quiet CPO")
    health = health_of([partner.pk, quiet.pk], now=NOW)[quiet.pk]
    assert health.last_ok_out is None and str(health.errors_out) == "no calls"
    assert health.start_latency is None and health.open_cases == 0


def test_the_list_and_the_page_show_it(partner: Partner, client: Client, settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    TrafficLog.objects.update(created_at=datetime.now(UTC) - timedelta(hours=1))
    client.force_login(User.objects.create_superuser("root", "", "pw-operator-1"))
    listing = client.get("/admin/ocpi_peer/partner/").content.decode()
    assert "75.0 % (3 of 4) · 25.0 % (1 of 4)" in listing  # every row in the last hour now
    assert "CET" in listing
    page = client.get(f"/admin/ocpi_peer/partner/{partner.pk}/change/").content.decode()
    assert 'id="partner-health"' in page
    assert "sync lag, tariffs" in page and "never pulled" in page
    assert "open cases</th><td>2" in page


def test_an_answer_without_an_envelope_is_no_success(partner: Partner) -> None:
    quiet = Partner.objects.create(name="HTML CPO")
    log(quiet, "out", timedelta(minutes=5), 200, None)  # a proxy's HTML page, say
    health = health_of([quiet.pk], now=NOW)[quiet.pk]
    assert health.last_ok_out is None and (health.errors_out.failed, health.errors_out.total) == (
        1,
        1,
    )
