"""The simulator's charging sessions: a runner per session and the Sessions Sender (checklist §6).

A session starts when a START_SESSION takes effect (`commands.py`) or when a test plays a driver
at the charger (`CpoSimulator.start_session_unasked`). Its runner, a thread of its own, pushes the
whole Session (PUT) to the eMSP's Sessions Receiver, tells the eMSP the EVSE is CHARGING, then
every `update_interval` real seconds PATCHes `kwh`, `charging_periods`, `total_cost` and
`last_updated`; once asked to end (STOP_SESSION, `end_session`) it sends the final PATCH with
`status` and `end_date_time`, and the EVSE goes back to AVAILABLE.

Simulated time. `start_date_time` is the real moment the session started (UTC, whole seconds).
From there the session has a clock of its own that runs `time_scale` times faster than the wall
clock: `elapsed = floor(real seconds since the start × time_scale)` simulated seconds, and every
`last_updated`, ChargingPeriod `start_date_time` and `end_date_time` is `start + elapsed`. So with
the default 60, a session started at 12:00:00 that ran 10 real seconds ends at 12:10:00 (while the
wall clock says 12:00:10) having charged 10 minutes' worth of energy: timestamps and energy agree
(kWh = `charge_kw` × simulated hours), which is what makes the figures valid OCPI, but the
session's stamps run ahead of real time. Every push moves the clock at least one simulated second,
so `last_updated` strictly increases. `time_scale=1` gives a session in real time. EVSE status
pushes stay on the real clock (a later real push must not look older than a simulated one).

Charging periods. Each PATCH covers the simulated time since the previous one: one new
ChargingPeriod starting where the last ended, with its `ENERGY` (kWh in the period) and `TIME`
(hours). Under 2.2.1 a PATCH's `charging_periods` are appended by the Receiver (S-03), so a PATCH
carries only the new period; 2.1.1 does not define appending (the checklist's policy reads a list
there as a replacement), so a 2.1.1 PATCH carries the whole list. Energy and hours are cumulative
values rounded once (Wh, 1/10000 h) and differenced, so the periods always add up to `kwh`.

Cost. The connector's tariff (its first that is not `AD_HOC_PAYMENT`: an eMSP-started session is
priced by the eMSP's roaming tariff, B-9) priced by `price`: FLAT once, ENERGY × kWh, TIME in the
duration windows the element's restrictions allow, `step_size` rounding on the totals, VAT per
component; totals rounded half-up to cents. Under 2.2.1 `total_cost` is `{excl_vat, incl_vat}`,
under 2.3.0 `{before_taxes, taxes}` with the VAT as one tax, under 2.1.1 a plain number
excluding VAT. No tariff at the connector: no `total_cost` at all
(absent is not free, S-08). `session_cost` (settable at run time) makes a CPMS of another kind:
"omitted" sends no `total_cost` (OCPI makes it optional), "marked_up" bills 10 % above the
tariff (rounded to cents, as a CPMS pricing by another tariff than it published).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any, Final
from urllib.parse import quote
from uuid import uuid4

import httpx

from . import locations
from .locations import Stations, tell_evse_status
from .peer import Peer
from .tokens import TokenBook
from .transport import (
    InboundRequest,
    OcpiFailure,
    OneOf,
    Paging,
    Reply,
    SimulatorError,
    Status,
    format_datetime,
    is_221_shape,
    is_230,
    matching,
)
from .workers import Workers

logger = logging.getLogger("cpo_simulator")

# "no_push": a CPMS that never pushes its Sessions (the eMSP must pull them from the Sender,
# which still serves them); the EVSE status pushes and the CDR go out as usual.
SESSION_FAULTS: Final = (None, "duplicate_pushes", "out_of_order", "invalid", "no_push")
SESSION_COSTS: Final = (None, "omitted", "marked_up")
MARK_UP: Final = Decimal("1.10")
DEFAULT_CURRENCY: Final = "EUR"
_WH: Final = Decimal("0.001")
_HOURS: Final = Decimal("0.0001")
_CENTS: Final = Decimal("0.01")


@dataclass(frozen=True)
class Cost:
    excl_vat: Decimal
    incl_vat: Decimal | None  # None under 2.1.1: its tariffs state no VAT


@dataclass(frozen=True)
class Period:
    """A ChargingPeriod in neither version's shape: `render_period` writes it."""

    start: datetime
    energy: Decimal  # kWh in the period
    hours: Decimal  # charging time in the period


