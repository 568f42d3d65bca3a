"""The figures on the admin's front page: checkouts, starts, money captured and refunded, holds
outstanding, today and over the last 30 days, for the platform and per partner, each with the
filtered admin list behind it. Five aggregated queries, whatever the number of checkouts.

Days are the operator's (settings.TIME_ZONE, the admin's current zone): "today" starts at its
midnight, the 30 days are today and the 29 before. A start is counted by the checkout's
outcome: started once it reached `charging` (or later), failed when a held checkout ended
`failed`; checkouts still authorised or starting are in neither. Money is the ledger's, in
minor units per currency, by when it was booked; holds outstanding are the checkouts whose
money is held now, whenever they began."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from ocpi_peer.models import Partner
from payments.models import Case, Checkout, LedgerEntry
from stations import l10n
from stations.money import Money

Status = Checkout.Status
STARTED = (Status.CHARGING, Status.STOPPING, Status.FINISHED, Status.SETTLED)
DAYS = 30


@dataclass
class Sums:
    """Money per currency, in minor units."""

    minor: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, currency: str, minor: int) -> None:
        self.minor[currency] += minor

    def amounts(self) -> list[Money]:
        return [Money.from_minor(m, c) for c, m in sorted(self.minor.items())]

    def __str__(self) -> str:
        return " + ".join(l10n.money(m.amount, m.currency) for m in self.amounts()) or "—"


@dataclass
class Figures:
    """One window's figures, for the platform or one partner, and the lists behind them."""

    since: datetime
    until: datetime
    partner_id: int | None = None
    checkouts: int = 0
    started: int = 0
    failed: int = 0
    captured: Sums = field(default_factory=Sums)
    refunded: Sums = field(default_factory=Sums)

    @property
    def start_success(self) -> Decimal | None:
        """Started of the starts that ended either way, in per cent to one place."""
        ended = self.started + self.failed
        if not ended:
            return None
        return (Decimal(100) * self.started / ended).quantize(Decimal("0.1"))

    def _within(self, field_name: str = "created_at") -> dict[str, str]:
        return {
            f"{field_name}__gte": self.since.isoformat(),
            f"{field_name}__lt": self.until.isoformat(),
        }

    def _checkouts(self, **filters: str) -> str:
        query = self._within() | filters
        if self.partner_id is not None:
            query["partner__id__exact"] = str(self.partner_id)
        return _changelist("checkout", query)

    def _ledger(self, kind: str) -> str:
        query = self._within() | {"kind__exact": kind}
        if self.partner_id is not None:
            query["checkout__partner__id__exact"] = str(self.partner_id)
        return _changelist("ledgerentry", query)

    @property
    def checkouts_url(self) -> str:
        return self._checkouts()

    @property
    def started_url(self) -> str:
        return self._checkouts(status__in=",".join(STARTED))

    @property
    def failed_url(self) -> str:
        return self._checkouts(status__exact=Status.FAILED, authorized_at__isnull="False")

    @property
    def captured_url(self) -> str:
        return self._ledger(LedgerEntry.Kind.CAPTURE)

    @property
    def refunded_url(self) -> str:
        return self._ledger(LedgerEntry.Kind.REFUND)


@dataclass
class Holds:
    partner_id: int | None = None
    count: int = 0
    amount: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def __str__(self) -> str:
        return " + ".join(l10n.money(a, c) for c, a in sorted(self.amount.items())) or "—"

    @property
    def url(self) -> str:
        query = {"payment_status__exact": Checkout.PaymentStatus.HELD.value}
        if self.partner_id is not None:
            query["partner__id__exact"] = str(self.partner_id)
        return _changelist("checkout", query)


@dataclass
class Day:
    """One bar of the chart: a day's checkouts by outcome."""

    day: date
    started: int = 0
    failed: int = 0
    other: int = 0
    url: str = ""

    @property
    def total(self) -> int:
        return self.started + self.failed + self.other


@dataclass
class Bar:
    """A day's bar as the SVG chart draws it: its place and the height of each part, in the
    chart's units (the tallest day fills CHART_HEIGHT)."""

    day: Day
    x: int
    started: tuple[int, int]  # (y, height)
    failed: tuple[int, int]
    other: tuple[int, int]


CHART_HEIGHT, BAR_WIDTH, BAR_GAP = 100, 16, 4


def stack(days: list[Day]) -> list[Bar]:
    """Stacked bars, started at the bottom, failed above, the rest on top."""
    tallest = max((d.total for d in days), default=0) or 1
    drawn = []
    for index, day in enumerate(days):
        bottom = CHART_HEIGHT
        parts = []
        for count in (day.started, day.failed, day.other):
            height = count * CHART_HEIGHT // tallest
            bottom -= height
            parts.append((bottom, height))
        drawn.append(Bar(day, index * (BAR_WIDTH + BAR_GAP), parts[0], parts[1], parts[2]))
    return drawn


@dataclass
class PartnerRow:
    partner: Partner
    month: Figures
    holds: Holds
    open_cases: int = 0

    @property
    def cases_url(self) -> str:
        return _changelist("case", {"state": "open", "partner__id__exact": str(self.partner.pk)})


@dataclass
class Dashboard:
    now: datetime
    zone: str
    today: Figures
    month: Figures
    holds: Holds
    days: list[Day]
    partners: list[PartnerRow]

    @property
    def bars(self) -> list[Bar]:
        return stack(self.days)

    @property
    def chart_width(self) -> int:
        return len(self.days) * (BAR_WIDTH + BAR_GAP)

    @property
    def chart_height(self) -> int:
        return CHART_HEIGHT

    @property
    def bar_width(self) -> int:
        return BAR_WIDTH


