"""The simulator's CDRs (checklist §7): one per completed session, POSTed to the eMSP, and a Sender.

When a session ends COMPLETED (never INVALID: an invalid session is not billed), its runner
builds the CDR, waits `cdr_delay` seconds and POSTs it to the eMSP's CDRs Receiver `{url}` (no
segments, 7.1), reading the `Location` header the eMSP answers with. Every attempt is recorded in
`CpoSimulator.cdrs` (`Delivery`): the eMSP's HTTP status, OCPI status and `Location`, or why
nothing was sent (the eMSP published no `cdrs` endpoint, or could not be reached). Every CDR
created, sent or not, is also served by the CDRs Sender list (`GET {url}`), so an eMSP can pull
the CDRs it missed (CDR-10).

The content is sealed at the start (CDR-03): the location, EVSE, connector and tariff are the
ones the session recorded when it began. The figures are the session's final ones: its
charging periods (with `tariff_id` under 2.2.1), `total_energy` its kWh, `total_time` the sum
of its periods' hours, no parking, and `total_cost` priced by `sessions.price` exactly as the
session's final PATCH was, so the CDR and the last Session agree to the cent. The breakdown
(`total_fixed_cost`, `total_energy_cost`, `total_time_cost`) prices the same tariff restricted to
one component type, each rounded on its own like a CPO's invoice lines.

Signed meter values (2.2.1, CDR-08). Each EVSE has a meter register (`INITIAL_REGISTER_KWH` at
first) that each session moves on by its energy; the start and end readings are signed by the
simulator's meter (`ocmf.sign_readings`) as one OCMF record holding both (TX B and E), sent as
one SignedValue with nature "End": `plain_data` the OCMF text, `signed_data` the same text base64
(OCPI says base64), `public_key` the meter's key as hex DER, the form transparency software reads.
The record identifies the session's token as the charger was told it (`IT` "CENTRAL", `ID` the
token's `uid`).

Faults (`cdr_fault`, settable at run time; read when a session ends):

- "duplicate": the same CDR POSTed twice, byte for byte (CDR-02).
- "wrong_total": `total_cost` 10 % too high (rounded to cents); everything else, including the
  breakdown and the signed readings, is right: only a recomputation finds it (CDR-05).
- "credit_after": the CDR carries the 10 % too high total, then a credit CDR follows (id + "-C",
  `credit: true`, `credit_reference_id` the original id, the original's data with `total_cost`
  negated), then the corrected CDR with a new id and the right total (CDR-01). 2.1.1 has no
  credit CDRs: there it behaves as "wrong_total".
- "late": the CDR is held until `CpoSimulator.release_cdrs()` (a CPO sending CDRs in batches).
- "tampered_signature": one digit of the OCMF payload changed after signing (the transaction
  counter `PG`, so the readings still give the right energy and only the signature fails).
- "energy_mismatch": the signed end reading is 0.5 kWh above start + `total_energy`.
- "new_meter_key": the EVSE's meter is replaced before this CDR is signed: a meter with a key of
  its own signs this CDR's readings and every later one at that EVSE (the register carries on).
- "foreign_identification": the meter signs the session for another token uid than the
  session's (OCMF `ID`); otherwise the signed data is right.
- "no_cdr": never POSTed; the Sender list still has it.

2.1.1 (7.4): `stop_date_time`, `auth_id`, the full `location` (with only the session's EVSE and
connector), `total_cost` a number excluding VAT, no signed data, no breakdown, no credit.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final
from uuid import uuid4

from . import ocmf, sessions
from .peer import Peer
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
    parse_datetime,
)

logger = logging.getLogger("cpo_simulator")

CDR_FAULTS: Final = (
    None,
    "duplicate",
    "wrong_total",
    "credit_after",
    "late",
    "tampered_signature",
    "energy_mismatch",
    "new_meter_key",
    "foreign_identification",
    "no_cdr",
)
INITIAL_REGISTER_KWH: Final = Decimal("1234.567")  # every EVSE's meter before its first session
WRONG_TOTAL_FACTOR: Final = Decimal("1.10")
ENERGY_MISMATCH_KWH: Final = Decimal("0.5")
CREDIT_SUFFIX: Final = "-C"
NO_ENDPOINT: Final = "the eMSP published no cdrs endpoint"
_CENTS: Final = Decimal("0.01")


@dataclass(frozen=True)
class CreatedCdr:
    """A CDR the simulator made: what the Sender list serves. `kind` is "cdr", "credit" or
    "corrected"; `body` is in `version`'s shape and never changes (CDR-01)."""

    id: str
    session_id: str
    version: str
    kind: str
    body: dict[str, Any]
    last_updated: datetime


