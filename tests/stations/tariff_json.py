"""TEST-ONLY reader: an OCPI 2.2.1 Tariff and a list of ChargingPeriods (JSON, as parsed with
`parse_float=Decimal`) into `stations.pricing` values, without the version serializers, so the
engine's tests need no Django validation. Elements are read by `stations.tariffs`, the same code
that reads stored tariffs; it checks nothing the engine does not, and stays small."""

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from stations.pricing import ChargingPeriod, Price, Tariff
from stations.tariffs import number, read_elements, read_restrictions
from stations.tariffs import read_price as stations_read_price
from tests.ocpi.examples import example_path

__all__ = ["number", "read_restrictions"]  # still importable from here

DATA = Path(__file__).resolve().parent / "data"


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def load_example(name: str, version: str = "2.2.1") -> Any:
    return load_json(example_path(name, version))


def parse_datetime(value: str) -> datetime:
    """OCPI DateTime: UTC, `Z` or no zone at all (the spec says UTC either way)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def read_price(data: dict[str, Any] | None) -> Price | None:
    if data is None:
        return None
    return stations_read_price(data["excl_vat"], data.get("incl_vat"))


def read_tariff(data: dict[str, Any], *, time_zone: str | None = None) -> Tariff:
    """`time_zone` comes from the Location, not from the Tariff."""
    return Tariff(
        currency=data["currency"],
        elements=read_elements(data["elements"]),
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
