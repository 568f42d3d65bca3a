"""Every amount an operator reads is written by one function: rounded to the currency's minor
unit and shown with exactly its decimals, in the reader's language; never minor units, never
the pricing engine's exact figure."""

from decimal import Decimal

import pytest
from django.utils import translation

from payments.models import LedgerEntry
from stations.l10n import money
from stations.money import Money


@pytest.mark.parametrize(
    ("amount", "currency", "english", "german"),
    [
        (Decimal("0.876941702"), "EUR", "€0.88", "0,88 €"),
        (Decimal("53.566792724666666666666666666666666666667"), "EUR", "€53.57", "53,57 €"),
        (Decimal("50"), "EUR", "€50.00", "50,00 €"),
        (Decimal("-0.2"), "EUR", "-€0.20", "-0,20 €"),
        (Decimal("0.005"), "EUR", "€0.01", "0,01 €"),  # half-up, as money is charged
        (Decimal("500.4"), "JPY", "JPY 500", "500 JPY"),
        (Decimal("1.25"), "KWD", "KWD 1.250", "1,250 KWD"),
    ],
)
def test_it_writes_money_with_the_currencys_decimals_in_the_readers_language(
    amount: Decimal, currency: str, english: str, german: str
) -> None:
    with translation.override("en"):
        assert money(amount, currency) == english
    with translation.override("de"):
        assert money(amount, currency) == german


def test_it_is_how_money_and_ledger_rows_read() -> None:
    with translation.override("en"):
        assert str(Money.from_minor(5000, "EUR")) == "€50.00"
        entry = LedgerEntry(kind=LedgerEntry.Kind.HOLD, amount_minor=5000, currency="EUR")
        assert str(entry) == "Hold €50.00"
        payable = LedgerEntry(kind=LedgerEntry.Kind.PAYABLE, amount_minor=-1, currency="EUR")
        assert str(payable) == "payable to the CPO -€0.01"