@dataclass(frozen=True)
class Delivery:
    """One POST attempt of a CDR to the eMSP, or one that could not be made (`error` says why;
    `http_status` None)."""

    cdr_id: str
    session_id: str
    kind: str  # "cdr", "duplicate", "credit", "corrected", "late", "resend"
    body: dict[str, Any]
    http_status: int | None
    ocpi_status: int | None
    location: str | None  # the eMSP's `Location` header
    error: str | None = None


class CdrBook:
    """The simulator's CDR state, and how CDRs are sent: `cdr_delay` and `cdr_fault`, both
    settable while running. Read and write it only under `lock`; `changed` is notified on
    every delivery."""

    cdr_fault = OneOf(CDR_FAULTS)  # how CDRs misbehave, read when a session ends

    def __init__(self, lock: threading.RLock, *, cdr_delay: float, cdr_fault: str | None) -> None:
        self.lock = lock
        self.changed = threading.Condition(lock)
        self.created: list[CreatedCdr] = []
        self.deliveries: list[Delivery] = []
        self.held: list[CreatedCdr] = []  # "late": until release_cdrs()
        self.registers: dict[tuple[int, int], Decimal] = {}  # by (location, EVSE)
        self.meters: dict[tuple[int, int], ocmf.MeterSigner] = {}  # replaced meters; else METER
        self.last_stamp: datetime | None = None
        self.cdr_delay = cdr_delay
        self.cdr_fault = cdr_fault
        # 2.3.0: the `invoice_reference_id` every CDR carries from now on (None: none), meaning
        # the CPO invoices the driver (Payments module); settable while running.
        self.invoice_reference_id: str | None = None

    @property
    def cdr_delay(self) -> float:
        """Seconds from a session's end to its CDR's POST (0: at once)."""
        return self._cdr_delay

    @cdr_delay.setter
    def cdr_delay(self, value: float) -> None:
        if not value >= 0:
            raise ValueError("cdr_delay must be >= 0 seconds")
        self._cdr_delay = float(value)


# --- building ------------------------------------------------------------------------------------


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENTS, rounding=ROUND_HALF_UP)


def _only(tariff: dict[str, Any], kind: str) -> dict[str, Any]:
    """The tariff with only its `kind` price components and no min/max clamps: pricing it gives
    that dimension's part of the cost."""
    elements = []
    for element in tariff.get("elements") or []:
        components = [c for c in element.get("price_components") or [] if c.get("type") == kind]
        if components:
            elements.append({**element, "price_components": components})
    rest = {k: v for k, v in tariff.items() if k not in ("min_price", "max_price")}
    return rest | {"elements": elements}


def _inflated(cost: sessions.Cost) -> sessions.Cost:
    return sessions.Cost(
        _money(cost.excl_vat * WRONG_TOTAL_FACTOR),
        _money(cost.incl_vat * WRONG_TOTAL_FACTOR) if cost.incl_vat is not None else None,
    )


def _stamp(book: CdrBook, session: sessions.ChargingSession) -> datetime:
    """A CDR's `last_updated` is its creation time (7.1): now, but never before the session's
    (simulated, possibly future) end, and strictly after the previous CDR's, so each CDR has a
    stamp of its own for `date_from` pulls."""
    moment = datetime.now(UTC).replace(microsecond=0)
    if session.end is not None:
        moment = max(moment, session.end)
    if book.last_stamp is not None and moment <= book.last_stamp:
        moment = book.last_stamp + timedelta(seconds=1)
    book.last_stamp = moment
    return moment


