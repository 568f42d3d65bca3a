"""A partner chooses its business name, party id and CDR ids; in the settlement export none of
them may run as a formula in the accountant's spreadsheet, and amounts stay numbers, a negative
one too."""

import csv
import io
from decimal import Decimal

import pytest

from ocpi_peer.models import Partner
from payments import exports
from tests.payments.charger import charger
from tests.payments.ledger_rows import at, book, cdr_of, checkout_of
from tests.support.roles import signed_in

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://x","y")'


def test_it_writes_formulas_as_text_and_amounts_as_numbers() -> None:
    charger()
    Partner.objects.filter(name="Test CPO").update(name=HYPERLINK)
    checkout = checkout_of(Partner.objects.get(), "+REF")
    cdr_of(checkout, "@SUM(A1)", Decimal("13.58"))
    book(checkout, "capture", 1230, at(30, 10))
    book(checkout, "payable", 1358, at(30, 10))

    answer = signed_in("ben", "finance").get(
        "/admin/payments/checkout/settlement/", {"first": "2026-11-30", "last": "2026-11-30"}
    )
    row = list(csv.reader(io.StringIO(answer.content.decode())))[1]
    by_column = dict(zip(exports.HEADER, row, strict=True))
    assert by_column["partner"] == "'" + HYPERLINK
    assert by_column["authorization_reference"] == "'+REF"
    assert by_column["cdr_ids"] == "'@SUM(A1)"
    assert by_column["captured"] == "12.30" and by_column["owed_to_cpo"] == "13.58"
    assert by_column["platform_fee"] == "-1.28"  # a number, not text
    assert Decimal(by_column["platform_fee"]) == Decimal("-1.28")


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_each_formula_start_is_neutralised(start: str) -> None:
    assert exports.inert(f"{start}1+1") == f"'{start}1+1"


def test_plain_text_is_left_alone() -> None:
    assert [exports.inert(text) for text in ("DE*ABC", "Test CPO", "", "a=b")] == [
        "DE*ABC",
        "Test CPO",
        "",
        "a=b",
    ]
