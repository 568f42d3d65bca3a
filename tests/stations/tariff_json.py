"""TEST-ONLY reader: an OCPI 2.2.1 Tariff and a list of ChargingPeriods (JSON, as parsed with
`parse_float=Decimal`) into `stations.pricing` values. The project's serializers replace it;
it checks nothing the engine does not, and stays small."""

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest

from stations.pricing import (
    ChargingPeriod,
    Price,
    PriceComponent,
    Tariff,
    TariffElement,
    TariffRestrictions,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
# In CI the repository is cloned somewhere else with a copy of shared/ beside it.
EXAMPLES = REPO_ROOT.parent / "shared" / "ocpi-examples"
DATA = Path(__file__).resolve().parent / "data"
T = TypeVar("T")


def examples_dir(version: str = "2.2.1") -> Path:
    folder = EXAMPLES / version
    if not folder.is_dir():
        pytest.skip(f"OCPI examples not found at {folder} (shared/ should sit beside the repo)")
    return folder


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def load_example(name: str, version: str = "2.2.1") -> Any:
    return load_json(examples_dir(version) / name)


def number(value: Any) -> Decimal:
    """JSON numbers arrive as Decimal or int; a float means the JSON was parsed wrongly."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"not a JSON number read as Decimal: {value!r}")
    return Decimal(value)


def optional_number(value: Any) -> Decimal | None:
    return None if value is None else number(value)


def parse_datetime(value: str) -> datetime:
    """OCPI DateTime: UTC, `Z` or no zone at all (the spec says UTC either way)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def read_price(data: dict[str, Any] | None) -> Price | None:
    if data is None:
        return None
    return Price(number(data["excl_vat"]), optional_number(data.get("incl_vat")))


def read_restrictions(data: dict[str, Any] | None) -> TariffRestrictions | None:
    if data is None:
        return None

    def field(key: str, parse: Callable[[Any], T]) -> T | None:
        return None if data.get(key) is None else parse(data[key])

    return TariffRestrictions(
        start_time=field("start_time", time.fromisoformat),
        end_time=field("end_time", time.fromisoformat),
        start_date=field("start_date", date.fromisoformat),
        end_date=field("end_date", date.fromisoformat),
        min_kwh=field("min_kwh", number),
        max_kwh=field("max_kwh", number),
        min_current=field("min_current", number),
        max_current=field("max_current", number),
        min_power=field("min_power", number),
        max_power=field("max_power", number),
        min_duration=data.get("min_duration"),
        max_duration=data.get("max_duration"),
        day_of_week=frozenset(data.get("day_of_week", ())),
        reservation=data.get("reservation"),
    )


def read_tariff(data: dict[str, Any], *, time_zone: str | None = None) -> Tariff:
    """`time_zone` comes from the Location, not from the Tariff."""
    return Tariff(
        currency=data["currency"],
        elements=tuple(
            TariffElement(
                price_components=tuple(
                    PriceComponent(
                        type=c["type"],
                        price=number(c["price"]),
                        vat=optional_number(c.get("vat")),
                        step_size=c["step_size"],
                    )
                    for c in element["price_components"]
                ),
                restrictions=read_restrictions(element.get("restrictions")),
            )
            for element in data["elements"]
        ),
        min_price=read_price(data.get("min_price")),
        max_price=read_price(data.get("max_price")),
        time_zone=time_zone,
    )


def read_periods(data: list[dict[str, Any]]) -> list[ChargingPeriod]:
    return [
        ChargingPeriod(
            start=parse_datetime(period["start_date_time"]),
            dimensions={d["type"]: number(d["volume"]) for d in period["dimensions"]},
        )
        for period in data
    ]
