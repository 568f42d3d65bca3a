"""Money is a value: an exact Decimal with a currency, turned into Stripe's integer minor units
in one place (`to_minor`), half-up, from the minor-unit table (never an assumed 2 decimals)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from stations.pricing import MINOR_UNITS


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
        exact = self.amount.scaleb(MINOR_UNITS[self.currency])
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def rounded(self) -> Money:
        return Money.from_minor(self.to_minor(), self.currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        return cls(Decimal(minor).scaleb(-MINOR_UNITS[currency]), currency)

    def __str__(self) -> str:
        return f"{self.rounded().amount} {self.currency}"
