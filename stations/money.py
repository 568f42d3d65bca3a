"""Money: exact Decimals with a currency, rounded to minor units in one place.

Prices (`stations.pricing`) stay exact until money is charged; then `round_to_minor` rounds them
half-up (away from zero, refunds too) to the currency's minor unit, from the ISO 4217 table below,
never an assumed 2 decimals (STYLE §6). `Money` is the value payments carry: it turns into
Stripe's integer minor units with `to_minor` and back with `from_minor`, the same rounding.
It lives at the bottom, beside the engine that needs the table, so that `stations` and `payments`
share one table and one rounding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

# ISO 4217 minor units of the currencies a European CPO may price in (and a few more). A
# currency missing here is refused, never assumed to have 2 decimals (STYLE §6).
MINOR_UNITS: Mapping[str, int] = MappingProxyType(
    {
        "EUR": 2, "CHF": 2, "GBP": 2, "DKK": 2, "NOK": 2, "SEK": 2, "PLN": 2, "CZK": 2,
        "HUF": 2, "RON": 2, "BGN": 2, "RSD": 2, "TRY": 2, "UAH": 2, "USD": 2, "CAD": 2,
        "AUD": 2, "NZD": 2, "ISK": 0, "JPY": 0, "KRW": 0, "CLP": 0, "BHD": 3, "KWD": 3,
        "JOD": 3, "OMR": 3, "TND": 3,
    }
)  # fmt: skip


class UnknownCurrency(ValueError):
    """A currency without a minor-unit entry: it cannot be charged, so it is refused."""


def minor_units(currency: str) -> int:
    """Decimal places of the currency's minor unit (EUR 2, JPY 0, KWD 3)."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise UnknownCurrency(f"no minor-unit entry for currency {currency!r}") from None


def round_to_minor(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded half-up (away from zero, refunds too) to the currency's minor unit;
    for the moment money is charged, never for intermediate results."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str  # ISO 4217

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or self.currency not in MINOR_UNITS:
            raise TypeError(f"not money: {self.amount!r} {self.currency!r}")

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} with {other.currency}")

    def __lt__(self, other: Money) -> bool:  # so min(cdr_total, shown_price, hold) works
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def to_minor(self) -> int:
        """Stripe's integer amount: rounded as `round_to_minor` rounds, then scaled."""
        return int(round_to_minor(self.amount, self.currency).scaleb(MINOR_UNITS[self.currency]))

    def rounded(self) -> Money:
        return Money.from_minor(self.to_minor(), self.currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        return cls(Decimal(minor).scaleb(-MINOR_UNITS[currency]), currency)

    def __str__(self) -> str:
        """As `stations.l10n.money` writes it, in the active language: "€12.30" / "12,30 €"."""
        from stations.l10n import money  # l10n builds on this module

        return money(self.amount, self.currency)
