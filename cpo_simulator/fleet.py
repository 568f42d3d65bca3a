"""The shape of the simulated fleet, and what changed at a location since it was generated.

Plain data that `locations.py` and `tariffs.py` both read; kept apart so that neither imports
the other's module for its types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Final

EVSES_PER_LOCATION: Final = 2  # the default shape: an AC and a DC EVSE ...
CONNECTORS_PER_EVSE: Final = 2  # ... with two connectors each


@dataclass(frozen=True)
class Fleet:
    """The shape of every simulated location and of the tariffs its connectors name."""

    country_code: str
    party_id: str
    operator_name: str
    evses_per_location: int = EVSES_PER_LOCATION
    connectors_per_evse: int = CONNECTORS_PER_EVSE
    tariff_count: int = 2
    ad_hoc_tariffs: bool = False
    max_price: Decimal | None = None  # every 2.2+ tariff's max_price, incl. VAT
    preauthorize_amount: Decimal | None = None  # every 2.3.0 tariff's, what a PTP should hold


@dataclass(slots=True)
class Change:
    """What changed at one location since it was generated: its `last_updated`, and per EVSE
    number a `last_updated` and perhaps a new status. Connectors never change."""

    last_updated: datetime
    evse_updated: dict[int, datetime] = field(default_factory=dict)
    evse_status: dict[int, str] = field(default_factory=dict)