@dataclass(eq=False)
class ChargingSession:
    """One session's state. Its runner thread changes it, always under `SessionBook.lock`;
    others only set `end_requested` (and `end_reason`) and wake it."""

    id: str
    version: str  # the shape it is pushed in: the version its command came under
    index: int  # location index
    evse_number: int
    connector_id: str
    token: dict[str, Any]  # as the command carried it, or made up for an unasked session
    auth_method: str
    authorization_reference: str | None
    tariff: dict[str, Any] | None  # in `version`'s shape, as it was at the start (CDR-03)
    location_211: dict[str, Any]  # the 2.1.1 Location with only this EVSE and connector
    charge_kw: Decimal
    time_scale: float
    start: datetime
    started_at: float  # time.monotonic() at `start`
    status: str = "ACTIVE"
    elapsed: int = 0  # simulated seconds at the last tick
    kwh: Decimal = Decimal("0.000")
    periods: list[Period] = field(default_factory=list)
    total_cost: Cost | None = None
    last_updated: datetime = field(default_factory=lambda: datetime.now(UTC))
    end: datetime | None = None
    end_requested: bool = False
    end_reason: str | None = None
    pushed_status: str | None = None  # status in the last push attempted; tests wait on it
    wake: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    held: dict[str, Any] | None = None  # "out_of_order": a PATCH kept back until the next
    evse_stamp: datetime | None = None  # when the EVSE was recorded CHARGING (real clock)
    # The Location in `version`'s shape as it was at the start, with only this EVSE and
    # connector: what the CDR's location data is taken from (CDR-03).
    location_at_start: dict[str, Any] | None = None

    @property
    def location_id(self) -> str:
        return locations.location_id(self.index)

    @property
    def evse_uid(self) -> str:
        return locations.evse_uid(self.index, self.evse_number)

    @property
    def active(self) -> bool:
        return not self.end_requested and self.end is None


class SessionBook:
    """Every session by id in creation order (`sessions`), the (location, EVSE) pairs a start is
    pending on (`claims`), and how sessions charge: `charge_kw`, `time_scale`,
    `update_interval`, `session_fault` and `session_cost` (both settable while running). Read
    and write it under `lock`; `changed` is notified whenever a session's push status moves."""

    session_fault = OneOf(SESSION_FAULTS)  # duplicate, out-of-order or INVALID pushes
    session_cost = OneOf(SESSION_COSTS)  # what `total_cost` a Session carries

    def __init__(
        self,
        lock: threading.RLock,
        *,
        charge_kw: float,
        time_scale: float,
        update_interval: float,
        session_fault: str | None,
        session_cost: str | None = None,
    ) -> None:
        if not (charge_kw > 0 and time_scale > 0 and update_interval > 0):
            raise ValueError("charge_kw, time_scale and update_interval must be > 0")
        self.lock = lock
        self.sessions: dict[str, ChargingSession] = {}
        self.claims: set[tuple[int, int]] = set()
        self.changed = threading.Condition(lock)
        self.push_failures = 0  # session pushes not delivered or not answered 2xx
        self.charge_kw = charge_kw
        self.time_scale = time_scale
        self.update_interval = update_interval
        self.session_fault = session_fault
        self.session_cost = session_cost

    def occupied(self, index: int, evse_number: int) -> bool:
        """Whether a start is pending on the EVSE or one of the simulator's sessions is on it."""
        with self.lock:
            return (index, evse_number) in self.claims or any(
                s.index == index and s.evse_number == evse_number and not s.done.is_set()
                for s in self.sessions.values()
            )


