"""The simulator's Locations Sender (checklist §4): synthetic sites, paginated like a CPMS.

Location `i` (0-based) is a pure function of `i`, the version and the fleet's shape, so a list of
20,000 costs nothing until a page is asked for, and a test can rebuild any object the platform
should have stored. `last_updated` is `EPOCH + i` seconds: a date window is a range of indexes.
What a test changes since (`CpoSimulator.touch`, `push_evse_status`) is kept apart, as a small
`Change` per changed location, and laid over the generated object; `Stations` holds both.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final
from urllib.parse import quote

import httpx

from . import tariffs
from .fleet import Change, Fleet
from .peer import Peer
from .transport import (
    InboundRequest,
    OcpiFailure,
    Paging,
    Reply,
    SimulatorError,
    Status,
    format_datetime,
    is_221_shape,
    matching,
    stamp_of,
)

logger = logging.getLogger("cpo_simulator")
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


def connector_kw(evse_number: int, connector_id: str) -> Decimal | None:
    """The most power connector `connector_id` of EVSE number `evse_number` delivers (kW), as
    its `max_electric_power` says; None for a connector id the fleet does not have."""
    if not connector_id.isdigit() or int(connector_id) < 1:
        return None
    kinds = _DC_CONNECTORS if evse_number % 2 == 0 else _AC_CONNECTORS
    watts = kinds[(int(connector_id) - 1) % len(kinds)][5]
    return Decimal(watts) / 1000


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


class Stations:
    """The fleet: `location_count` locations of `fleet`'s shape, generated on demand, and what
    changed at them since (`changes`, by location index, read and written under `lock`)."""

    def __init__(self, fleet: Fleet, location_count: int, lock: threading.RLock) -> None:
        self.fleet = fleet
        self.location_count = location_count
        self.lock = lock
        self.changes: dict[int, Change] = {}

    def location(self, index: int, version: str) -> dict[str, Any]:
        """Location number `index` (0-based) as served under `version`, with what changed."""
        with self.lock:
            change = self.changes.get(index)
            if change is not None:  # a copy: the churn thread may change it meanwhile
                change = Change(
                    change.last_updated, dict(change.evse_updated), dict(change.evse_status)
                )
        return location_object(version, index, self.fleet, change)

    def changed_locations(self) -> dict[int, datetime]:
        """`last_updated` of each location changed since it was generated, by index."""
        with self.lock:
            return {index: change.last_updated for index, change in self.changes.items()}

    def plans(self, version: str) -> tuple[tariffs.Plan, ...]:
        return tariffs.catalogue(
            self.fleet.tariff_count, ad_hoc_tariffs=self.fleet.ad_hoc_tariffs, version=version
        )

    def tariff(self, tariff_id: str, version: str) -> dict[str, Any]:
        """Tariff `tariff_id` as served under `version`; ValueError if there is none."""
        return tariffs.find(self.fleet, tariff_id, version)

    def check_index(self, index: int) -> None:
        if not 0 <= index < self.location_count:
            raise ValueError(f"location index must be 0 to {self.location_count - 1}")

    def check_evse(self, evse_number: int) -> None:
        if not 1 <= evse_number <= self.fleet.evses_per_location:
            raise ValueError(f"EVSE number must be 1 to {self.fleet.evses_per_location}")

    def touch(self, index: int, at: datetime | None = None) -> datetime:
        """Location `index` and its EVSEs were updated at `at` (default now; whole seconds,
        UTC). Returns the stamp."""
        self.check_index(index)
        moment = whole_seconds(at)
        with self.lock:
            change = self.changes.setdefault(index, Change(moment))
            change.last_updated = moment
            for n in range(1, self.fleet.evses_per_location + 1):
                change.evse_updated[n] = moment
        return moment

    def set_evse_status(self, index: int, evse_number: int, status: str, moment: datetime) -> None:
        """The EVSE's status changed at `moment`; the location's `last_updated` moves with it
        (L-01)."""
        with self.lock:
            change = self.changes.setdefault(index, Change(last_updated(index)))
            change.last_updated = max(change.last_updated, moment)
            change.evse_updated[evse_number] = moment
            change.evse_status[evse_number] = status

    def record_evse_status(self, index: int, evse_number: int, status: str) -> datetime:
        """Record the EVSE's new status now, stamped (real clock, whole seconds) strictly after
        its previous stamp, so that a quick CHARGING then AVAILABLE are not equally old."""
        moment = whole_seconds(None)
        with self.lock:
            change = self.changes.setdefault(index, Change(last_updated(index)))
            previous = change.evse_updated.get(evse_number)
            if previous is not None and moment <= previous:
                moment = previous + timedelta(seconds=1)
            change.last_updated = max(change.last_updated, moment)
            change.evse_updated[evse_number] = moment
            change.evse_status[evse_number] = status
        return moment


def whole_seconds(at: datetime | None) -> datetime:
    """`at` (default now) in UTC without its fraction: what the simulator's DateTimes carry."""
    moment = datetime.now(UTC) if at is None else at
    if moment.tzinfo is None:
        raise ValueError("a change needs an aware datetime")
    return moment.astimezone(UTC).replace(microsecond=0)