def _signed_data(
    book: CdrBook,
    session: sessions.ChargingSession,
    start_kwh: Decimal,
    end_kwh: Decimal,
    token_uid: str,
    fault: str | None,
) -> tuple[dict[str, Any], str]:
    """The SignedData of the session's readings, and the meter's serial."""
    assert session.end is not None
    serial = f"SIM-METER-{session.evse_uid}"
    evse = (session.index, session.evse_number)
    if fault == "new_meter_key":
        book.meters[evse] = ocmf.MeterSigner()
    meter = book.meters.get(evse, ocmf.METER)
    if fault == "foreign_identification":
        token_uid = "FOREIGN-" + uuid4().hex[:12].upper()
    record, public_key = meter.sign_readings(
        start_kwh,
        end_kwh,
        session.start,
        session.end,
        serial,
        identification=("CENTRAL", token_uid) if token_uid else ("NONE", ""),
    )
    tamper = fault == "tampered_signature"
    if tamper:
        record = _tamper(record)
    signed = {
        "encoding_method": "OCMF",
        "public_key": public_key,
        "signed_values": [
            {
                "nature": "End",
                "plain_data": record,
                "signed_data": base64.b64encode(record.encode("utf-8")).decode("ascii"),
            }
        ],
    }
    return signed, serial


_PAGINATION: Final = re.compile(r'("PG":"T\d*)(\d)"')


def _tamper(record: str) -> str:
    """Change the last digit of the transaction counter `PG` in the signed payload."""
    return _PAGINATION.sub(lambda m: f'{m.group(1)}{(int(m.group(2)) + 1) % 10}"', record, count=1)


def _readings(
    book: CdrBook, session: sessions.ChargingSession, *, mismatch: bool
) -> tuple[Decimal, Decimal]:
    """The meter's start and end readings; moves the EVSE's register on (under `book.lock`)."""
    key = (session.index, session.evse_number)
    start = book.registers.get(key, INITIAL_REGISTER_KWH)
    end = start + session.kwh + (ENERGY_MISMATCH_KWH if mismatch else Decimal(0))
    book.registers[key] = end
    return start, end


def build(
    book: CdrBook, peer: Peer, session: sessions.ChargingSession, fault: str | None
) -> dict[str, Any]:
    """The session's CDR in its version's shape, with `fault` applied to its content. Call it
    under `book.lock` on an ended session; it moves the EVSE's meter register on."""
    assert session.end is not None
    version = session.version
    tariff = session.tariff
    cost = (
        sessions.price(tariff, session.kwh, session.elapsed)
        if tariff is not None
        else sessions.Cost(Decimal("0.00"), Decimal("0.00") if is_221_shape(version) else None)
    )
    billed = _inflated(cost) if fault in ("wrong_total", "credit_after") else cost
    total_time = sum((p.hours for p in session.periods), Decimal(0))
    as_session = sessions.session_object(peer, session)
    cdr_id = new_cdr_id()
    tariffs = [tariff] if tariff is not None else []
    if not is_221_shape(version):
        return {
            "id": cdr_id,
            "start_date_time": format_datetime(session.start),
            "stop_date_time": format_datetime(session.end),
            "auth_id": as_session["auth_id"],
            "auth_method": as_session["auth_method"],
            "location": session.location_211,
            "currency": as_session["currency"],
            "tariffs": tariffs,
            "charging_periods": as_session["charging_periods"],
            "total_cost": billed.excl_vat,
            "total_energy": session.kwh,
            "total_time": total_time,
            "total_parking_time": Decimal(0),
            **({"remark": session.end_reason} if session.end_reason else {}),
            "last_updated": format_datetime(_stamp(book, session)),
        }
    start_kwh, end_kwh = _readings(book, session, mismatch=fault == "energy_mismatch")
    token_uid = str((as_session.get("cdr_token") or {}).get("uid") or "")
    signed, serial = _signed_data(book, session, start_kwh, end_kwh, token_uid, fault)
    location = session.location_at_start or {}
    (evse,) = location["evses"]  # cut to the session's EVSE and connector at its start
    connector = next(c for c in evse["connectors"] if c["id"] == session.connector_id)
    cdr_location: dict[str, Any] = {"id": location["id"]}
    for name in ("name", "address", "city", "postal_code", "state", "country", "coordinates"):
        if name in location:
            cdr_location[name] = location[name]
    cdr_location |= {
        "evse_uid": evse["uid"],
        "evse_id": evse.get("evse_id") or evse["uid"],
        "connector_id": connector["id"],
        "connector_standard": connector["standard"],
        "connector_format": connector["format"],
        "connector_power_type": connector["power_type"],
    }
    cdr: dict[str, Any] = {
        "country_code": peer.country_code,
        "party_id": peer.party_id,
        "id": cdr_id,
        "start_date_time": format_datetime(session.start),
        "end_date_time": format_datetime(session.end),
        "session_id": session.id,
        "cdr_token": as_session["cdr_token"],
        "auth_method": session.auth_method,
    }
    if session.authorization_reference:
        cdr["authorization_reference"] = session.authorization_reference
    if is_230(version) and book.invoice_reference_id:
        cdr["invoice_reference_id"] = book.invoice_reference_id
    cdr |= {
        "cdr_location": cdr_location,
        "meter_id": serial,
        "currency": as_session["currency"],
        "tariffs": tariffs,
        "charging_periods": as_session["charging_periods"],
        "signed_data": signed,
        "total_cost": sessions.render_cost(billed, version),
    }
    if tariff is not None:
        for name, kind in (
            ("total_fixed_cost", "FLAT"),
            ("total_energy_cost", "ENERGY"),
            ("total_time_cost", "TIME"),
        ):
            part = sessions.price(_only(tariff, kind), session.kwh, session.elapsed)
            cdr[name] = sessions.render_cost(part, version)
    cdr |= {
        "total_energy": session.kwh,
        "total_time": total_time,
        "total_parking_time": Decimal(0),
    }
    if session.end_reason:
        cdr["remark"] = session.end_reason[:255]
    cdr["last_updated"] = format_datetime(_stamp(book, session))
    return cdr