@dataclass(frozen=True)
class Charging:
    """What starting and running a session takes: the book it is kept in, the fleet it charges
    at, the eMSP it tells (`peer`), the workers its runner runs on, and what follows once it
    has ended COMPLETED (`completed`: its CDR)."""

    book: SessionBook
    stations: Stations
    peer: Peer
    workers: Workers
    completed: Callable[[ChargingSession], None]


# --- prices --------------------------------------------------------------------------------------


def price(tariff: dict[str, Any], kwh: Decimal, seconds: int) -> Cost:
    """What a session of `kwh` over `seconds` of charging costs under `tariff` (either shape).

    Enough of the checklist's §5.4 for tariffs like the simulator's own: per dimension the first
    element with a component of it whose restrictions hold, where only `min_duration` and
    `max_duration` are understood (an element with other restrictions is skipped); FLAT and
    ENERGY only from elements without restrictions; TIME split over duration windows; step_size
    on totals (TA-06); VAT per component (TA-07); min/max price clamps (TA-08)."""
    lines: list[tuple[Decimal, Decimal, Decimal | None]] = []  # (quantity, price, vat)
    flat = _first_plain(tariff, "FLAT")
    if flat is not None:
        lines.append((Decimal(1), *_price_and_vat(flat)))
    energy = _first_plain(tariff, "ENERGY")
    if energy is not None:
        step = int(energy.get("step_size") or 1)
        billed_wh = _round_up(kwh * 1000, step)
        lines.append((billed_wh / 1000, *_price_and_vat(energy)))
    lines += _time_lines(tariff, seconds)
    tax = tariff.get("tax_included")  # 2.3.0: YES, the prices include the VAT; N/A, none
    if tax == "N/A":
        lines = [(quantity, unit, Decimal(0)) for quantity, unit, _ in lines]
    factor = [1 + (vat or 0) / Decimal(100) for _, _, vat in lines]
    gross = [quantity * unit for quantity, unit, _ in lines]
    if tax == "YES":
        excl = sum((g / f for g, f in zip(gross, factor, strict=True)), Decimal(0))
    else:
        excl = sum(gross, Decimal(0))
    modern = any(vat is not None for _, _, vat in lines) or "type" in tariff or tax is not None
    incl: Decimal | None = None
    if modern:
        incl = sum(
            gross if tax == "YES" else (g * f for g, f in zip(gross, factor, strict=True)),
            Decimal(0),
        )
    excl, incl = _clamp(tariff, excl, incl)
    return Cost(
        excl.quantize(_CENTS, rounding=ROUND_HALF_UP),
        incl.quantize(_CENTS, rounding=ROUND_HALF_UP) if incl is not None else None,
    )


