"""The admin's front page counts checkouts, starts and money today and over the last 30 days,
by the operator's days (TIME_ZONE), for the platform and per partner, in a few queries; every
figure links to the admin list that shows the rows behind it."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from ocpi_peer.models import Partner
from payments.cases import open_case
from payments.dashboard import dashboard
from payments.models import Case, Checkout
from tests.payments.charger import charger
from tests.payments.ledger_rows import book, checkout_of

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 11:00 in Berlin
S = Checkout.Status


def when(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def checkout(
    partner: Partner,
    ref: str,
    created: datetime,
    status: str,
    *,
    held: bool = False,
    authorized: bool = True,
    hold: str = "50",
) -> Checkout:
    row = checkout_of(partner, ref)
    row.created_at = created
    row.status = status
    row.authorized_at = created if authorized else None
    row.hold_amount = Decimal(hold)
    row.payment_status = Checkout.PaymentStatus.HELD if held else Checkout.PaymentStatus.CAPTURED
    row.save()
    return row


@pytest.fixture
def business(settings: Any) -> dict[str, Checkout]:
    """Checkouts of two partners around Berlin's midnight and the 30 days' edge."""
    settings.TIME_ZONE = "Europe/Berlin"
    charger()
    cpo = Partner.objects.get(name="Test CPO")
    other = Partner.objects.create(name="Other CPO", status=Partner.Status.REGISTERED)
    rows = {
        "settled today": checkout(cpo, "R1", when(30, 9), S.SETTLED),
        "start failed today": checkout(cpo, "R2", when(30, 8), S.FAILED),
        "never paid today": checkout(cpo, "R3", when(30, 7), S.EXPIRED, authorized=False),
        # 23:30 in Berlin on the 29th: yesterday there, though it is the 29th in UTC too
        "charging yesterday": checkout(cpo, "R4", when(29, 22, 30), S.CHARGING, held=True),
        # 00:30 in Berlin on the 30th: today there, though still the 29th in UTC
        "failed after midnight": checkout(cpo, "R5", when(29, 23, 30), S.FAILED),
        "settled long ago": checkout(cpo, "R6", when(15, 10, month=10), S.SETTLED),
        "other settled": checkout(other, "R7", when(20, 12), S.SETTLED),
        "other held": checkout(other, "R8", when(30, 6), S.CHARGING, held=True, hold="25.5"),
    }
    book(rows["settled today"], "capture", 1230, when(30, 9, 45))
    book(rows["settled today"], "refund", 230, when(30, 9, 50))
    book(rows["settled long ago"], "capture", 4000, when(15, 12, month=10))
    book(rows["other settled"], "capture", 999, when(20, 13))
    open_case(Case.Kind.MISSING_CDR, "no CDR", key="m:4", checkout=rows["charging yesterday"])
    return rows


def test_it_counts_today_and_the_last_30_days_in_the_operators_days(
    business: dict[str, Checkout], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(6):
        figures = dashboard(now=NOW)
    assert figures.zone == "Europe/Berlin"
    today, month = figures.today, figures.month
    assert (today.checkouts, today.started, today.failed) == (5, 2, 2)
    assert today.start_success == Decimal("50.0")
    assert (month.checkouts, month.started, month.failed) == (7, 4, 2)
    assert month.start_success == Decimal("66.7")
    assert today.captured.minor == {"EUR": 1230} and today.refunded.minor == {"EUR": 230}
    assert month.captured.minor == {"EUR": 2229} and month.refunded.minor == {"EUR": 230}
    assert (figures.holds.count, dict(figures.holds.amount)) == (2, {"EUR": Decimal("75.5")})
    assert str(month.captured) == "€22.29" and str(figures.holds) == "€75.50"


def test_it_breaks_the_30_days_down_per_partner(business: dict[str, Checkout]) -> None:
    rows = {row.partner.name: row for row in dashboard(now=NOW).partners}
    cpo, other = rows["Test CPO"], rows["Other CPO"]
    assert (cpo.month.checkouts, cpo.month.started, cpo.month.failed) == (5, 2, 2)
    assert cpo.month.captured.minor == {"EUR": 1230} and cpo.open_cases == 1
    assert (cpo.holds.count, str(cpo.holds)) == (1, "€50.00")
    assert (other.month.checkouts, other.month.started, other.month.failed) == (2, 2, 0)
    assert other.month.start_success == Decimal("100.0")
    assert other.month.captured.minor == {"EUR": 999} and other.open_cases == 0


def test_its_chart_has_a_bar_for_each_of_the_30_days(business: dict[str, Checkout]) -> None:
    days = dashboard(now=NOW).days
    assert (
        len(days) == 30 and str(days[0].day) == "2026-11-01" and str(days[-1].day) == "2026-11-30"
    )
    assert (days[-1].started, days[-1].failed, days[-1].other) == (2, 2, 1)
    assert (days[-2].started, days[-2].total) == (1, 1)
    assert days[19].total == 1  # the other partner's settled checkout of the 20th


def test_each_figure_links_to_the_list_of_its_rows(
    business: dict[str, Checkout], client: Client
) -> None:
    client.force_login(User.objects.create_superuser("operator", "", "pw-operator-1"))
    figures = dashboard(now=NOW)

    def listed(url: str) -> set[int]:
        answer = client.get(url)
        assert answer.status_code == 200, answer  # a lookup the admin refuses redirects to ?e=1
        return {row.pk for row in answer.context["cl"].result_list}

    pks = {name: row.pk for name, row in business.items()}
    assert listed(figures.today.checkouts_url) == {
        pks[n]
        for n in (
            "settled today",
            "start failed today",
            "never paid today",
            "failed after midnight",
            "other held",
        )
    }
    assert listed(figures.today.failed_url) == {
        pks["start failed today"],
        pks["failed after midnight"],
    }
    assert listed(figures.month.started_url) == {
        pks[n] for n in ("settled today", "charging yesterday", "other settled", "other held")
    }
    assert listed(figures.holds.url) == {pks["charging yesterday"], pks["other held"]}
    other = next(row for row in figures.partners if row.partner.name == "Other CPO")
    assert listed(other.month.checkouts_url) == {pks["other settled"], pks["other held"]}
    captured = client.get(figures.month.captured_url).context["cl"].result_list
    assert sorted(entry.amount_minor for entry in captured) == [999, 1230]


def test_the_front_page_shows_them_in_the_operators_language(
    business: dict[str, Checkout], client: Client
) -> None:
    client.force_login(User.objects.create_superuser("operator", "", "pw-operator-1"))
    page = client.get("/admin/", headers={"accept-language": "de"}).content.decode()
    assert 'id="dashboard"' in page and "Europe/Berlin" in page
    assert "<svg" in page and page.count("<rect") == 30 * 4
    assert "75,50 €" in page and "Offene Reservierungen (jetzt)" in page  # in German
