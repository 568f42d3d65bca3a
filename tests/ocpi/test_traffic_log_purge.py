"""The traffic log forgets what is older than its retention, batch by batch, and keeps the rest."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ocpi_peer.models import TrafficLog
from ocpi_peer.tasks import PURGE_BATCH, purge_traffic_log

pytestmark = pytest.mark.django_db


def _rows(count: int, *, age: timedelta, url: str) -> None:
    when = timezone.now() - age
    TrafficLog.objects.bulk_create(
        TrafficLog(created_at=when - timedelta(seconds=n), direction="in", method="PATCH", url=url)
        for n in range(count)
    )


def test_it_deletes_every_expired_row_in_bounded_batches_and_keeps_the_recent_ones() -> None:
    expired = 2 * PURGE_BATCH + 7  # more than two batches' worth
    _rows(expired, age=settings.OCPI_TRAFFIC_RETENTION + timedelta(days=1), url="/old")
    _rows(25, age=settings.OCPI_TRAFFIC_RETENTION - timedelta(days=1), url="/recent")

    with CaptureQueriesContext(connection) as queries:
        assert purge_traffic_log() == expired

    assert set(TrafficLog.objects.values_list("url", flat=True)) == {"/recent"}
    assert TrafficLog.objects.count() == 25
    deletes = [q["sql"] for q in queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 3  # PURGE_BATCH, PURGE_BATCH, 7: never all of them at once


def test_it_deletes_nothing_when_nothing_has_expired() -> None:
    _rows(3, age=timedelta(days=1), url="/recent")
    assert purge_traffic_log() == 0
    assert TrafficLog.objects.count() == 3