def _first_plain(tariff: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for element in tariff.get("elements") or []:
        if element.get("restrictions"):
            continue
        for component in element.get("price_components") or []:
            if component.get("type") == kind:
                return dict(component)
    return None


def _price_and_vat(component: dict[str, Any]) -> tuple[Decimal, Decimal | None]:
    vat = component.get("vat")
    return Decimal(str(component["price"])), Decimal(str(vat)) if vat is not None else None


def _round_up(quantity: Decimal, step: int) -> Decimal:
    return (quantity / step).to_integral_value(rounding=ROUND_CEILING) * step


def _time_lines(
    tariff: dict[str, Any], seconds: int
) -> list[tuple[Decimal, Decimal, Decimal | None]]:
    """TIME: walk the elements in order; each TIME component takes the part of [0, seconds) its
    duration window covers and no earlier element took. The total is rounded up to the last
    used component's step_size, the extra charged at its price."""
    uncovered = [(0, seconds)]
    used: list[tuple[int, dict[str, Any]]] = []
    for element in tariff.get("elements") or []:
        restrictions = element.get("restrictions") or {}
        if set(restrictions) - {"min_duration", "max_duration"}:
            continue
        component = next(
            (c for c in element.get("price_components") or [] if c.get("type") == "TIME"), None
        )
        if component is None:
            continue
        low = int(restrictions.get("min_duration") or 0)
        high = int(restrictions.get("max_duration") or seconds)
        taken = 0
        remaining: list[tuple[int, int]] = []
        for begin, end in uncovered:
            cut_begin, cut_end = max(begin, low), min(end, high)
            if cut_begin < cut_end:
                taken += cut_end - cut_begin
                remaining += [(begin, cut_begin)] if begin < cut_begin else []
                remaining += [(cut_end, end)] if cut_end < end else []
            else:
                remaining.append((begin, end))
        uncovered = remaining
        if taken:
            used.append((taken, component))
    if not used:
        return []
    total = sum(taken for taken, _ in used)
    step = int(used[-1][1].get("step_size") or 1)
    extra = int(_round_up(Decimal(total), step)) - total
    used[-1] = (used[-1][0] + extra, used[-1][1])
    return [(Decimal(taken) / 3600, *_price_and_vat(component)) for taken, component in used]


def _clamp(
    tariff: dict[str, Any], excl: Decimal, incl: Decimal | None
) -> tuple[Decimal, Decimal | None]:
    for name, limit in (("min_price", max), ("max_price", min)):
        bound = tariff.get(name)
        if not isinstance(bound, dict):
            continue
        before = bound.get("excl_vat", bound.get("before_taxes"))  # 2.2.1 Price, 2.3.0 PriceLimit
        after = bound.get("incl_vat", bound.get("after_taxes"))
        if before is not None:
            excl = limit(excl, Decimal(str(before)))
        if incl is not None and after is not None:
            incl = limit(incl, Decimal(str(after)))
    return excl, incl


def connector_tariff(
    stations: Stations, index: int, evse_number: int, connector_id: str, version: str
) -> dict[str, Any] | None:
    """The tariff a session on that connector is priced by (see the module docstring)."""
    location = stations.location(index, version)
    connector = next(
        c for c in location["evses"][evse_number - 1]["connectors"] if c["id"] == connector_id
    )
    ids = connector.get("tariff_ids") or (
        [connector["tariff_id"]] if connector.get("tariff_id") else []
    )
    found = [stations.tariff(tariff_id, version) for tariff_id in ids]
    regular = [tariff for tariff in found if tariff.get("type") != "AD_HOC_PAYMENT"]
    return (regular or found or [None])[0]


def _billed(
    book: SessionBook, tariff: dict[str, Any] | None, kwh: Decimal, seconds: int
) -> Cost | None:
    """The `total_cost` a Session carries, as `session_cost` says (module docstring)."""
    if tariff is None or book.session_cost == "omitted":
        return None
    cost = price(tariff, kwh, seconds)
    if book.session_cost != "marked_up":
        return cost
    return Cost(
        (cost.excl_vat * MARK_UP).quantize(_CENTS, rounding=ROUND_HALF_UP),
        (cost.incl_vat * MARK_UP).quantize(_CENTS, rounding=ROUND_HALF_UP)
        if cost.incl_vat is not None
        else None,
    )


# --- the Session object --------------------------------------------------------------------------


def _energy(session: ChargingSession, elapsed: int) -> Decimal:
    return (session.charge_kw * elapsed / 3600).quantize(_WH, rounding=ROUND_HALF_UP)


def _hours(elapsed: int) -> Decimal:
    return (Decimal(elapsed) / 3600).quantize(_HOURS, rounding=ROUND_HALF_UP)


def render_period(period: Period, version: str, tariff_id: str | None) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "start_date_time": format_datetime(period.start),
        "dimensions": [
            {"type": "ENERGY", "volume": period.energy},
            {"type": "TIME", "volume": period.hours},
        ],
    }
    if is_221_shape(version) and tariff_id:
        rendered["tariff_id"] = tariff_id
    return rendered