def new_cdr_id() -> str:
    """24 characters: room for the credit suffix within CiString(39), and within 36 (7.3)."""
    return "CDR-" + uuid4().hex[:20].upper()


_AMOUNTS: Final = frozenset({"excl_vat", "incl_vat", "before_taxes", "amount"})


def _negated(price: Any) -> Any:
    """A credit's amount: every amount of the price negated (2.3.0: its taxes' too), rates kept."""
    if isinstance(price, dict):
        return {k: -v if k in _AMOUNTS else _negated(v) for k, v in price.items()}
    if isinstance(price, list):
        return [_negated(tax) for tax in price]
    if isinstance(price, Decimal | int) and not isinstance(price, bool):
        return -price
    return price


# --- sending -------------------------------------------------------------------------------------


def session_completed(
    book: CdrBook, peer: Peer, stopping: threading.Event, session: sessions.ChargingSession
) -> None:
    """On the session's runner thread, after its final push: create its CDR(s) as `cdr_fault`
    says, wait `cdr_delay` (cut short by `stopping`), send them."""
    fault = book.cdr_fault
    with book.lock:
        body = build(book, peer, session, fault)
        original = _create(book, session, body, "cdr")
        extra: list[CreatedCdr] = []
        if fault == "credit_after" and is_221_shape(session.version):
            credit = dict(body)
            credit |= {
                "id": body["id"] + CREDIT_SUFFIX,
                "total_cost": _negated(body["total_cost"]),
                "credit": True,
                "credit_reference_id": body["id"],
            }
            credit.pop("last_updated")
            credit["last_updated"] = format_datetime(_stamp(book, session))
            extra.append(_create(book, session, credit, "credit"))
            corrected = dict(body)
            corrected["id"] = new_cdr_id()
            corrected["total_cost"] = sessions.render_cost(
                sessions.price(session.tariff, session.kwh, session.elapsed)
                if session.tariff is not None
                else sessions.Cost(Decimal("0.00"), Decimal("0.00")),
                session.version,
            )
            corrected.pop("last_updated")
            corrected["last_updated"] = format_datetime(_stamp(book, session))
            extra.append(_create(book, session, corrected, "corrected"))
        if fault == "late":
            book.held.append(original)
    if fault in ("no_cdr", "late"):
        return
    if book.cdr_delay > 0 and stopping.wait(book.cdr_delay):
        return
    deliver(book, peer, original, "cdr")
    if fault == "duplicate":
        deliver(book, peer, original, "duplicate")
    for each in extra:
        deliver(book, peer, each, each.kind)


