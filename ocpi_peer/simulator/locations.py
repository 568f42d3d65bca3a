"""The simulator's Locations Sender (checklist §4): synthetic sites, paginated like a CPMS.

Location `i` (0-based) is a pure function of `i`, the version and the CPO's identity, so a list of
20,000 costs nothing until a page is asked for, and a test can rebuild any object the platform
should have stored. `last_updated` is `EPOCH + i` seconds: a date window is a range of indexes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

from .transport import (
    InboundRequest,
    OcpiFailure,
    Reply,
    Status,
    format_datetime,
    is_221_shape,
    parse_datetime,
)

if TYPE_CHECKING:
    from .server import CpoSimulator

EPOCH: Final = datetime(2026, 1, 1, tzinfo=UTC)
AC_TARIFF_ID: Final = "TARIFF-AC"  # what the connectors point to; simulator/tariffs.py serves them
DC_TARIFF_ID: Final = "TARIFF-DC"
EVSES_PER_LOCATION: Final = 2
CONNECTORS_PER_EVSE: Final = 2

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
    return EPOCH + timedelta(seconds=index)


def location_object(
    version: str, index: int, *, country_code: str, party_id: str, operator_name: str
) -> dict[str, Any]:
    """Location number `index` as that version's Sender would send it (2.1.1 per checklist 4.5).

    Every EVSE has an AC and a DC flavour alternately; statuses vary deterministically so that a
    map shows some CHARGING and OUTOFORDER points."""
    alpha3, time_zone, city = _COUNTRIES.get(country_code.upper(), _COUNTRIES["NL"])
    stamp = format_datetime(last_updated(index))
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
            _evse(version, index, n, country_code=country_code, party_id=party_id, stamp=stamp)
            for n in range(1, EVSES_PER_LOCATION + 1)
        ],
        "operator": {"name": operator_name},
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
    version: str, index: int, n: int, *, country_code: str, party_id: str, stamp: str
) -> dict[str, Any]:
    dc = n % 2 == 0
    status = "AVAILABLE"
    if index % 7 == 3 and n == 1:
        status = "CHARGING"
    elif index % 11 == 5 and n == 2:
        status = "OUTOFORDER"
    connectors = (
        [
            ("IEC_62196_T2_COMBO", "CABLE", "DC", 500, 125, 50_000),
            ("CHADEMO", "CABLE", "DC", 500, 125, 50_000),
        ]
        if dc
        else [
            ("IEC_62196_T2", "SOCKET", "AC_3_PHASE", 230, 32, 22_080),
            ("DOMESTIC_F", "SOCKET", "AC_1_PHASE", 230, 16, 3_680),
        ]
    )
    tariff = DC_TARIFF_ID if dc else AC_TARIFF_ID
    return {
        "uid": f"{location_id(index)}-{n}",
        "evse_id": f"{country_code}*{party_id}*E{index + 1:05d}*{n}",
        "status": status,
        "capabilities": ["REMOTE_START_STOP_CAPABLE", "RFID_READER"],
        "connectors": [
            _connector(version, str(c), spec, tariff=tariff, stamp=stamp)
            for c, spec in enumerate(connectors[:CONNECTORS_PER_EVSE], start=1)
        ],
        "physical_reference": f"{index + 1}-{n}",
        "last_updated": stamp,
    }


def _connector(
    version: str,
    connector_id: str,
    spec: tuple[str, str, str, int, int, int],
    *,
    tariff: str,
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
            "tariff_ids": [tariff],
        }
    else:  # 2.1.1: no max_ prefix, one tariff_id, no max_electric_power
        connector |= {"voltage": volts, "amperage": amps, "tariff_id": tariff}
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
    query = request.query
    first, end = 0, sim.location_count
    if "date_from" in query:
        first = max(first, _seconds_ceil(_parse_date(query, "date_from")))
    if "date_to" in query:
        end = min(end, _seconds_ceil(_parse_date(query, "date_to")))
    total = max(0, end - first)
    offset = _parse_int(query, "offset", default=0)
    limit = min(_parse_int(query, "limit", default=sim.page_size), sim.page_size)
    start = first + offset
    stop = min(end, start + limit)
    page = [sim.location(i, request.version) for i in range(start, stop)]
    headers = {"X-Total-Count": str(total), "X-Limit": str(sim.page_size)}
    if page and offset + len(page) < total:
        params: list[tuple[str, str]] = [
            (name, query[name]) for name in ("date_from", "date_to") if name in query
        ]
        params += [("offset", str(offset + len(page))), ("limit", str(limit))]
        next_url = f"{sim.version_url(request.version)}/locations?{urlencode(params)}"
        headers["Link"] = f'<{next_url}>; rel="next"'
    return Reply(page, headers=headers)


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


def _parse_date(query: dict[str, str], name: str) -> datetime:
    try:
        return parse_datetime(query[name])
    except ValueError as exc:
        raise OcpiFailure(Status.INVALID_PARAMETERS, f"{name}: {exc}") from exc


def _parse_int(query: dict[str, str], name: str, *, default: int) -> int:
    if name not in query:
        return default
    try:
        value = int(query[name])
    except ValueError:
        value = -1
    if value < 0:
        raise OcpiFailure(Status.INVALID_PARAMETERS, f"{name} must be a non-negative integer")
    return value


def _seconds_ceil(moment: datetime) -> int:
    """The first index whose `last_updated` is at or after `moment` (integer maths, no floats)."""
    micros = (moment - EPOCH) // timedelta(microseconds=1)
    return max(0, -(-micros // 1_000_000))