def render_cost(cost: Cost, version: str) -> Any:
    """A cost as `version` writes it: a number excl. VAT (2.1.1), `{excl_vat, incl_vat}`
    (2.2.1), or `{before_taxes, taxes}` with the VAT as one tax (2.3.0)."""
    if not is_221_shape(version):
        return cost.excl_vat
    if is_230(version):
        taxes = []
        if cost.incl_vat is not None:
            taxes = [{"name": "VAT", "amount": cost.incl_vat - cost.excl_vat}]
        return {"before_taxes": cost.excl_vat, "taxes": taxes}
    rendered: dict[str, Any] = {"excl_vat": cost.excl_vat}
    if cost.incl_vat is not None:
        rendered["incl_vat"] = cost.incl_vat
    return rendered


def session_object(
    peer: Peer, session: ChargingSession, version: str | None = None
) -> dict[str, Any]:
    """The Session as it stands, in `version`'s shape (default: the session's own). Call it
    while holding the book's lock, or on a session nobody changes any more."""
    version = version or session.version
    tariff_id = session.tariff["id"] if session.tariff else None
    periods = [render_period(period, version, tariff_id) for period in session.periods]
    token = session.token
    if is_221_shape(version):
        party = peer.emsp_party() or ("", "")
        out: dict[str, Any] = {
            "country_code": peer.country_code,
            "party_id": peer.party_id,
            "id": session.id,
            "start_date_time": format_datetime(session.start),
        }
        if session.end is not None:
            out["end_date_time"] = format_datetime(session.end)
        out |= {
            "kwh": session.kwh,
            "cdr_token": {
                "country_code": token.get("country_code") or party[0],
                "party_id": token.get("party_id") or party[1],
                "uid": token["uid"],
                "type": token["type"],
                "contract_id": token.get("contract_id") or token.get("auth_id") or token["uid"],
            },
            "auth_method": session.auth_method,
        }
        if session.authorization_reference:
            out["authorization_reference"] = session.authorization_reference
        out |= {
            "location_id": session.location_id,
            "evse_uid": session.evse_uid,
            "connector_id": session.connector_id,
        }
    else:
        out = {"id": session.id, "start_datetime": format_datetime(session.start)}
        if session.end is not None:
            out["end_datetime"] = format_datetime(session.end)
        out |= {
            "kwh": session.kwh,
            "auth_id": token.get("auth_id") or token.get("contract_id") or token["uid"],
            # 2.1.1's AuthMethod has no COMMAND: a started-by-command session was authorized by
            # the eMSP, which is the closest of its two values.
            "auth_method": "AUTH_REQUEST"
            if session.auth_method == "COMMAND"
            else session.auth_method,
            "location": session.location_211,
        }
    out |= {
        "currency": session.tariff["currency"] if session.tariff else DEFAULT_CURRENCY,
        "charging_periods": periods,
    }
    if session.total_cost is not None:
        out["total_cost"] = render_cost(session.total_cost, version)
    out |= {"status": session.status, "last_updated": format_datetime(session.last_updated)}
    return out


def _location_211(
    stations: Stations, index: int, evse_number: int, connector_id: str, version: str = "2.1.1"
) -> dict[str, Any]:
    """2.1.1 embeds the Location "including only the relevant EVSE and connector"; the CDR of
    any version is made from the same cut (in `version`'s shape)."""
    location = stations.location(index, version)
    evse = dict(location["evses"][evse_number - 1])
    evse["connectors"] = [c for c in evse["connectors"] if c["id"] == connector_id]
    location["evses"] = [evse]
    return location


# --- lifecycle -----------------------------------------------------------------------------------