def _changelist(model: str, query: dict[str, str]) -> str:
    return f"{reverse(f'admin:payments_{model}_changelist')}?{urlencode(query)}"


def dashboard(*, now: datetime | None = None) -> Dashboard:
    """Every figure of the front page (see the module docstring)."""
    now = timezone.localtime(now or timezone.now())
    zone = timezone.get_current_timezone()
    midnight = datetime.combine(now.date(), time(), tzinfo=zone)
    tomorrow = datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=zone)
    first = datetime.combine(now.date() - timedelta(days=DAYS - 1), time(), tzinfo=zone)
    today, month = Figures(midnight, tomorrow), Figures(first, tomorrow)
    per_partner: dict[int, Figures] = {}

    def partner_month(partner_id: int) -> Figures:
        return per_partner.setdefault(partner_id, Figures(first, tomorrow, partner_id))

    in_month = Checkout.objects.filter(created_at__gte=first, created_at__lt=tomorrow)
    is_today = Q(created_at__gte=midnight)
    started = Q(status__in=STARTED)
    failed = Q(status=Status.FAILED, authorized_at__isnull=False)
    for row in in_month.values("partner_id").annotate(
        n=Count("pk"),
        started=Count("pk", filter=started),
        failed=Count("pk", filter=failed),
        n_today=Count("pk", filter=is_today),
        started_today=Count("pk", filter=is_today & started),
        failed_today=Count("pk", filter=is_today & failed),
    ):
        mine = partner_month(row["partner_id"])
        for figures, suffix in ((month, ""), (mine, ""), (today, "_today")):
            figures.checkouts += row[f"n{suffix}"]
            figures.started += row[f"started{suffix}"]
            figures.failed += row[f"failed{suffix}"]

    money = LedgerEntry.objects.filter(
        created_at__gte=first,
        created_at__lt=tomorrow,
        kind__in=[LedgerEntry.Kind.CAPTURE, LedgerEntry.Kind.REFUND],
    )
    for row in money.values("checkout__partner_id", "kind", "currency").annotate(
        minor=Sum("amount_minor"), minor_today=Sum("amount_minor", filter=is_today)
    ):
        mine = partner_month(row["checkout__partner_id"])
        which = "captured" if row["kind"] == LedgerEntry.Kind.CAPTURE else "refunded"
        for figures, key in ((month, "minor"), (mine, "minor"), (today, "minor_today")):
            getattr(figures, which).add(row["currency"], row[key] or 0)

    holds, partner_holds = Holds(), {}
    held = Checkout.objects.filter(payment_status=Checkout.PaymentStatus.HELD)
    for row in held.values("partner_id", "currency").annotate(
        n=Count("pk"), amount=Sum("hold_amount")
    ):
        mine = partner_holds.setdefault(row["partner_id"], Holds(row["partner_id"]))
        for target in (holds, mine):
            target.count += row["n"]
            target.amount[row["currency"]] += row["amount"]

    cases = open_cases_by_partner(None)
    ids = set(per_partner) | set(partner_holds) | set(cases)
    partners = [
        PartnerRow(
            partner=partner,
            month=per_partner.get(partner.pk) or Figures(first, tomorrow, partner.pk),
            holds=partner_holds.get(partner.pk) or Holds(partner.pk),
            open_cases=cases.get(partner.pk, 0),
        )
        for partner in Partner.objects.filter(pk__in=ids).order_by("name")
    ]
    return Dashboard(
        now=now,
        zone=timezone.get_current_timezone_name(),
        today=today,
        month=month,
        holds=holds,
        days=_days(first, tomorrow, in_month),
        partners=partners,
    )


def _days(first: datetime, until: datetime, checkouts: QuerySet[Checkout]) -> list[Day]:
    """The chart's bars: each day's checkouts by outcome (one query)."""
    days: dict[date, Day] = {}
    day = first
    while day < until:
        bar = Day(day.date())
        window = Figures(day, day + timedelta(days=1))
        bar.url = window.checkouts_url
        days[bar.day] = bar
        day = datetime.combine(day.date() + timedelta(days=1), time(), tzinfo=first.tzinfo)
    rows = (
        checkouts.annotate(day=TruncDate("created_at", tzinfo=first.tzinfo))
        .values("day")
        .annotate(
            n=Count("pk"),
            started=Count("pk", filter=Q(status__in=STARTED)),
            failed=Count("pk", filter=Q(status=Status.FAILED, authorized_at__isnull=False)),
        )
    )
    for row in rows:
        bar = days.get(row["day"])
        if bar is not None:
            bar.started, bar.failed = row["started"], row["failed"]
            bar.other = row["n"] - row["started"] - row["failed"]
    return list(days.values())


def open_cases_by_partner(partner_ids: list[int] | None) -> dict[int, int]:
    """Open cases of each partner (of all, with None); also the partner's health
    (`ocpi_peer.health`) counts them with it."""
    cases = Case.objects.filter(resolved_at=None, partner__isnull=False)
    if partner_ids is not None:
        cases = cases.filter(partner_id__in=partner_ids)
    rows = cases.values("partner_id").annotate(n=Count("pk"))
    return {row["partner_id"]: row["n"] for row in rows}