def _create(
    book: CdrBook, session: sessions.ChargingSession, body: dict[str, Any], kind: str
) -> CreatedCdr:
    created = CreatedCdr(
        id=body["id"],
        session_id=session.id,
        version=session.version,
        kind=kind,
        body=body,
        last_updated=parse_datetime(body["last_updated"]),
    )
    book.created.append(created)
    return created


def deliver(book: CdrBook, peer: Peer, cdr: CreatedCdr, kind: str) -> Delivery:
    """POST one CDR to the eMSP's `{url}` and record the outcome (never raises)."""
    http_status = ocpi_status = None
    location = error = None
    if "cdrs" not in peer.emsp_endpoints:
        error = NO_ENDPOINT
    else:
        try:
            response = peer.call_us("POST", "cdrs", json=cdr.body)
        except SimulatorError as exc:
            error = str(exc)
            logger.info("CDR %s not delivered: %s", cdr.id, exc)
        else:
            http_status = response.status_code
            location = response.headers.get("Location")
            try:
                answer = response.json()
                ocpi_status = int(answer["status_code"]) if isinstance(answer, dict) else None
            except (ValueError, KeyError, TypeError):
                ocpi_status = None
    delivery = Delivery(
        cdr_id=cdr.id,
        session_id=cdr.session_id,
        kind=kind,
        body=cdr.body,
        http_status=http_status,
        ocpi_status=ocpi_status,
        location=location,
        error=error,
    )
    with book.changed:
        book.deliveries.append(delivery)
        book.changed.notify_all()
    return delivery


def release(book: CdrBook, peer: Peer) -> list[Delivery]:
    """Send every CDR "late" held back, oldest first."""
    with book.lock:
        held, book.held = book.held, []
    return [deliver(book, peer, cdr, "late") for cdr in held]


def send_for(
    book: CdrBook, sessions_book: sessions.SessionBook, peer: Peer, session_id: str
) -> Delivery:
    """(Re)send the session's CDR: its latest one that is not a credit, created now (without any
    fault) if it has none yet. ValueError for an unknown session or one not ended COMPLETED."""
    with book.lock, sessions_book.lock:
        session = sessions_book.sessions.get(session_id)
        if session is None:
            raise ValueError(f"no session {session_id!r}")
        if session.status != "COMPLETED" or not session.done.is_set():
            raise ValueError(f"session {session_id} has not ended COMPLETED")
        mine = [c for c in book.created if c.session_id == session_id]
        regular = [c for c in mine if c.kind != "credit"]
        if regular:
            cdr = regular[-1]
        else:
            cdr = _create(book, session, build(book, peer, session, None), "cdr")
    return deliver(book, peer, cdr, "resend")


def wait(book: CdrBook, session_id: str | None, timeout: float) -> Delivery:
    """The first delivery record (of `session_id`'s CDRs if given); TimeoutError after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    with book.changed:
        while True:
            for delivery in book.deliveries:
                if session_id is None or delivery.session_id == session_id:
                    return delivery
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no CDR {session_id or ''} sent within {timeout} s")
            book.changed.wait(remaining)


# --- the Sender interface ------------------------------------------------------------------------


def handle(book: CdrBook, paging: Paging, request: InboundRequest) -> Reply:
    """GET list (`date_from`, `date_to`, `offset`, `limit`): every CDR created in the requested
    version's shape (2.2.x or 2.1.1), oldest first, paginated like the other lists (T-19)."""
    if request.method != "GET":
        raise OcpiFailure(Status.CLIENT_ERROR, "the CDRs Sender only answers GET", http_status=405)
    if request.segments:
        raise OcpiFailure(Status.CLIENT_ERROR, "no such cdrs resource", http_status=404)
    modern = is_221_shape(request.version)
    with book.lock:
        found = [c for c in book.created if is_221_shape(c.version) == modern]
    stamps = {number: cdr.last_updated for number, cdr in enumerate(found)}
    return paging.page(
        request, matching(len(found), request.query, stamps), lambda number: found[number].body
    )
