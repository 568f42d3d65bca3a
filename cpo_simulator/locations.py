"""The simulator's Locations Sender (checklist §4): synthetic sites, paginated like a CPMS.

Location `i` (0-based) is a pure function of `i`, the version and the fleet's shape, so a list of
20,000 costs nothing until a page is asked for, and a test can rebuild any object the platform
should have stored. `last_updated` is `EPOCH + i` seconds: a date window is a range of indexes.
What a test changes since (`CpoSimulator.touch`, `push_evse_status`) is kept apart, as a small
`Change` per changed location, and laid over the generated object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from . import tariffs
from .transport import (
    InboundRequest,
    OcpiFailure,
    Reply,
    Status,
    format_datetime,
    is_221_shape,
    list_page,
    matching,
    stamp_of,
)

if TYPE_CHECKING:
    from .server import CpoSimulator

EVSES_PER_LOCATION: Final = 2  # the default shape: an AC and a DC EVSE ...
CONNECTORS_PER_EVSE: Final = 2  # ... with two connectors each
EVSE_STATUSES: Final = (
    "AVAILABLE",
    "BLOCKED",
    "CHARGING",
    "INOPERATIVE",
    "OUTOFORDER",
    "PLANNED",
    "REMOVED",
    "RESERVED",
    "UNKNOWN",
)  # the same nine in 2.1.1 and 2.2.1

# (standard, format, power type, volts, amps, watts), used in turn by an EVSE's connectors.
_AC_CONNECTORS: Final = (
    ("IEC_62196_T2", "SOCKET", "AC_3_PHASE", 230, 32, 22_080),
    ("DOMESTIC_F", "SOCKET", "AC_1_PHASE", 230, 16, 3_680),
)
_DC_CONNECTORS: Final = (
    ("IEC_62196_T2_COMBO", "CABLE", "DC", 500, 125, 50_000),
    ("CHADEMO", "CABLE", "DC", 500, 125, 50_000),
)

# ISO 3166-1 alpha-2 -> (alpha-3, IANA zone, a city); an unknown code falls back to the first.
_COUNTRIES: Final = {
    "NL": ("NLD", "Europe/Amsterdam", "Amsterdam"),
    "BE": ("BEL", "Europe/Brussels", "Gent"),
    "DE": ("DEU", "Europe/Berlin", "Berlin"),
    "FR": ("FRA", "Europe/Paris", "Lyon"),
    "GB": ("GBR", "Europe/London", "Bristol"),
    "CH": ("CHE", "Europe/Zurich", "Bern"),
    "AT": ("AUT", "Europe/Vienna", "Graz"),
    "DK": ("DNK", "Europe/Copenhagen", "Aarhus"),
    "NO": ("NOR", "Europe/Oslo", "Bergen"),
    "SE": ("SWE", "Europe/Stockholm", "Malmö"),
}
_LOCATION_ID = re.compile(r"^LOC(\d+)$")


def location_id(index: int) -> str:
    return f"LOC{index + 1:05d}"


def location_index(text: str) -> int | None:
    """The index of a simulator location id, or None if it is not one of ours."""
    match = _LOCATION_ID.match(text)
    if match is None:
        return None
    index = int(match.group(1)) - 1
    return index if index >= 0 and location_id(index) == text else None


def last_updated(index: int) -> datetime:
    """When location `index` was last updated, unless it was changed since."""
    return stamp_of(index)


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


@dataclass(slots=True)
class Change:
    """What changed at one location since it was generated: its `last_updated`, and per EVSE
    number a `last_updated` and perhaps a new status. Connectors never change."""

    last_updated: datetime
    evse_updated: dict[int, datetime] = field(default_factory=dict)
    evse_status: dict[int, str] = field(default_factory=dict)


def location_object(
    version: str, index: int, fleet: Fleet, change: Change | None = None
) -> dict[str, Any]:
    """Location number `index` as that version's Sender would send it (2.1.1 per checklist 4.5),
    with `change` laid over it.

    EVSEs are AC and DC alternately (the first AC); statuses vary deterministically so that a
    map shows some CHARGING and OUTOFORDER points."""
    country_code, party_id = fleet.country_code, fleet.party_id
    alpha3, time_zone, city = _COUNTRIES.get(country_code.upper(), _COUNTRIES["NL"])
    base_stamp = format_datetime(last_updated(index))
    stamp = format_datetime(change.last_updated) if change else base_stamp
    modern = is_221_shape(version)
    number = index + 1
    location: dict[str, Any] = {}
    if modern:
        location |= {"country_code": country_code, "party_id": party_id}
    location["id"] = location_id(index)
    if modern:
        location["publish"] = True
    else:
        location["type"] = "ON_STREET"  # 2.1.1: required LocationType instead of parking_type
    location |= {
        "name": f"Simulated site {number}",
        "address": f"Simulatorstraat {number}",
        "city": city,
        "postal_code": f"{1000 + index % 9000}AB",
        "country": alpha3,
        "coordinates": _coordinates(index),
    }
    if modern:
        location["parking_type"] = "ON_STREET"
    location |= {
        "evses": [
            _evse(version, index, n, fleet, stamp=base_stamp, change=change)
            for n in range(1, fleet.evses_per_location + 1)
        ],
        "operator": {"name": fleet.operator_name},
        "time_zone": time_zone,
        "opening_times": {"twentyfourseven": True},
        "last_updated": stamp,
    }
    return location


def _coordinates(index: int) -> dict[str, str]:
    """Spread over ~0.5 degrees with exactly 6 decimals: valid for both versions' regexes."""
    lat = 52_000_000 + (index * 7_919) % 500_000
    lon = 4_500_000 + (index * 104_729) % 500_000
    return {
        "latitude": f"{lat // 1_000_000}.{lat % 1_000_000:06d}",
        "longitude": f"{lon // 1_000_000}.{lon % 1_000_000:06d}",
    }