def begin(
    charging: Charging,
    *,
    version: str,
    index: int,
    evse_number: int,
    connector_id: str,
    token: dict[str, Any],
    auth_method: str,
    authorization_reference: str | None = None,
) -> ChargingSession:
    """Start a session on that connector now, and its runner. The EVSE is recorded CHARGING at
    once (the runner tells the eMSP after the Session PUT)."""
    book, stations = charging.book, charging.stations
    now = datetime.now(UTC).replace(microsecond=0)
    tariff = connector_tariff(stations, index, evse_number, connector_id, version)
    evse_stamp = stations.record_evse_status(index, evse_number, "CHARGING")
    session = ChargingSession(
        id=str(uuid4()),
        version=version,
        index=index,
        evse_number=evse_number,
        connector_id=connector_id,
        token=dict(token),
        auth_method=auth_method,
        authorization_reference=authorization_reference,
        tariff=tariff,
        location_211=_location_211(stations, index, evse_number, connector_id),
        charge_kw=Decimal(str(book.charge_kw)),
        time_scale=book.time_scale,
        start=now,
        started_at=time.monotonic(),
        last_updated=now,
        evse_stamp=evse_stamp,
        location_at_start=_location_211(stations, index, evse_number, connector_id, version),
    )
    session.total_cost = _billed(book, tariff, session.kwh, 0)
    with book.lock:
        book.sessions[session.id] = session
        book.claims.discard((index, evse_number))
    charging.workers.spawn(lambda: _run(charging, session), f"session-{session.id[:8]}")
    return session


def request_end(session: ChargingSession, reason: str | None) -> None:
    """Ask the runner to end the session at its next step (at once: it is woken)."""
    if not session.end_requested:
        session.end_reason = reason
        session.end_requested = True
    session.wake.set()


def _run(charging: Charging, session: ChargingSession) -> None:
    """PUT, EVSE CHARGING, PATCH every `update_interval` until asked to end, final PATCH, EVSE
    AVAILABLE. A stopping simulator ends the loop without any further push (a CPMS gone down)."""
    book, stations, peer = charging.book, charging.stations, charging.peer
    with book.lock:
        body = session_object(peer, session)
    _deliver(charging, session, "PUT", body, final=False)
    _pushed(book, session, body["status"])
    assert session.evse_stamp is not None
    tell_evse_status(
        peer, stations.fleet, session.index, session.evse_number, "CHARGING", session.evse_stamp
    )
    while True:
        session.wake.wait(book.update_interval)
        session.wake.clear()
        if charging.workers.stopping.is_set():
            return
        final = session.end_requested
        patch = _tick(book, session, final=final)
        if patch is not None:
            _deliver(charging, session, "PATCH", patch, final=final)
        if final:
            break
        if patch is not None:
            _pushed(book, session, session.status)
    stamp = stations.record_evse_status(session.index, session.evse_number, "AVAILABLE")
    tell_evse_status(peer, stations.fleet, session.index, session.evse_number, "AVAILABLE", stamp)
    session.done.set()
    _pushed(book, session, session.status)  # only now: waiting for COMPLETED sees it all sent
    if session.status == "COMPLETED":  # an INVALID session is not billed: no CDR
        charging.completed(session)


def _tick(book: SessionBook, session: ChargingSession, *, final: bool) -> dict[str, Any] | None:
    """Advance the session to the simulated now; the PATCH body for it, or None if no simulated
    second has passed. The final tick always moves at least one second and closes the session."""
    with book.lock:
        elapsed = int((time.monotonic() - session.started_at) * session.time_scale)
        if final:
            elapsed = max(elapsed, session.elapsed + 1)
        if elapsed <= session.elapsed:
            return None
        period = Period(
            start=session.start + timedelta(seconds=session.elapsed),
            energy=_energy(session, elapsed) - _energy(session, session.elapsed),
            hours=_hours(elapsed) - _hours(session.elapsed),
        )
        session.periods.append(period)
        session.elapsed = elapsed
        session.kwh = _energy(session, elapsed)
        session.total_cost = _billed(book, session.tariff, session.kwh, elapsed)
        session.last_updated = session.start + timedelta(seconds=elapsed)
        if final:
            session.end = session.last_updated
            session.status = "INVALID" if book.session_fault == "invalid" else "COMPLETED"
        return _patch_body(session, period)


