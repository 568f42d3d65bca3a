"""The settlement export: per run of days (in the platform's time zone) and partner, what
drivers paid and what we owe the CPO, per checkout and in total, from the ledger; exact
decimals."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client

from ocpi_peer.models import Partner
from payments import exports
from payments.models import Checkout, receipt_number
from tests.payments.charger import charger
from tests.payments.ledger_rows import at, book, cdr_of, checkout_of

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 30)


@pytest.fixture
def ledger() -> dict[str, Checkout]:
    """Partner A: one checkout settled on the day (refunded the next day), one held the day
    before and settled and partly refunded on the day; partner B: one settled on the day."""
    charger()
    a = Partner.objects.get(name="Test CPO")
    b = Partner.objects.create(name="Other CPO")
    one = checkout_of(a, "REF-ONE")
    cdr_of(one, "CDR-1", Decimal("12.30"))
    book(one, "hold", 5000, at(30, 8))
    book(one, "capture", 1230, at(30, 10))
    book(one, "release", 3770, at(30, 10))
    book(one, "payable", 1230, at(30, 10))
    book(one, "refund", 200, datetime(2026, 12, 1, 9, tzinfo=UTC))
    two = checkout_of(a, "REF-TWO")
    cdr_of(two, "CDR-2B", Decimal("21.50"))
    cdr_of(two, "CDR-2A", Decimal("0"))
    book(two, "hold", 5000, at(29, 23))
    book(two, "capture", 2000, at(30, 0, 30))
    book(two, "release", 3000, at(30, 0, 30))
    book(two, "payable", 2150, at(30, 0, 30))
    book(two, "refund", 500, at(30, 23, 59))
    book(two, "dispute", 300, at(30, 20))  # a chargeback of 3.00 after the refund of 5.00
    other = checkout_of(b, "REF-OTHER")
    book(other, "capture", 999, at(30, 12))
    book(other, "payable", 999, at(30, 12))
    return {"a": one, "b": two, "other": other}


@pytest.fixture
def operator(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("operator", "", "pw-operator-1"))
    return client


def download(operator: Client, **params: object) -> list[list[str]]:
    answer = operator.get("/admin/payments/checkout/settlement/", params)
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    assert "attachment" in answer["Content-Disposition"]
    return list(csv.reader(io.StringIO(answer.content.decode())))


def test_a_days_csv_for_one_partner_has_exact_figures_and_totals(operator: Client, ledger) -> None:
    partner = ledger["a"].partner
    rows = download(operator, first="2026-11-30", last="2026-11-30", partner=partner.pk)
    assert rows[0] == exports.HEADER
    one, two = ledger["a"], ledger["b"]
    day = ("2026-11-30", "2026-11-30")
    assert rows[1:] == [
        # from, to, partner, party, checkout, reference, receipt, CDRs, currency,
        # held, captured, released, refunded, disputed, paid, VAT, owed, borne by the CPO, fee,
        # who sold
        [
            *(*day, "Test CPO", "DE*ABC", str(one.pk), "REF-ONE", receipt_number(one), "CDR-1"),
            "EUR",
            *("50.00", "12.30", "37.70", "0.00", "0.00", "12.30", "1.96", "12.30", "0.00"),
            *("0.00", "platform"),
        ],
        [
            *(*day, "Test CPO", "DE*ABC", str(two.pk), "REF-TWO", receipt_number(two)),
            *("CDR-2A CDR-2B", "EUR"),
            *("0.00", "20.00", "30.00", "5.00", "3.00", "12.00", "1.92", "21.50", "0.00"),
            *("-9.50", "platform"),
        ],
        [
            *(*day, "Test CPO", "", "total", "", "", "", "EUR"),
            *("50.00", "32.30", "67.70", "5.00", "3.00", "24.30", "3.88", "33.80", "0.00"),
            *("-9.50", ""),
        ],
    ]


def test_other_partners_and_other_days_are_left_out(operator: Client, ledger) -> None:
    every_partner = download(operator, first="2026-11-30", last="2026-11-30")
    assert [row[4] for row in every_partner[1:]] == [
        str(ledger["a"].pk),
        str(ledger["b"].pk),
        str(ledger["other"].pk),
        "total",
    ]
    assert every_partner[-1][10] == "42.29"  # captured: 12.30 + 20.00 + 9.99
    next_day = download(
        operator, first="2026-12-01", last="2026-12-01", partner=ledger["a"].partner.pk
    )
    assert next_day[1][4] == str(ledger["a"].pk) and next_day[1][12] == "2.00"  # the refund
    assert next_day[2][4] == "total" and len(next_day) == 3
    assert download(operator, first="2026-11-28", last="2026-11-28") == [exports.HEADER]
    both = download(operator, first="2026-11-30", last="2026-12-01", partner=ledger["a"].partner.pk)
    assert both[1][:2] == ["2026-11-30", "2026-12-01"] and both[1][12] == "2.00"


def test_days_begin_at_midnight_in_the_platforms_time_zone(ledger, settings) -> None:
    settings.TIME_ZONE = "Europe/Berlin"  # UTC+1 in November
    rows = exports.settlement_rows(DAY, ledger["a"].partner_id)
    # Checkout two's hold (23:00 UTC on the 29th) is midnight in Berlin: the 30th. Its refund
    # at 23:59 UTC on the 30th is the 1st in Berlin.
    two = next(row for row in rows if row.checkout_id == ledger["b"].pk)
    assert (two.sums.held, two.sums.refunded) == (5000, 0)


def test_amounts_use_the_currencys_decimals(ledger) -> None:
    yen = checkout_of(ledger["a"].partner, "REF-YEN", currency="JPY")
    book(yen, "capture", 1500, at(30, 12))
    rows = exports.settlement_rows(DAY, ledger["a"].partner_id)
    out = io.StringIO()
    exports.write_settlement_csv(rows, out)
    lines = list(csv.reader(io.StringIO(out.getvalue())))
    totals = {line[8]: line for line in lines if line[4] == "total"}
    assert totals["JPY"][10] == "1500" and totals["EUR"][10] == "32.30"  # a total per currency


def test_the_export_page_offers_a_day_and_a_partner(operator: Client, ledger) -> None:

    page = operator.get("/admin/payments/checkout/settlement/").content.decode()
    assert 'name="first"' in page and 'name="last"' in page
    assert "Other CPO" in page and "all partners" in page
    listing = operator.get("/admin/payments/checkout/").content.decode()
    assert "/admin/payments/checkout/settlement/" in listing
    wrong = operator.get(
        "/admin/payments/checkout/settlement/", {"first": "yesterday", "last": "2026-11-30"}
    )
    assert wrong.status_code == 200 and "Enter a valid date" in wrong.content.decode()
    backwards = operator.get(
        "/admin/payments/checkout/settlement/", {"first": "2026-11-30", "last": "2026-11-29"}
    )
    assert "The last day comes before the first." in backwards.content.decode()


def test_the_checkout_page_shows_its_ledger_sums(operator: Client, ledger) -> None:

    page = operator.get(f"/admin/payments/checkout/{ledger['a'].pk}/change/").content.decode()
    assert (
        "held €50.00 · captured €12.30 · released €37.70 · refunded €2.00 · "
        "paid by the driver €10.30 · owed to the CPO €12.30"
    ) in page