def _evse(
    version: str, index: int, n: int, fleet: Fleet, *, stamp: str, change: Change | None
) -> dict[str, Any]:
    dc = n % 2 == 0
    status = "AVAILABLE"
    if index % 7 == 3 and n == 1:
        status = "CHARGING"
    elif index % 11 == 5 and n == 2:
        status = "OUTOFORDER"
    evse_stamp = stamp
    if change is not None:
        status = change.evse_status.get(n, status)
        if n in change.evse_updated:
            evse_stamp = format_datetime(change.evse_updated[n])
    kinds = _DC_CONNECTORS if dc else _AC_CONNECTORS
    tariff_ids = tariffs.connector_tariff_ids(
        fleet.tariff_count,
        ad_hoc_tariffs=fleet.ad_hoc_tariffs,
        version=version,
        location=index,
        dc=dc,
    )
    return {
        "uid": evse_uid(index, n),
        "evse_id": f"{fleet.country_code}*{fleet.party_id}*E{index + 1:05d}*{n}",
        "status": status,
        "capabilities": ["REMOTE_START_STOP_CAPABLE", "RFID_READER"],
        "connectors": [
            _connector(version, str(c), kinds[(c - 1) % len(kinds)], tariff_ids, stamp=stamp)
            for c in range(1, fleet.connectors_per_evse + 1)
        ],
        "physical_reference": f"{index + 1}-{n}",
        "last_updated": evse_stamp,
    }


def evse_uid(index: int, n: int) -> str:
    """The uid of EVSE number `n` (1-based) of location `index`."""
    return f"{location_id(index)}-{n}"


def _connector(
    version: str,
    connector_id: str,
    spec: tuple[str, str, str, int, int, int],
    tariff_ids: list[str],
    *,
    stamp: str,
) -> dict[str, Any]:
    standard, fmt, power_type, volts, amps, watts = spec
    connector: dict[str, Any] = {
        "id": connector_id,
        "standard": standard,
        "format": fmt,
        "power_type": power_type,
    }
    if is_221_shape(version):
        connector |= {
            "max_voltage": volts,
            "max_amperage": amps,
            "max_electric_power": watts,
        }
        if tariff_ids:
            connector["tariff_ids"] = list(tariff_ids)
    else:  # 2.1.1: no max_ prefix, one tariff_id, no max_electric_power
        connector |= {"voltage": volts, "amperage": amps}
        if tariff_ids:
            connector["tariff_id"] = tariff_ids[0]
    connector["last_updated"] = stamp
    return connector


def handle(sim: CpoSimulator, request: InboundRequest) -> Reply:
    """GET list, or GET one Location / EVSE / Connector (Sender interface, checklist 4.1)."""
    if request.method != "GET":
        raise OcpiFailure(
            Status.CLIENT_ERROR, "the Locations Sender only answers GET", http_status=405
        )
    if not request.segments:
        return _list(sim, request)
    return _one(sim, request)


def _list(sim: CpoSimulator, request: InboundRequest) -> Reply:
    """T-19: offset/limit (capped at page_size), date_from inclusive, date_to exclusive."""
    return list_page(
        request.query,
        matching(sim.location_count, request.query, sim.changed_locations()),
        lambda index: sim.location(index, request.version),
        page_size=sim.page_size,
        list_url=f"{sim.version_url(request.version)}/locations",
        fail_after_pages=sim.fail_after_pages,
    )


def _one(sim: CpoSimulator, request: InboundRequest) -> Reply:
    """`{url}/{location_id}[/{evse_uid}[/{connector_id}]]`; unknown ids are HTTP 404."""
    location_key, *rest = request.segments
    index = location_index(location_key)
    if index is None or index >= sim.location_count or len(rest) > 2:
        raise OcpiFailure(Status.UNKNOWN_LOCATION, f"no location {location_key!r}", http_status=404)
    found = sim.location(index, request.version)
    for (child, key), wanted in zip((("evses", "uid"), ("connectors", "id")), rest, strict=False):
        match = next((item for item in found[child] if item[key] == wanted), None)
        if match is None:
            raise OcpiFailure(Status.CLIENT_ERROR, f"no {child[:-1]} {wanted!r}", http_status=404)
        found = match
    return Reply(found)
