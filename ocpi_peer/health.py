"""How each connection is doing, for the operator's partner pages: read from the traffic log, the
pull states and the commands, in a few aggregated queries for any number of partners (the list
shows a column of it, the change page all of it).

A call succeeded when it was answered with HTTP 2xx and an OCPI status of 1xxx: an answer
without an envelope is no success, whatever its HTTP status. The exception queue is the payments
app's: it tells us how to count open cases (`on_open_cases`), so ocpi_peer needs nothing of it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from statistics import median
from typing import Any

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from ocpi_peer.models import CommandRequest, Partner, SyncState, TrafficLog

ERROR_WINDOW = timedelta(hours=24)
COMMAND_WINDOW = timedelta(days=30)

# partner ids -> open cases of each; registered by the app that keeps the cases.
OpenCases = Callable[[list[int]], dict[int, int]]
_open_cases: list[OpenCases] = []


def on_open_cases(counter: OpenCases) -> None:
    _open_cases.append(counter)


_SUCCESS = Q(http_status__gte=200, http_status__lt=300, ocpi_status__gte=1000, ocpi_status__lt=2000)


@dataclass
class Rate:
    """`failed` of `total`; the percentage is None when nothing was counted."""

    failed: int = 0
    total: int = 0

    @property
    def percent(self) -> Decimal | None:
        if not self.total:
            return None
        return (Decimal(100) * self.failed / self.total).quantize(Decimal("0.1"))

    def __str__(self) -> str:
        if self.percent is None:
            return "no calls"
        return f"{self.percent} % ({self.failed} of {self.total})"


@dataclass
class Health:
    last_ok_out: datetime | None = None  # our last successful call to them
    last_ok_in: datetime | None = None  # their last successful call to us
    errors_out: Rate = field(default_factory=Rate)  # of our calls, over ERROR_WINDOW
    errors_in: Rate = field(default_factory=Rate)  # of theirs
    # module -> when its last successful pull started (None: never succeeded)
    sync: dict[str, datetime | None] = field(default_factory=dict)
    starts: Rate = field(default_factory=Rate)  # START_SESSION results over COMMAND_WINDOW
    start_latency: timedelta | None = None  # median from sending a START to its result
    open_cases: int = 0

    def sync_lag(self, now: datetime) -> dict[str, timedelta | None]:
        return {module: (now - at if at is not None else None) for module, at in self.sync.items()}

    @property
    def start_success(self) -> Rate:
        """The started share: accepted results of all results."""
        return Rate(failed=self.starts.total - self.starts.failed, total=self.starts.total)


def health_of(partner_ids: Iterable[int], *, now: datetime | None = None) -> dict[int, Health]:
    """Health of each partner: four queries, whatever the number of partners."""
    now = now or timezone.now()
    ids = list(partner_ids)
    found: dict[int, Health] = {pk: Health() for pk in ids}
    if not ids:
        return found
    since = now - ERROR_WINDOW
    traffic = (
        TrafficLog.objects.filter(partner_id__in=ids)
        .values("partner_id", "direction")
        .annotate(
            last_ok=Max("created_at", filter=_SUCCESS),
            total=Count("pk", filter=Q(created_at__gte=since)),
            failed=Count("pk", filter=Q(created_at__gte=since) & ~_SUCCESS),
        )
    )
    for row in traffic:
        health = found[row["partner_id"]]
        rate = Rate(failed=row["failed"], total=row["total"])
        if row["direction"] == TrafficLog.Direction.OUT:
            health.last_ok_out, health.errors_out = row["last_ok"], rate
        else:
            health.last_ok_in, health.errors_in = row["last_ok"], rate
    for state in SyncState.objects.filter(partner_id__in=ids).order_by("module"):
        found[state.partner_id].sync[state.module] = state.last_success_started_at
    latencies: dict[int, list[timedelta]] = {pk: [] for pk in ids}
    starts = CommandRequest.objects.filter(
        partner_id__in=ids, command="START_SESSION", created_at__gte=now - COMMAND_WINDOW
    ).exclude(result="")
    for partner_id, result, sent_at, result_at in starts.values_list(
        "partner_id", "result", "sent_at", "result_at"
    ):
        rate = found[partner_id].starts
        rate.total += 1
        rate.failed += result != "ACCEPTED"
        if result == "ACCEPTED" and sent_at is not None and result_at is not None:
            latencies[partner_id].append(result_at - sent_at)
    for partner_id, spans in latencies.items():
        if spans:
            found[partner_id].start_latency = timedelta(
                seconds=median(span.total_seconds() for span in spans)
            )
    for counter in _open_cases:
        for partner_id, count in counter(ids).items():
            found[partner_id].open_cases += count
    return found


def with_traffic_health(partners: QuerySet[Partner], *, now: datetime) -> QuerySet[Partner]:
    """The list's columns of health, as subqueries the traffic log's (partner, direction,
    created_at) index answers: the last successful call each way (`last_ok_out`,
    `last_ok_in`) and the calls and failures of the last ERROR_WINDOW (`calls_out`,
    `failed_out`, `calls_in`, `failed_in`)."""
    since = now - ERROR_WINDOW
    annotations: dict[str, Any] = {}
    for direction in (TrafficLog.Direction.OUT, TrafficLog.Direction.IN):
        rows = TrafficLog.objects.filter(partner=OuterRef("pk"), direction=direction)
        recent = rows.filter(created_at__gte=since).order_by().values("partner")
        annotations |= {
            f"last_ok_{direction}": Subquery(
                rows.filter(_SUCCESS).order_by("-created_at").values("created_at")[:1]
            ),
            f"calls_{direction}": Coalesce(Subquery(recent.annotate(n=Count("pk")).values("n")), 0),
            f"failed_{direction}": Coalesce(
                Subquery(recent.filter(~_SUCCESS).annotate(n=Count("pk")).values("n")), 0
            ),
        }
    return partners.annotate(**annotations)