def _patch_body(session: ChargingSession, period: Period) -> dict[str, Any]:
    version = session.version
    tariff_id = session.tariff["id"] if session.tariff else None
    body: dict[str, Any] = {}
    if session.end is not None:
        body["status"] = session.status
        body["end_date_time" if is_221_shape(version) else "end_datetime"] = format_datetime(
            session.end
        )
    body["kwh"] = session.kwh
    if is_221_shape(version):  # appended by the Receiver (S-03): only the new period
        body["charging_periods"] = [render_period(period, version, tariff_id)]
    else:  # 2.1.1: no appending defined; the whole list
        body["charging_periods"] = [render_period(p, version, None) for p in session.periods]
    if session.total_cost is not None:
        body["total_cost"] = render_cost(session.total_cost, version)
    body["last_updated"] = format_datetime(session.last_updated)
    return body


def _deliver(
    charging: Charging,
    session: ChargingSession,
    method: str,
    body: dict[str, Any],
    *,
    final: bool,
) -> None:
    """Send one push as `session_fault` says: twice each ("duplicate_pushes"), every other
    PATCH held back and sent after the next one ("out_of_order"; the final PATCH too is followed
    by the one held, so a stale ACTIVE-time PATCH arrives after COMPLETED), or none at all
    ("no_push": the session is only to be had from the Sessions Sender)."""
    fault = charging.book.session_fault
    if fault == "no_push":
        return
    if fault == "out_of_order" and method == "PATCH":
        if session.held is None and not final:
            session.held = body
            return
        held, session.held = session.held, None
        _send(charging, session, method, body)
        if held is not None:
            _send(charging, session, method, held)
        return
    for _ in range(2 if fault == "duplicate_pushes" else 1):
        _send(charging, session, method, body)


def session_path(peer: Peer, session_id: str) -> str:
    """Below the eMSP's Sessions endpoint: the CPO's `cc`/`pid` and the session id (T-17)."""
    parts = (peer.country_code, peer.party_id, session_id)
    return "sessions/" + "/".join(quote(part, safe="") for part in parts)


def _send(
    charging: Charging, session: ChargingSession, method: str, body: dict[str, Any]
) -> httpx.Response | None:
    book = charging.book
    try:
        response = charging.peer.call_us(method, session_path(charging.peer, session.id), json=body)
    except SimulatorError as exc:
        logger.info("session %s: %s failed: %s", session.id, method, exc)
        with book.lock:
            book.push_failures += 1
        return None
    if not response.is_success:
        with book.lock:
            book.push_failures += 1
    return response


def _pushed(book: SessionBook, session: ChargingSession, status: str) -> None:
    with book.changed:
        session.pushed_status = status
        book.changed.notify_all()


# --- what tests ask of sessions -------------------------------------------------------------------