def locations_path(fleet: Fleet, index: int, *below: str) -> str:
    """Below the eMSP's Locations endpoint: the CPO's `cc`/`pid`, the location id, and more."""
    parts = [fleet.country_code, fleet.party_id, location_id(index), *below]
    return "locations/" + "/".join(quote(part, safe="") for part in parts)


def tell_evse_status(
    peer: Peer, fleet: Fleet, index: int, evse_number: int, status: str, moment: datetime
) -> None:
    """PATCH a status recorded at `moment` to the eMSP's Locations Receiver, if it has one;
    failures are logged, as a CPMS would."""
    path = locations_path(fleet, index, evse_uid(index, evse_number))
    body = {"status": status, "last_updated": format_datetime(moment)}
    try:
        peer.call_us("PATCH", path, json=body)
    except SimulatorError as exc:
        logger.info("EVSE status %s not pushed: %s", status, exc)


def push_evse_status(
    stations: Stations,
    peer: Peer,
    index: int,
    evse_number: int,
    status: str,
    at: datetime | None = None,
) -> httpx.Response:
    """The EVSE's status changed at `at` (default now): record it, so GETs and pulls show
    it (the location's `last_updated` moves with it, L-01), then PATCH `{status,
    last_updated}` to the eMSP's Locations Receiver with the current token. SimulatorError
    if there is no eMSP to push to or it cannot be reached (the change stays recorded)."""
    stations.check_index(index)
    stations.check_evse(evse_number)
    if status not in EVSE_STATUSES:
        raise ValueError(f"status must be one of {EVSE_STATUSES}")
    moment = whole_seconds(at)
    path = locations_path(stations.fleet, index, evse_uid(index, evse_number))
    peer.resolve(path)  # no eMSP to tell: raise before recording anything
    stations.set_evse_status(index, evse_number, status, moment)
    body = {"status": status, "last_updated": format_datetime(moment)}
    return peer.call_us("PATCH", path, json=body)


def push_location(stations: Stations, peer: Peer, index: int) -> httpx.Response:
    """PUT location `index`, as the agreed version serves it now, to the eMSP's Receiver."""
    stations.check_index(index)
    location = stations.location(index, peer.default_version())
    return peer.call_us("PUT", locations_path(stations.fleet, index), json=location)


def handle(stations: Stations, paging: Paging, request: InboundRequest) -> Reply:
    """GET list, or GET one Location / EVSE / Connector (Sender interface, checklist 4.1)."""
    if request.method != "GET":
        raise OcpiFailure(
            Status.CLIENT_ERROR, "the Locations Sender only answers GET", http_status=405
        )
    if not request.segments:
        return _list(stations, paging, request)
    return _one(stations, request)


def _list(stations: Stations, paging: Paging, request: InboundRequest) -> Reply:
    """T-19: offset/limit (capped at page_size), date_from inclusive, date_to exclusive."""
    return paging.page(
        request,
        matching(stations.location_count, request.query, stations.changed_locations()),
        lambda index: stations.location(index, request.version),
    )


def _one(stations: Stations, request: InboundRequest) -> Reply:
    """`{url}/{location_id}[/{evse_uid}[/{connector_id}]]`; unknown ids are HTTP 404."""
    location_key, *rest = request.segments
    index = location_index(location_key)
    if index is None or index >= stations.location_count or len(rest) > 2:
        raise OcpiFailure(Status.UNKNOWN_LOCATION, f"no location {location_key!r}", http_status=404)
    found = stations.location(index, request.version)
    for (child, key), wanted in zip((("evses", "uid"), ("connectors", "id")), rest, strict=False):
        match = next((item for item in found[child] if item[key] == wanted), None)
        if match is None:
            raise OcpiFailure(Status.CLIENT_ERROR, f"no {child[:-1]} {wanted!r}", http_status=404)
        found = match
    return Reply(found)
