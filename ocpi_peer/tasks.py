"""Pulling partners' Sender lists on a schedule (beat) and on demand (admin, `ocpi_sync`), and
keeping the traffic log short."""

import random
from datetime import timedelta

from celery import Task, shared_task
from django.conf import settings
from django.utils import timezone

from ocpi_peer import sync
from ocpi_peer.client import PeerError
from ocpi_peer.models import Partner, SyncState, TrafficLog

# T-09: poll on the order of hours, with jitter, and a full pull once a day (T-08 policy).
INCREMENTAL_EVERY = timedelta(hours=1)
FULL_EVERY = timedelta(hours=24)


@shared_task(bind=True, max_retries=6)
def pull_module(self: Task, partner_id: int, module: str, full: bool = False) -> str:
    """A timeout, 5xx or garbage page is retried with backoff (30 s doubling to 30 min); a
    refusal is not. Either way nothing stored is lost and SyncState says what happened."""
    try:
        return sync.pull(partner_id=partner_id, module=module, full=full).line()
    except PeerError as exc:
        if not exc.transient:
            return str(exc)
        raise self.retry(exc=exc, countdown=min(30 * 2**self.request.retries, 1800)) from exc
    except sync.SyncImpossible as exc:
        return str(exc)


@shared_task
def schedule_pulls() -> int:
    """Enqueue the pulls that are due: each registered partner and module about hourly (with
    jitter, so CPOs are not all called at once), and in full once a day."""
    now = timezone.now()
    queued = 0
    for partner in Partner.objects.filter(status=Partner.Status.REGISTERED):
        for module in sync.MODULES:
            if partner.endpoint(module, "SENDER") is None:
                continue
            state = SyncState.objects.filter(partner=partner, module=module).first()
            jitter = timedelta(minutes=random.uniform(0, 10))
            last = state.last_run_at if state else None
            if last is not None and now - last < INCREMENTAL_EVERY + jitter:
                continue
            last_success = state.last_success_started_at if state else None
            full = last_success is None or now - last_success > FULL_EVERY
            pull_module.delay(partner.pk, module, full)
            queued += 1
    return queued


# Rows deleted per statement: small enough that each DELETE is a short transaction whose locks
# never stall the inserts of live traffic (nor a replica's replay), large enough that a day's
# worth of rows goes in a few hundred statements.
PURGE_BATCH = 5000


@shared_task
def purge_traffic_log() -> int:
    """Traffic bodies are kept 90 days (ARCHITECTURE.md, Privacy), then deleted, oldest first,
    PURGE_BATCH rows at a time, each batch committed on its own: one DELETE of months of rows
    would hold its locks and its undo for minutes, and a purge stopped midway keeps what it
    did. The rows are found through the `created_at` index, so each batch costs the same
    however large the log is."""
    cutoff = timezone.now() - settings.OCPI_TRAFFIC_RETENTION
    expired = TrafficLog.objects.filter(created_at__lt=cutoff).order_by("created_at")
    deleted = 0
    while batch := list(expired.values_list("pk", flat=True)[:PURGE_BATCH]):
        count, _ = TrafficLog.objects.filter(pk__in=batch).delete()
        deleted += count
    return deleted