def wait_for(
    book: SessionBook, peer: Peer, status: str | None, timeout: float, session_id: str | None
) -> dict[str, Any]:
    """The first session (oldest first; `session_id` to pick one) whose last push carried
    `status` (any status if None), as it stands. For COMPLETED and INVALID, it returns once
    the final push and the EVSE's AVAILABLE push have both been sent. TimeoutError after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    with book.changed:
        while True:
            for sid, session in book.sessions.items():
                if session_id is not None and sid != session_id:
                    continue
                if session.pushed_status is None:
                    continue
                if status is None or session.pushed_status == status:
                    if status in ("COMPLETED", "INVALID") and not session.done.is_set():
                        continue
                    return session_object(peer, session)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"no session {session_id or ''} pushed with status {status} within {timeout} s"
                )
            book.changed.wait(remaining)


def end(
    book: SessionBook,
    peer: Peer,
    session_id: str,
    reason: str | None,
    timeout: float,
    *,
    running: bool,
) -> dict[str, Any]:
    """The car or the charger ends the session (see `CpoSimulator.end_session`); `running`:
    whether the simulator serves, without which no runner can end it."""
    with book.lock:
        session = book.sessions.get(session_id)
    if session is None:
        raise ValueError(f"no session {session_id!r}")
    if not running and not session.done.is_set():
        raise SimulatorError("the simulator is not running: no session can end")
    request_end(session, reason)
    if not session.done.wait(timeout):
        raise SimulatorError(f"session {session_id} did not end within {timeout} s")
    with book.lock:
        return session_object(peer, session)


def start_unasked(
    charging: Charging,
    token_book: TokenBook,
    location_index: int,
    evse_number: int,
    token_uid: str,
    *,
    token_type: str,
    contract_id: str | None,
    connector_id: str,
    running: bool,
) -> ChargingSession:
    """A session nobody commanded (see `CpoSimulator.start_session_unasked`); `running`:
    whether the simulator serves, without which no runner could push it."""
    book, stations, peer = charging.book, charging.stations, charging.peer
    stations.check_index(location_index)
    stations.check_evse(evse_number)
    if connector_id not in {str(c) for c in range(1, stations.fleet.connectors_per_evse + 1)}:
        raise ValueError(f"connector_id must be 1 to {stations.fleet.connectors_per_evse}")
    if not running:
        raise SimulatorError("start() the simulator first")
    if book.occupied(location_index, evse_number):
        raise SimulatorError("a session is already starting or charging on that EVSE")
    version = peer.default_version()
    party = peer.emsp_party() or ("", "")
    with token_book.lock:
        held = next(
            (
                dict(token)
                for (_, _, uid, kind), token in token_book.tokens.items()
                if uid == token_uid.upper() and kind == token_type
            ),
            None,
        )
    token: dict[str, Any] = held or {
        "country_code": party[0],
        "party_id": party[1],
        "uid": token_uid,
        "type": token_type,
        "contract_id": contract_id or token_uid,
        "auth_id": contract_id or token_uid,
    }
    return begin(
        charging,
        version=version,
        index=location_index,
        evse_number=evse_number,
        connector_id=connector_id,
        token=token,
        auth_method="WHITELIST",
    )


def push(book: SessionBook, peer: Peer, session_id: str) -> httpx.Response:
    """PUT the session as it stands to the eMSP again (the CPO resynchronising after a
    failed PATCH, T-07). SimulatorError if the eMSP cannot be reached."""
    with book.lock:
        session = book.sessions.get(session_id)
        if session is None:
            raise ValueError(f"no session {session_id!r}")
        body = session_object(peer, session)
    return peer.call_us("PUT", session_path(peer, session_id), json=body)


# --- the Sender interface ------------------------------------------------------------------------


def handle(book: SessionBook, peer: Peer, paging: Paging, request: InboundRequest) -> Reply:
    """GET list (`date_from` required, both versions) and, under 2.2.1, the charging
    preferences PUT, which no simulated EVSE supports (404 with 2001, S-10)."""
    segments = request.segments
    if (
        request.method == "PUT"
        and is_221_shape(request.version)
        and len(segments) == 2
        and segments[1] == "charging_preferences"
    ):
        with book.lock:
            known = any(s.id.upper() == segments[0].upper() for s in book.sessions.values())
        if not known:
            raise OcpiFailure(Status.CLIENT_ERROR, f"no session {segments[0]!r}", http_status=404)
        raise OcpiFailure(
            Status.INVALID_PARAMETERS,
            "the EVSE is not CHARGING_PREFERENCES_CAPABLE",
            http_status=404,
        )
    if segments:
        raise OcpiFailure(Status.CLIENT_ERROR, "no such sessions resource", http_status=404)
    if request.method != "GET":
        raise OcpiFailure(
            Status.CLIENT_ERROR, "the Sessions Sender only answers GET", http_status=405
        )
    if "date_from" not in request.query:
        raise OcpiFailure(Status.INVALID_PARAMETERS, "date_from is required for sessions")
    with book.lock:
        runs = list(book.sessions.values())  # creation order: the list's stable order
        stamps = {number: run.last_updated for number, run in enumerate(runs)}
        objects = [session_object(peer, run, request.version) for run in runs]
    return paging.page(
        request, matching(len(runs), request.query, stamps), lambda number: objects[number]
    )
