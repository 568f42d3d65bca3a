from celery import shared_task
from django.conf import settings
from django.utils import timezone

from ocpi_peer.models import TrafficLog


@shared_task
def purge_traffic_log() -> int:
    """Traffic bodies are kept 90 days (ARCHITECTURE.md, Privacy), then deleted."""
    cutoff = timezone.now() - settings.OCPI_TRAFFIC_RETENTION
    deleted, _ = TrafficLog.objects.filter(created_at__lt=cutoff).delete()
    return deleted
