"""The simulator's Commands Receiver (checklist §9): START_SESSION and friends, with faults.

`POST {url}/{COMMAND}` is answered at once with a CommandResponse (the CPO's own verdict: will it
forward the command to the charger?). When that is ACCEPTED, the charger's outcome follows later
as a POST to the command's `response_url`: a CommandResult under 2.2.1, a CommandResponse under
2.1.1 (which has no CommandResult; its CommandResponse has no `timeout` and its result type holds
TIMEOUT), sent with the simulator's token for the eMSP, in the simulator's token form, with routing
headers under 2.2.1 and the command's `X-Correlation-ID`. The follow-up runs on a worker thread
that the server starts only once the CommandResponse has been written, so the result cannot
overtake the answer on the simulator's side.

Validation (2001 for a malformed command, 2003 with CommandResponse REJECTED for an unknown
location, EVSE or connector, CMD-08) comes first; then the simulator's own decision (UNKNOWN_SESSION
for a STOP_SESSION of no ongoing session; REJECTED for a token of another party, or, with
`require_known_token`, for a token the eMSP did not push or pushed with `valid: false`; see
below), then `command_fault`:

- None: ACCEPTED; result ACCEPTED, or EVSE_OCCUPIED / EVSE_INOPERATIVE for a START_SESSION on an
  EVSE that is charging, blocked, reserved, or out of order; the command takes effect.
- "reject" / "not_supported": CommandResponse REJECTED / NOT_SUPPORTED; nothing follows.
- "no_result": ACCEPTED, then silence: no result, no effect.
- "late_result": the result only after `late_seconds` (set it beyond `command_timeout`), then the
  effect.
- "timeout_then_start": result TIMEOUT, yet the command takes effect anyway (`start_delay`
  later), as real CPMS do when the charger answers after their own timeout.
- "result_failed": result FAILED (2.1.1: REJECTED); no effect.
- "no_session": START_SESSION accepted with result ACCEPTED, but no session ever starts (the
  spec's "EV not plugged in before the time-out"); other commands behave normally.
- "down": the server answers HTTP 503 with no body (see `CpoSimulator._respond`); nothing is done.
- "read_timeout": the answer is held `hold_seconds` (longer than the eMSP waits), then ACCEPTED
  and everything proceeds as without a fault: the eMSP saw a timeout, the session starts anyway.

`require_known_token` rejects at once, with CommandResponse REJECTED and a message: the usual
CPMS behaviour is to look the token up in its own cache before sending anything to the charger.
The spec says the CPO SHALL NOT check a StartSession's token; the option exists because many
CPMS, most of them on 2.1.1, do anyway.

RESERVE_NOW and CANCEL_RESERVATION are kept small: a reservation is remembered
(`CpoSimulator.reservations`) and can be cancelled (UNKNOWN_RESERVATION when it is not known);
no RESERVATION session is created and the EVSE status does not change. UNLOCK_CONNECTOR is
acknowledged and does nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from . import locations, sessions, tokens
from .sessions import Charging
from .tokens import TokenBook
from .transport import (
    InboundRequest,
    OcpiFailure,
    OneOf,
    Reply,
    SimulatorError,
    Status,
    is_221_shape,
    maybe_json,
    parse_datetime,
)

logger = logging.getLogger("cpo_simulator")

COMMANDS_221: Final = (
    "CANCEL_RESERVATION",
    "RESERVE_NOW",
    "START_SESSION",
    "STOP_SESSION",
    "UNLOCK_CONNECTOR",
)
COMMANDS_211: Final = ("RESERVE_NOW", "START_SESSION", "STOP_SESSION", "UNLOCK_CONNECTOR")
COMMAND_FAULTS: Final = (
    None,
    "reject",
    "not_supported",
    "no_result",
    "late_result",
    "timeout_then_start",
    "result_failed",
    "no_session",
    "down",
    "read_timeout",
)
# EVSE statuses a START_SESSION cannot start on, and the CommandResult that says so.
_OCCUPIED: Final = frozenset({"CHARGING", "BLOCKED", "RESERVED"})
_INOPERATIVE: Final = frozenset({"INOPERATIVE", "OUTOFORDER", "REMOVED", "PLANNED", "UNKNOWN"})
# 2.1.1's async answer is a CommandResponse: results it cannot say become REJECTED.
_RESULT_211: Final = {
    "ACCEPTED": "ACCEPTED",
    "TIMEOUT": "TIMEOUT",
    "NOT_SUPPORTED": "NOT_SUPPORTED",
}


@dataclass
class ReceivedCommand:
    """One command request as the simulator saw and handled it, for tests to inspect.

    `body` is the parsed JSON (Decimal numbers; None if it was not JSON). `response` is the
    CommandResponse answered synchronously (None when the answer had no data or for "down"),
    `ocpi_status` and `http_status` that answer's codes. `result` is what was POSTed to the
    `response_url` (None until sent, and for ever when nothing is sent), `result_http_status`
    the eMSP's HTTP answer to it (None if it could not be reached). `session_id`: the session a
    START_SESSION started or a STOP_SESSION ended."""

    command: str
    version: str
    body: Any
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    ocpi_status: int | None = None
    http_status: int | None = None
    response: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    result_http_status: int | None = None
    session_id: str | None = None


@dataclass
class _Plan:
    """What follows an ACCEPTED CommandResponse, on a worker thread."""

    result: str | None  # the CommandResultType to POST, None: none
    message: str | None = None
    result_after: float = 0.0  # seconds after the answer
    effect: Callable[[], None] | None = None  # what the command does once the result is sent
    effect_after: float = 0.0
    cancel: Callable[[], None] | None = None  # undoes a claim when the effect never runs


class CommandLog:
    """Every command request received (`commands`, oldest first), the reservations held (by
    upper-cased reservation id), and how the Commands Receiver behaves (see the module
    docstring): `command_fault` (settable while running), `command_timeout`,
    `require_known_token`, `start_delay`, `result_delay`, `late_seconds`, `hold_seconds`.
    Read and write it under `lock`."""

    command_fault = OneOf(COMMAND_FAULTS)

    def __init__(
        self,
        lock: threading.RLock,
        *,
        command_timeout: int,
        command_fault: str | None,
        require_known_token: bool,
        start_delay: float,
        result_delay: float,
        late_seconds: float,
        hold_seconds: float,
    ) -> None:
        if not isinstance(command_timeout, int) or command_timeout < 1:
            raise ValueError("command_timeout must be an int >= 1 (seconds)")
        if not min(start_delay, result_delay, late_seconds, hold_seconds) >= 0:
            raise ValueError("start_delay, result_delay, late_seconds, hold_seconds must be >= 0")
        self.lock = lock
        self.commands: list[ReceivedCommand] = []
        self.reservations: dict[str, dict[str, Any]] = {}
        self.command_timeout = command_timeout
        self.command_fault = command_fault
        self.require_known_token = require_known_token
        self.start_delay = start_delay
        self.result_delay = result_delay
        self.late_seconds = late_seconds
        self.hold_seconds = hold_seconds


@dataclass(frozen=True)
class _Desk:
    """What deciding and following up a command reads and changes, passed along together."""

    log: CommandLog
    charging: Charging
    tokens: TokenBook


class _UnknownLocation(Exception):
    """The command names a location, EVSE or connector the CPO does not have (2003)."""


def commands_for(version: str) -> tuple[str, ...]:
    return COMMANDS_221 if is_221_shape(version) else COMMANDS_211


def record_down(log: CommandLog, version: str, command: str, body: bytes) -> None:
    """ "down": the request is recorded, answered 503 without a body by the server, and dropped."""
    entry = ReceivedCommand(command=command, version=version, body=maybe_json(body))
    entry.http_status = 503
    with log.lock:
        log.commands.append(entry)


def handle(
    log: CommandLog, charging: Charging, token_book: TokenBook, request: InboundRequest
) -> Reply:
    """POST `{url}/{command}`: validate, decide, answer, and plan the follow-up."""
    if request.method != "POST":
        raise OcpiFailure(Status.CLIENT_ERROR, "commands only take POST", http_status=405)
    if len(request.segments) != 1 or request.segments[0] not in commands_for(request.version):
        raise OcpiFailure(
            Status.CLIENT_ERROR,
            f"no command {'/'.join(request.segments)!r} in OCPI {request.version}",
            http_status=404,
        )
    entry = ReceivedCommand(
        command=request.segments[0], version=request.version, body=maybe_json(request.body)
    )
    with log.lock:
        log.commands.append(entry)
    try:
        reply = _handle(_Desk(log, charging, token_book), request, entry)
    except OcpiFailure as failure:
        with log.lock:
            entry.ocpi_status, entry.http_status = int(failure.status), failure.http_status
        raise
    with log.lock:
        entry.ocpi_status, entry.http_status = int(reply.status), reply.http_status
        entry.response = reply.data if isinstance(reply.data, dict) else None
    return reply


def _handle(desk: _Desk, request: InboundRequest, entry: ReceivedCommand) -> Reply:
    body = request.json_body()
    version = request.version
    try:
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        response_url = _url(body.get("response_url"))
        decide = {
            "START_SESSION": _start_session,
            "STOP_SESSION": _stop_session,
            "UNLOCK_CONNECTOR": _unlock_connector,
            "RESERVE_NOW": _reserve_now,
            "CANCEL_RESERVATION": _cancel_reservation,
        }[entry.command]
        verdict, message, plan = decide(desk, body, version, entry)
    except ValueError as exc:
        raise OcpiFailure(Status.INVALID_PARAMETERS, str(exc)) from exc
    except _UnknownLocation as exc:
        return Reply(
            command_response(desk.log, version, "REJECTED", str(exc)),
            status=Status.UNKNOWN_LOCATION,
            message=str(exc),
        )
    fault = desk.log.command_fault
    if verdict == "ACCEPTED" and fault in ("reject", "not_supported"):
        verdict = "REJECTED" if fault == "reject" else "NOT_SUPPORTED"
        message = f"simulated {fault}"
    if verdict != "ACCEPTED" or plan is None:
        if plan is not None and plan.cancel is not None:
            plan.cancel()
        return Reply(command_response(desk.log, version, verdict, message))
    if fault == "read_timeout" and desk.charging.workers.stopping.wait(desk.log.hold_seconds):
        if plan.cancel is not None:
            plan.cancel()
        raise OcpiFailure(Status.SERVER_ERROR, "simulator stopping", http_status=503)
    plan = _with_fault(desk, entry.command, plan, fault)
    correlation_id = request.correlation_id
    desk.charging.workers.defer(
        lambda: _follow_up(desk, entry, plan, response_url, version, correlation_id),
        f"command-{entry.command.lower()}",
    )
    return Reply(command_response(desk.log, version, "ACCEPTED", None))


def _with_fault(desk: _Desk, command: str, plan: _Plan, fault: str | None) -> _Plan:
    """Apply `command_fault` to what an ACCEPTED command does next (module docstring)."""
    plan.result_after = desk.log.result_delay
    if command == "START_SESSION" and plan.effect is not None:
        plan.effect_after = desk.log.start_delay
    if fault == "no_result":
        plan.result, plan.effect = None, None
    elif fault == "late_result":
        plan.result_after = desk.log.late_seconds
    elif fault == "timeout_then_start":
        plan.result, plan.message = "TIMEOUT", "simulated charger time-out"
    elif fault == "result_failed":
        plan.result, plan.message, plan.effect = "FAILED", "simulated failure", None
    elif fault == "no_session" and command == "START_SESSION":
        plan.effect = None  # ACCEPTED, but the EV is never plugged in
    if plan.effect is None and plan.cancel is not None:
        plan.cancel()
        plan.cancel = None
    return plan


def command_response(
    log: CommandLog, version: str, result: str, message: str | None
) -> dict[str, Any]:
    """2.2.1: `{result, timeout, message?}`; 2.1.1: `{result}` only."""
    if not is_221_shape(version):
        return {"result": result}
    response: dict[str, Any] = {"result": result, "timeout": log.command_timeout}
    if message:
        response["message"] = [{"language": "en", "text": message}]
    return response


def result_body(version: str, result: str, message: str | None) -> dict[str, Any]:
    """2.2.1: a CommandResult `{result, message?}`; 2.1.1: a CommandResponse `{result}`."""
    if not is_221_shape(version):
        return {"result": _RESULT_211.get(result, "REJECTED")}
    body: dict[str, Any] = {"result": result}
    if message:
        body["message"] = [{"language": "en", "text": message}]
    return body


def _follow_up(
    desk: _Desk,
    entry: ReceivedCommand,
    plan: _Plan,
    response_url: str,
    version: str,
    correlation_id: str,
) -> None:
    """Wait, POST the result, wait, take effect; a stopping simulator drops what is left."""
    if plan.result_after > 0 and desk.charging.workers.stopping.wait(plan.result_after):
        _cancel(plan)
        return
    if plan.result is not None:
        _post_result(desk, entry, response_url, version, correlation_id, plan)
    if plan.effect is None:
        return
    if plan.effect_after > 0 and desk.charging.workers.stopping.wait(plan.effect_after):
        _cancel(plan)
        return
    if desk.charging.workers.stopping.is_set():
        _cancel(plan)
        return
    plan.effect()


def _cancel(plan: _Plan) -> None:
    if plan.cancel is not None:
        plan.cancel()


def _post_result(
    desk: _Desk,
    entry: ReceivedCommand,
    response_url: str,
    version: str,
    correlation_id: str,
    plan: _Plan,
) -> None:
    assert plan.result is not None
    body = result_body(version, plan.result, plan.message)
    peer = desk.charging.peer
    with desk.log.lock, peer.lock:
        entry.result = body
        token = peer.state.emsp_token
    headers = peer.routing_headers(to=peer.emsp_party()) if is_221_shape(version) else {}
    try:
        response = peer.send(
            "POST",
            response_url,
            token=token,
            base64_form=peer.base64_for(version),
            json=body,
            headers=headers,
            correlation_id=correlation_id,
        )
    except SimulatorError as exc:
        logger.info("%s result not delivered: %s", entry.command, exc)
        return
    with desk.log.lock:
        entry.result_http_status = response.status_code


# --- the commands --------------------------------------------------------------------------------

_Decision = tuple[str, str | None, _Plan | None]  # (CommandResponseType, message, plan)


def _start_session(
    desk: _Desk, body: dict[str, Any], version: str, entry: ReceivedCommand
) -> _Decision:
    modern = is_221_shape(version)
    token = _token(body, version)
    location_id = _id(body.get("location_id"), "location_id", version, required=True)
    evse_uid = _id(body.get("evse_uid"), "evse_uid", version)
    connector_id = _id(body.get("connector_id"), "connector_id", version) if modern else None
    reference = _id(body.get("authorization_reference"), "authorization_reference", version)
    if not modern:
        reference = None  # 2.1.1 has no authorization_reference
    if connector_id is not None and evse_uid is None:
        raise ValueError("evse_uid is required when connector_id is set")
    index = _location(desk, location_id)
    evse_number = _evse(desk, index, evse_uid) if evse_uid is not None else None
    if connector_id is not None:
        assert evse_number is not None
        _connector(desk, index, evse_number, connector_id)
    refusal = _token_refusal(desk, token, version)
    if refusal is not None:
        return "REJECTED", refusal, None
    with desk.charging.book.lock:
        if evse_number is None:  # the CPO picks an EVSE: the first free one
            free = [
                n
                for n in range(1, desk.charging.stations.fleet.evses_per_location + 1)
                if _evse_refusal(desk, index, n) is None
            ]
            evse_number = free[0] if free else 1
        refusal = _evse_refusal(desk, index, evse_number)
        if refusal is None:
            desk.charging.book.claims.add((index, evse_number))
    chosen_evse, chosen_connector = evse_number, connector_id or "1"
    if refusal is not None:
        return "ACCEPTED", None, _Plan(result=refusal, message=f"the EVSE is {refusal[5:].lower()}")

    def start() -> None:
        session = sessions.begin(
            desk.charging,
            version=version,
            index=index,
            evse_number=chosen_evse,
            connector_id=chosen_connector,
            token=token,
            auth_method="COMMAND",
            authorization_reference=reference,
        )
        with desk.log.lock:
            entry.session_id = session.id

    def release() -> None:
        with desk.charging.book.lock:
            desk.charging.book.claims.discard((index, chosen_evse))

    return "ACCEPTED", None, _Plan(result="ACCEPTED", effect=start, cancel=release)


def _stop_session(
    desk: _Desk, body: dict[str, Any], version: str, entry: ReceivedCommand
) -> _Decision:
    session_id = _id(body.get("session_id"), "session_id", "2.2.1", required=True)
    book = desk.charging.book
    with desk.log.lock, book.lock:
        session = next(
            (s for s in book.sessions.values() if s.id.upper() == session_id.upper()), None
        )
        if session is None or not session.active:
            return "UNKNOWN_SESSION", f"no ongoing session {session_id!r}", None
        entry.session_id = session.id
    target = session
    return (
        "ACCEPTED",
        None,
        _Plan(result="ACCEPTED", effect=lambda: sessions.request_end(target, "STOP_SESSION")),
    )


def _unlock_connector(
    desk: _Desk, body: dict[str, Any], version: str, entry: ReceivedCommand
) -> _Decision:
    location_id = _id(body.get("location_id"), "location_id", version, required=True)
    evse_uid = _id(body.get("evse_uid"), "evse_uid", version, required=True)
    connector_id = _id(body.get("connector_id"), "connector_id", "2.2.1", required=True)
    index = _location(desk, location_id)
    _connector(desk, index, _evse(desk, index, evse_uid), connector_id)
    return "ACCEPTED", None, _Plan(result="ACCEPTED")


def _reserve_now(
    desk: _Desk, body: dict[str, Any], version: str, entry: ReceivedCommand
) -> _Decision:
    modern = is_221_shape(version)
    token = _token(body, version)
    expiry = body.get("expiry_date")
    if not isinstance(expiry, str):
        raise ValueError("expiry_date must be a DateTime")
    parse_datetime(expiry)
    reservation_id: str
    if modern:
        reservation_id = _id(body.get("reservation_id"), "reservation_id", version, required=True)
    else:  # 2.1.1: an int
        raw = body.get("reservation_id")
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise ValueError("reservation_id must be an int")
        reservation_id = str(raw)
    location_id = _id(body.get("location_id"), "location_id", version, required=True)
    evse_uid = _id(body.get("evse_uid"), "evse_uid", version)
    if modern:
        _id(body.get("authorization_reference"), "authorization_reference", version)
    index = _location(desk, location_id)
    if evse_uid is not None:
        _evse(desk, index, evse_uid)
    refusal = _token_refusal(desk, token, version)
    if refusal is not None:
        return "REJECTED", refusal, None
    kept = dict(body)

    def reserve() -> None:
        with desk.log.lock:
            desk.log.reservations[reservation_id.upper()] = kept

    return "ACCEPTED", None, _Plan(result="ACCEPTED", effect=reserve)


def _cancel_reservation(
    desk: _Desk, body: dict[str, Any], version: str, entry: ReceivedCommand
) -> _Decision:
    reservation_id = _id(body.get("reservation_id"), "reservation_id", version, required=True)
    with desk.log.lock:
        known = reservation_id.upper() in desk.log.reservations
    if not known:
        return "ACCEPTED", None, _Plan(result="UNKNOWN_RESERVATION")

    def cancel() -> None:
        with desk.log.lock:
            desk.log.reservations.pop(reservation_id.upper(), None)

    return "ACCEPTED", None, _Plan(result="ACCEPTED", effect=cancel)


# --- checks --------------------------------------------------------------------------------------


def _url(value: Any) -> str:
    if (
        not isinstance(value, str)
        or not value.startswith(("http://", "https://"))
        or len(value) > 255
    ):
        raise ValueError("response_url must be an absolute http(s) URL of at most 255 characters")
    return value


def _id(value: Any, name: str, version: str, *, required: bool = False) -> Any:
    """A CiString(36) (2.2.1) or string(39) (2.1.1 location and EVSE ids); None if absent."""
    if value is None:
        if required:
            raise ValueError(f"{name} is required")
        return None
    limit = 36 if is_221_shape(version) or name in ("connector_id", "session_id") else 39
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise ValueError(f"{name} must be a string of 1 to {limit} characters")
    if not all(" " <= char <= "~" for char in value):
        raise ValueError(f"{name} must be printable ASCII")
    return value


def _token(body: dict[str, Any], version: str) -> dict[str, Any]:
    token = body.get("token")
    tokens.validate_token(token, version)
    assert isinstance(token, dict)
    return token


def _token_refusal(desk: _Desk, token: dict[str, Any], version: str) -> str | None:
    """Why the CPO refuses the token itself (REJECTED), or None."""
    if is_221_shape(version):
        party = desk.charging.peer.emsp_party()
        owner = (str(token["country_code"]).upper(), str(token["party_id"]).upper())
        if party is not None and owner != (party[0].upper(), party[1].upper()):
            return "the token belongs to another party than the eMSP sending the command"
    if not desk.log.require_known_token:
        return None
    held = tokens.find(desk.tokens, token, version)
    if held is None:
        return "unknown token: push it through the Tokens module first"
    if held.get("valid") is False or token.get("valid") is False:
        return "the token is not valid"
    return None


def _location(desk: _Desk, location_id: str) -> int:
    index = locations.location_index(location_id.upper())
    if index is None or index >= desk.charging.stations.location_count:
        raise _UnknownLocation(f"unknown location {location_id!r}")
    return index


def _evse(desk: _Desk, index: int, evse_uid: str) -> int:
    prefix = f"{locations.location_id(index)}-"
    number = evse_uid.upper().removeprefix(prefix)
    if (
        not evse_uid.upper().startswith(prefix)
        or not number.isdigit()
        or not 1 <= int(number) <= desk.charging.stations.fleet.evses_per_location
        or locations.evse_uid(index, int(number)) != evse_uid.upper()
    ):
        raise _UnknownLocation(f"unknown EVSE {evse_uid!r} at {locations.location_id(index)}")
    return int(number)


def _connector(desk: _Desk, index: int, evse_number: int, connector_id: str) -> None:
    connectors = desk.charging.stations.fleet.connectors_per_evse
    if connector_id not in {str(c) for c in range(1, connectors + 1)}:
        raise _UnknownLocation(
            f"unknown connector {connector_id!r} at {locations.evse_uid(index, evse_number)}"
        )


def _evse_refusal(desk: _Desk, index: int, evse_number: int) -> str | None:
    """EVSE_OCCUPIED, EVSE_INOPERATIVE, or None when a session could start there now. Hold
    the session book's lock (re-entrant) so the answer and a claim go together."""
    book, stations, peer = desk.charging.book, desk.charging.stations, desk.charging.peer
    with book.lock:
        if book.occupied(index, evse_number):
            return "EVSE_OCCUPIED"
        location = stations.location(index, peer.default_version())
        status = location["evses"][evse_number - 1]["status"]
    if status in _OCCUPIED:
        return "EVSE_OCCUPIED"
    if status in _INOPERATIVE:
        return "EVSE_INOPERATIVE"
    return None
