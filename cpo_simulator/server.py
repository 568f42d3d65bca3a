"""The CPO simulator: an OCPI peer playing a CPO's backend over real HTTP, and its state.

It is an independent implementation the platform is tested against (see `transport.py`): it
serves its Versions, Credentials, Locations and Tariffs Sender endpoints from a background
thread, and drives the eMSP's endpoints from the test's thread (`register_with`, `call_us`,
`push_evse_status`, ...) or, with `status_churn`, from a thread of its own. There is no database:
all state is in memory, behind one lock, and dies with the object. The fleet (locations, EVSEs,
connectors, tariffs) is generated from numbers on demand; only what changed since is stored.

It also plays the CPO side of charging: a Tokens Receiver (`tokens.py`), a Commands Receiver
with configurable faults (`commands.py`) and sessions that charge in simulated time and push
themselves to the eMSP (`sessions.py`, which explains the clock), each session on a worker
thread that ends with the simulator.

Strictness is the point. It reads and writes the token in exactly its version's form (base64 for
2.2.x, raw for 2.1.1 and for `raw_tokens=True`), validates what the eMSP sends it, and answers
with the envelope on every response, errors included.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from uuid import uuid4

import httpx

from . import cdrs, commands, credentials, locations, sessions, tariffs, tokens, versions
from .cdrs import CDR_FAULTS, CdrBook, Delivery
from .commands import COMMAND_FAULTS, ReceivedCommand
from .locations import EVSE_STATUSES, Change, Fleet
from .sessions import SESSION_FAULTS, ChargingSession
from .transport import (
    CONFIGURATION_MODULES,
    CPO_INTERFACES,
    KNOWN_VERSIONS,
    InboundRequest,
    OcpiFailure,
    Recorded,
    Reply,
    SimulatorError,
    Status,
    authorization,
    dump_json,
    envelope,
    format_datetime,
    is_221_shape,
    is_valid_token,
    load_json,
    new_token,
    token_from_header,
    uses_base64,
    version_key,
)

logger = logging.getLogger("cpo_simulator")

ModuleHandler = Callable[["CpoSimulator", InboundRequest], Reply]

# One entry per module the simulator implements; a module it publishes without a handler here
# answers 404 with OCPI 2000. Later modules (sessions, cdrs, ...) add themselves to this table.
MODULE_HANDLERS: dict[str, ModuleHandler] = {
    "credentials": credentials.handle,
    "locations": locations.handle,
    "tariffs": tariffs.handle,
    "sessions": sessions.handle,
    "tokens": tokens.handle,
    "commands": commands.handle,
    "cdrs": cdrs.handle,
}

FAULTS: Final = (None, "garbage", "http500")
MAX_STATUS_CHURN: Final = 1000.0  # statuses per second; one push in flight at a time anyway
# What churn picks from: mostly the two everyday statuses, never REMOVED or PLANNED (which would
# retire or hide the EVSE at the eMSP).
CHURN_STATUSES: Final = ("AVAILABLE", "CHARGING") * 3 + (
    "BLOCKED",
    "OUTOFORDER",
    "INOPERATIVE",
    "UNKNOWN",
)
OUTBOUND_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)
WORKER_JOIN_SECONDS: Final = 5.0  # how long stop() waits for session and command threads in all
_GARBAGE: Final = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><p>The upstream CPMS did not answer.</p></body></html>\n"
)


@dataclass
class SimulatorState:
    """Registration state. Read and write it only while holding `CpoSimulator.lock`.

    `inbound` holds every token the eMSP may currently use on any module: normally one, two
    while a registration or rotation the simulator started is pending."""

    token_a_valid: bool = True
    inbound: set[str] = field(default_factory=set)
    current_token: str | None = None
    registered: bool = False
    emsp_token: str | None = None
    emsp_version: str | None = None
    emsp_endpoints: dict[str, str] = field(default_factory=dict)
    emsp_versions_url: str | None = None
    emsp_credentials: dict[str, Any] | None = None
    emsp_roles: list[dict[str, Any]] = field(default_factory=list)

    def register(
        self,
        *,
        inbound_token: str,
        emsp_token: str,
        version: str,
        endpoints: dict[str, str],
        versions_url: str,
        credentials: dict[str, Any],
        roles: list[dict[str, Any]],
    ) -> None:
        """Registration (either flow) or a PUT succeeded: token A dies, one token remains."""
        self.token_a_valid = False
        self.inbound = {inbound_token}
        self.current_token = inbound_token
        self.registered = True
        self.emsp_token = emsp_token
        self.emsp_version = version
        self.emsp_endpoints = dict(endpoints)
        self.emsp_versions_url = versions_url
        self.emsp_credentials = credentials
        self.emsp_roles = roles

    def rotate(self, *, inbound_token: str, emsp_token: str, credentials: dict[str, Any]) -> None:
        self.inbound = {inbound_token}
        self.current_token = inbound_token
        self.emsp_token = emsp_token
        self.emsp_credentials = credentials

    def forget(self) -> None:
        """Unregistered: every token issued is dead; token A stays dead too (C-06)."""
        self.inbound = set()
        self.current_token = None
        self.registered = False
        self.emsp_token = None
        self.emsp_version = None
        self.emsp_endpoints = {}
        self.emsp_versions_url = None
        self.emsp_credentials = None
        self.emsp_roles = []


class _OneOf:
    """An attribute that takes only the listed values, so a misspelt fault fails at once
    instead of silently meaning "no fault"."""

    def __init__(self, allowed: tuple[str | None, ...]) -> None:
        self.allowed = allowed

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.private = name, f"_{name}"

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        return self if obj is None else getattr(obj, self.private)

    def __set__(self, obj: object, value: str | None) -> None:
        if value not in self.allowed:
            raise ValueError(f"{self.name} must be one of {self.allowed}")
        setattr(obj, self.private, value)


class CpoSimulator:
    """A CPO's OCPI backend on `host:port` (see the module docstring); also a context manager.

    Thread-safe: requests are served on daemon threads, and every read or write of `state` and
    `requests` happens under `lock` (re-entrant). No lock is held during an outbound call.

    Charging options: `charge_kw` (every session's power), `time_scale` (simulated seconds per
    real second, see `sessions.py`), `update_interval` (real seconds between a session's
    PATCHes), `command_timeout` (the CommandResponse's `timeout`), `command_fault` and
    `session_fault` (also settable at run time; `commands.py`, `sessions.py`),
    `require_known_token`, `start_delay` (seconds from a START_SESSION's result to its
    session), `result_delay` (from a CommandResponse to its result: the charger's round trip),
    `late_seconds` (when "late_result" sends it) and `hold_seconds` (how long "read_timeout"
    holds the answer). CDRs (`cdrs.py`): `cdr_delay` (seconds from a session's end to its CDR)
    and `cdr_fault`, both settable at run time."""

    # Misbehaviour a test or the command line switches on, each settable while running.
    fault = _OneOf(FAULTS)  # None, "garbage" (200 with HTML) or "http500" (500 with 3000)
    command_fault = _OneOf(COMMAND_FAULTS)  # how the Commands Receiver misbehaves: commands.py
    session_fault = _OneOf(SESSION_FAULTS)  # duplicate, out-of-order or INVALID: sessions.py
    cdr_fault = _OneOf(CDR_FAULTS)  # how CDRs misbehave, read when a session ends: cdrs.py

    def __init__(
        self,
        versions: Iterable[str] = ("2.2.1",),
        host: str = "127.0.0.1",
        port: int = 0,
        country_code: str = "NL",
        party_id: str = "SIM",
        name: str = "Simulated CPO",
        token_a: str | None = None,
        raw_tokens: bool = False,
        omit_modules: Iterable[str] = (),
        location_count: int = 0,
        page_size: int = 50,
        public_base_url: str | None = None,
        evses_per_location: int = locations.EVSES_PER_LOCATION,
        connectors_per_evse: int = locations.CONNECTORS_PER_EVSE,
        tariff_count: int = 2,
        ad_hoc_tariffs: bool = False,
        latency: float = 0.0,
        status_churn: float = 0.0,
        charge_kw: float = 11.0,
        time_scale: float = 60.0,
        update_interval: float = 1.0,
        command_timeout: int = 30,
        command_fault: str | None = None,
        session_fault: str | None = None,
        require_known_token: bool = False,
        start_delay: float = 0.0,
        result_delay: float = 0.0,
        late_seconds: float = 35.0,
        hold_seconds: float = 40.0,
        cdr_delay: float = 0.0,
        cdr_fault: str | None = None,
    ) -> None:
        self.versions: tuple[str, ...] = tuple(versions)
        if not self.versions or len(set(self.versions)) != len(self.versions):
            raise ValueError("versions must list at least one version, each once")
        unknown = [v for v in self.versions if v not in KNOWN_VERSIONS]
        if unknown:
            raise ValueError(f"unknown OCPI versions {unknown}; known: {list(KNOWN_VERSIONS)}")
        self.omit_modules: frozenset[str] = frozenset(omit_modules)
        if not self.omit_modules <= CPO_INTERFACES.keys():
            raise ValueError(f"omit_modules must be among {list(CPO_INTERFACES)}")
        if token_a is not None and not is_valid_token(token_a):
            raise ValueError("token_a must be 1 to 64 printable ASCII characters without spaces")
        if location_count < 0 or page_size < 1:
            raise ValueError("location_count must be >= 0 and page_size >= 1")
        if evses_per_location < 0 or connectors_per_evse < 1 or tariff_count < 0:
            raise ValueError(
                "evses_per_location and tariff_count must be >= 0, connectors_per_evse >= 1"
            )
        if not 0 <= status_churn <= MAX_STATUS_CHURN:
            raise ValueError(f"status_churn must be between 0 and {MAX_STATUS_CHURN:g} per second")
        if not (charge_kw > 0 and time_scale > 0 and update_interval > 0):
            raise ValueError("charge_kw, time_scale and update_interval must be > 0")
        if not isinstance(command_timeout, int) or command_timeout < 1:
            raise ValueError("command_timeout must be an int >= 1 (seconds)")
        if not min(start_delay, result_delay, late_seconds, hold_seconds) >= 0:
            raise ValueError("start_delay, result_delay, late_seconds, hold_seconds must be >= 0")
        self.host = host
        self.port = port
        self.country_code = country_code
        self.party_id = party_id
        self.name = name
        self.token_a: str = token_a or new_token()
        self.raw_tokens = raw_tokens
        self.location_count = location_count
        self.page_size = page_size
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.evses_per_location = evses_per_location
        self.connectors_per_evse = connectors_per_evse
        self.tariff_count = tariff_count
        self.ad_hoc_tariffs = ad_hoc_tariffs
        self.status_churn = status_churn
        self.lock = threading.RLock()
        self.state = SimulatorState()
        self.requests: list[Recorded] = []
        self.last_error: str | None = None
        self.churn_pushes = 0  # status pushes the churn thread made, answered or not
        self.churn_failures = 0  # ... that did not reach the eMSP or were not answered 2xx
        self.fault = None
        self._fail_after_pages: int | None = None
        self._changes: dict[int, Change] = {}  # by location index; see locations.Change
        self._stopping = threading.Event()
        self._latency_changed = threading.Condition()
        self.latency = latency
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._churn: threading.Thread | None = None
        # Charging (tokens.py, commands.py, sessions.py); all under `lock`.
        self.charge_kw = charge_kw
        self.time_scale = time_scale
        self.update_interval = update_interval
        self.command_timeout = command_timeout
        self.require_known_token = require_known_token
        self.start_delay = start_delay
        self.result_delay = result_delay
        self.late_seconds = late_seconds
        self.hold_seconds = hold_seconds
        self.command_fault = command_fault
        self.session_fault = session_fault
        self.session_push_failures = 0  # session pushes not delivered or not answered 2xx
        self._tokens: dict[tokens.TokenKey, dict[str, Any]] = {}
        self._commands: list[ReceivedCommand] = []
        self._sessions: dict[str, ChargingSession] = {}  # in creation order
        self._claims: set[tuple[int, int]] = set()  # (location, EVSE) a start is pending on
        self._reservations: dict[str, dict[str, Any]] = {}
        self._session_changed = threading.Condition(self.lock)
        self._workers: list[threading.Thread] = []
        self.cdr_delay = cdr_delay
        self.cdr_fault = cdr_fault
        self.cdr_book = CdrBook()  # under `lock`
        self._cdr_changed = threading.Condition(self.lock)

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> CpoSimulator:
        """Bind (port 0 picks a free one) and serve from a daemon thread; returns self."""
        if self._server is not None:
            raise SimulatorError("the simulator is already running")
        self._stopping.clear()
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"cpo-simulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        if self.status_churn > 0:
            self._churn = threading.Thread(
                target=self._churn_statuses, name=f"cpo-simulator-churn-{self.port}", daemon=True
            )
            self._churn.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket: afterwards its URLs refuse connections. Requests
        waiting out `latency` are answered at once; status churn ends; sessions stop where they
        are, without a last push (a CPMS going down), and pending command results are dropped."""
        server, thread, churn = self._server, self._thread, self._churn
        if server is None:
            return
        self._stopping.set()
        with self._latency_changed:
            self._latency_changed.notify_all()
        with self.lock:
            for session in self._sessions.values():
                session.wake.set()
            workers, self._workers = self._workers, []
        server.shutdown()
        server.server_close()
        for each in (thread, churn):
            if each is not None:
                each.join(timeout=5)
        deadline = time.monotonic() + WORKER_JOIN_SECONDS
        for worker in workers:
            worker.join(timeout=max(0.0, deadline - time.monotonic()))
        self._server = self._thread = self._churn = None

    def __enter__(self) -> CpoSimulator:
        return self if self._server is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- what tests read ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self.public_base_url:
            return self.public_base_url
        if self.port == 0:
            raise SimulatorError("start() the simulator before asking for its URLs")
        return f"http://{self.host}:{self.port}"

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/ocpi/versions"

    def version_url(self, version: str) -> str:
        """Where `version`'s details are; module endpoints are below it."""
        return f"{self.base_url}/ocpi/{version}"

    @property
    def fail_after_pages(self) -> int | None:
        """None, or N: list endpoints answer their first N pages, then HTTP 500 with 3000 for
        any page further into the list (a CPMS falling over in the middle of a pull)."""
        return self._fail_after_pages

    @fail_after_pages.setter
    def fail_after_pages(self, value: int | None) -> None:
        if value is not None and (not isinstance(value, int) or value < 0):
            raise ValueError("fail_after_pages must be None or an int >= 0")
        self._fail_after_pages = value

    @property
    def latency(self) -> float:
        """Seconds every OCPI request waits before it is answered (0: none). Changing it also
        changes it for requests already waiting."""
        return self._latency

    @latency.setter
    def latency(self, value: float) -> None:
        if not value >= 0:
            raise ValueError("latency must be >= 0 seconds")
        with self._latency_changed:
            self._latency = float(value)
            self._latency_changed.notify_all()

    @property
    def cdr_delay(self) -> float:
        """Seconds from a session's end to its CDR's POST (0: at once)."""
        return self._cdr_delay

    @cdr_delay.setter
    def cdr_delay(self, value: float) -> None:
        if not value >= 0:
            raise ValueError("cdr_delay must be >= 0 seconds")
        self._cdr_delay = float(value)

    @property
    def registered(self) -> bool:
        with self.lock:
            return self.state.registered

    @property
    def emsp_token(self) -> str | None:
        """The token the simulator calls the eMSP with (B in flow 1, C in flow 2)."""
        with self.lock:
            return self.state.emsp_token

    @property
    def emsp_endpoints(self) -> dict[str, str]:
        """The eMSP's URL per module id, for the interface a CPO calls (a copy)."""
        with self.lock:
            return dict(self.state.emsp_endpoints)

    @property
    def emsp_version(self) -> str | None:
        with self.lock:
            return self.state.emsp_version

    @property
    def emsp_versions_url(self) -> str | None:
        with self.lock:
            return self.state.emsp_versions_url

    @property
    def emsp_credentials(self) -> dict[str, Any] | None:
        """The eMSP's last Credentials object, as it sent it."""
        with self.lock:
            return self.state.emsp_credentials

    @property
    def current_token(self) -> str | None:
        """The token the eMSP must now use to call the simulator (C in flow 1, B in flow 2)."""
        with self.lock:
            return self.state.current_token

    def base64_for(self, version: str) -> bool:
        """Whether the simulator writes and reads tokens base64-encoded under `version`."""
        return uses_base64(version, raw_tokens=self.raw_tokens)

    def new_token(self) -> str:
        return new_token()

    @property
    def fleet(self) -> Fleet:
        return Fleet(
            country_code=self.country_code,
            party_id=self.party_id,
            operator_name=self.name,
            evses_per_location=self.evses_per_location,
            connectors_per_evse=self.connectors_per_evse,
            tariff_count=self.tariff_count,
            ad_hoc_tariffs=self.ad_hoc_tariffs,
        )

    def location(self, index: int, version: str | None = None) -> dict[str, Any]:
        """Location number `index` (0-based) as served under `version` (default: the agreed
        version, else the simulator's highest), with what changed since (`touch`,
        `push_evse_status`), so tests can compare with what was stored."""
        with self.lock:
            change = self._changes.get(index)
            if change is not None:  # a copy: the churn thread may change it meanwhile
                change = Change(
                    change.last_updated, dict(change.evse_updated), dict(change.evse_status)
                )
        return locations.location_object(
            version or self._default_version(), index, self.fleet, change
        )

    def tariff_ids(self, version: str | None = None) -> list[str]:
        """The ids of every tariff served under `version`, in list order."""
        return [plan.id for plan in self._plans(version)]

    def tariff(self, tariff_id: str, version: str | None = None) -> dict[str, Any]:
        """Tariff `tariff_id` as served under `version`; ValueError if there is none."""
        version = version or self._default_version()
        for plan in self._plans(version):
            if plan.id == tariff_id:
                return tariffs.tariff_object(
                    plan, version, country_code=self.country_code, party_id=self.party_id
                )
        raise ValueError(f"no tariff {tariff_id!r} under {version}")

    def changed_locations(self) -> dict[int, datetime]:
        """`last_updated` of each location changed since it was generated, by index."""
        with self.lock:
            return {index: change.last_updated for index, change in self._changes.items()}

    def _plans(self, version: str | None) -> tuple[tariffs.Plan, ...]:
        return tariffs.catalogue(
            self.tariff_count,
            ad_hoc_tariffs=self.ad_hoc_tariffs,
            version=version or self._default_version(),
        )

    # --- changes at the CPO --------------------------------------------------------------------

    def touch(self, index: int, at: datetime | None = None) -> datetime:
        """Location `index` and its EVSEs were updated at `at` (default now; whole seconds,
        UTC): a `date_from` pull now finds it with that `last_updated`. Returns the stamp."""
        self._check_index(index)
        moment = _whole_seconds(at)
        with self.lock:
            change = self._changes.setdefault(index, Change(moment))
            change.last_updated = moment
            for n in range(1, self.evses_per_location + 1):
                change.evse_updated[n] = moment
        return moment

    def push_evse_status(
        self, index: int, evse_number: int, status: str, at: datetime | None = None
    ) -> httpx.Response:
        """The EVSE's status changed at `at` (default now): record it, so GETs and pulls show
        it (the location's `last_updated` moves with it, L-01), then PATCH `{status,
        last_updated}` to the eMSP's Locations Receiver with the current token. SimulatorError
        if there is no eMSP to push to or it cannot be reached (the change stays recorded)."""
        self._check_index(index)
        if not 1 <= evse_number <= self.evses_per_location:
            raise ValueError(f"EVSE number must be 1 to {self.evses_per_location}")
        if status not in EVSE_STATUSES:
            raise ValueError(f"status must be one of {EVSE_STATUSES}")
        moment = _whole_seconds(at)
        path = self._locations_path(index, locations.evse_uid(index, evse_number))
        self._resolve(path)  # no eMSP to tell: raise before recording anything
        with self.lock:
            change = self._changes.setdefault(index, Change(locations.last_updated(index)))
            change.last_updated = max(change.last_updated, moment)
            change.evse_updated[evse_number] = moment
            change.evse_status[evse_number] = status
        body = {"status": status, "last_updated": format_datetime(moment)}
        return self.call_us("PATCH", path, json=body)

    def push_location(self, index: int) -> httpx.Response:
        """PUT location `index`, as the agreed version serves it now, to the eMSP's Receiver."""
        self._check_index(index)
        location = self.location(index)
        return self.call_us("PUT", self._locations_path(index), json=location)

    def push_tariff(self, tariff_id: str) -> httpx.Response:
        """PUT a tariff to the eMSP's Tariffs Receiver (`{url}/{cc}/{pid}/{tariff_id}`)."""
        tariff = self.tariff(tariff_id)
        path = f"tariffs/{self.country_code}/{self.party_id}/{quote(tariff_id, safe='')}"
        return self.call_us("PUT", path, json=tariff)

    def _locations_path(self, index: int, *below: str) -> str:
        parts = [self.country_code, self.party_id, locations.location_id(index), *below]
        return "locations/" + "/".join(quote(part, safe="") for part in parts)

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.location_count:
            raise ValueError(f"location index must be 0 to {self.location_count - 1}")

    def _churn_statuses(self) -> None:
        """`status_churn` random EVSE status pushes a second to the registered eMSP, one at a
        time: a slow eMSP lowers the rate instead of piling up requests; idle while nobody is
        registered, and ends with `stop()`."""
        interval = 1.0 / self.status_churn
        pick = random.Random()
        due = time.monotonic()
        while not self._stopping.is_set():
            delay = due - time.monotonic()
            if delay > 0 and self._stopping.wait(delay):
                return
            due = max(due + interval, time.monotonic())  # never a burst to catch up
            if (
                self.location_count == 0
                or self.evses_per_location == 0
                or "locations" not in self.emsp_endpoints
            ):
                continue
            index = pick.randrange(self.location_count)
            evse_number = pick.randint(1, self.evses_per_location)
            status = pick.choice(CHURN_STATUSES)
            self.churn_pushes += 1
            try:
                response = self.push_evse_status(index, evse_number, status)
            except SimulatorError as exc:
                self.churn_failures += 1
                logger.info("status churn: %s", exc)
                continue
            if not response.is_success:
                self.churn_failures += 1

    # --- charging: tokens, commands, sessions -------------------------------------------------

    @property
    def tokens(self) -> dict[tokens.TokenKey, dict[str, Any]]:
        """Tokens the eMSP pushed, by (COUNTRY_CODE, PARTY_ID, UID, type): a copy."""
        with self.lock:
            return {key: dict(token) for key, token in self._tokens.items()}

    @property
    def commands(self) -> list[ReceivedCommand]:
        """Every command request received, oldest first (copies; see `ReceivedCommand`)."""
        with self.lock:
            return [replace(entry) for entry in self._commands]

    @property
    def sessions(self) -> dict[str, dict[str, Any]]:
        """Every session by id, oldest first, as the Session object of its version stands now."""
        with self.lock:
            return {sid: sessions.session_object(self, s) for sid, s in self._sessions.items()}

    @property
    def reservations(self) -> dict[str, dict[str, Any]]:
        """ReserveNow bodies of the reservations held, by upper-cased reservation id."""
        with self.lock:
            return {key: dict(body) for key, body in self._reservations.items()}

    def wait_for_session(
        self,
        status: str | None = None,
        timeout: float = 10.0,
        session_id: str | None = None,
    ) -> dict[str, Any]:
        """The first session (oldest first; `session_id` to pick one) whose last push carried
        `status` (any status if None), as it stands. For COMPLETED and INVALID, it returns once
        the final push and the EVSE's AVAILABLE push have both been sent. TimeoutError after
        `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._session_changed:
            while True:
                for sid, session in self._sessions.items():
                    if session_id is not None and sid != session_id:
                        continue
                    if session.pushed_status is None:
                        continue
                    if status is None or session.pushed_status == status:
                        if status in ("COMPLETED", "INVALID") and not session.done.is_set():
                            continue
                        return sessions.session_object(self, session)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"no session {session_id or ''} pushed with status {status} "
                        f"within {timeout} s"
                    )
                self._session_changed.wait(remaining)

    def end_session(
        self, session_id: str, reason: str | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        """The car or the charger ends the session (`reason` is kept for the CDR's remark): the
        final figures are pushed as COMPLETED (INVALID with that fault) and the EVSE goes back
        to AVAILABLE. Returns the final Session once that is done; ValueError for an unknown
        id, SimulatorError if the simulator is not running or the runner does not finish."""
        with self.lock:
            session = self._sessions.get(session_id)
        if session is None:
            raise ValueError(f"no session {session_id!r}")
        if self._server is None and not session.done.is_set():
            raise SimulatorError("the simulator is not running: no session can end")
        sessions.request_end(session, reason)
        if not session.done.wait(timeout):
            raise SimulatorError(f"session {session_id} did not end within {timeout} s")
        with self.lock:
            return sessions.session_object(self, session)

    def start_session_unasked(
        self,
        location_index: int,
        evse_number: int,
        token_uid: str,
        *,
        token_type: str = "RFID",  # noqa: S107 - a TokenType, not a password
        contract_id: str | None = None,
        connector_id: str = "1",
    ) -> str:
        """A session nobody commanded: a driver held a card to the reader (auth_method
        WHITELIST). The token is the eMSP's copy when it pushed one, else made up from
        `token_uid` (and `contract_id`, default the uid) under the eMSP's party. Returns the new
        session's id; the runner pushes it like any other. SimulatorError if one of the
        simulator's own sessions occupies the EVSE (its generated status does not matter)."""
        self._check_index(location_index)
        if not 1 <= evse_number <= self.evses_per_location:
            raise ValueError(f"EVSE number must be 1 to {self.evses_per_location}")
        if connector_id not in {str(c) for c in range(1, self.connectors_per_evse + 1)}:
            raise ValueError(f"connector_id must be 1 to {self.connectors_per_evse}")
        if self._server is None:
            raise SimulatorError("start() the simulator first")
        with self.lock:
            busy = (location_index, evse_number) in self._claims or any(
                s.index == location_index and s.evse_number == evse_number and not s.done.is_set()
                for s in self._sessions.values()
            )
        if busy:
            raise SimulatorError("a session is already starting or charging on that EVSE")
        version = self._default_version()
        party = self._emsp_party() or ("", "")
        held = next(
            (
                token
                for (_, _, uid, kind), token in self.tokens.items()
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
        session = sessions.begin(
            self,
            version=version,
            index=location_index,
            evse_number=evse_number,
            connector_id=connector_id,
            token=token,
            auth_method="WHITELIST",
        )
        return session.id

    def push_session(self, session_id: str) -> httpx.Response:
        """PUT the session as it stands to the eMSP again (the CPO resynchronising after a
        failed PATCH, T-07). SimulatorError if the eMSP cannot be reached."""
        with self.lock:
            session = self._sessions.get(session_id)
            if session is None:
                raise ValueError(f"no session {session_id!r}")
            body = sessions.session_object(self, session)
        return self.call_us("PUT", sessions.session_path(self, session_id), json=body)

    @property
    def cdrs(self) -> list[Delivery]:
        """Every CDR POST attempted, oldest first, with the eMSP's answer (`cdrs.Delivery`)."""
        with self.lock:
            return list(self.cdr_book.deliveries)

    def wait_for_cdr(self, session_id: str | None = None, timeout: float = 10.0) -> Delivery:
        """The first CDR delivery (of that session's CDRs, if given); TimeoutError if none
        within `timeout` seconds."""
        return cdrs.wait(self, session_id, timeout)

    def send_cdr(self, session_id: str) -> Delivery:
        """POST the session's CDR (again) now; see `cdrs.send_for`."""
        return cdrs.send_for(self, session_id)

    def release_cdrs(self) -> list[Delivery]:
        """Send the CDRs the "late" fault held back."""
        return cdrs.release(self)

    def _session_completed(self, session: ChargingSession) -> None:
        """Called by a session's runner once it ended COMPLETED and said so: its CDR."""
        cdrs.session_completed(self, session)

    def _record_evse_status(self, index: int, evse_number: int, status: str) -> datetime:
        """Record the EVSE's new status now, stamped (real clock, whole seconds) strictly after
        its previous stamp, so that a quick CHARGING then AVAILABLE are not equally old."""
        moment = _whole_seconds(None)
        with self.lock:
            change = self._changes.setdefault(index, Change(locations.last_updated(index)))
            previous = change.evse_updated.get(evse_number)
            if previous is not None and moment <= previous:
                moment = previous + timedelta(seconds=1)
            change.last_updated = max(change.last_updated, moment)
            change.evse_updated[evse_number] = moment
            change.evse_status[evse_number] = status
        return moment

    def _tell_evse_status(
        self, index: int, evse_number: int, status: str, moment: datetime
    ) -> None:
        """PATCH a status recorded at `moment` to the eMSP's Locations Receiver, if it has one;
        failures are logged, as a CPMS would."""
        path = self._locations_path(index, locations.evse_uid(index, evse_number))
        body = {"status": status, "last_updated": format_datetime(moment)}
        try:
            self.call_us("PATCH", path, json=body)
        except SimulatorError as exc:
            logger.info("EVSE status %s not pushed: %s", status, exc)

    def _spawn(self, job: Callable[[], None], name: str) -> None:
        """Run `job` on a daemon worker thread that `stop()` waits for (briefly)."""
        if self._stopping.is_set():
            return
        worker = threading.Thread(target=job, name=f"cpo-simulator-{name}", daemon=True)
        with self.lock:
            self._workers = [w for w in self._workers if w.is_alive()]
            self._workers.append(worker)
        worker.start()

    def _defer(self, job: Callable[[], None], name: str) -> None:
        """Start `job` once the answer being written on this thread has been sent (a command's
        result must not overtake its CommandResponse); at once outside a request."""
        pending: list[tuple[Callable[[], None], str]] | None = getattr(_after_answer, "jobs", None)
        if pending is None:
            self._spawn(job, name)
        else:
            pending.append((job, name))

    # --- what the simulator does to the eMSP -------------------------------------------------

    def register_with(self, versions_url: str, token: str) -> httpx.Response:
        """Flow 2: register with the eMSP, which issued `token` (A). See `credentials.py`."""
        self.last_error = None
        return credentials.register_with(self, versions_url, token)

    def rotate_with_us(self) -> httpx.Response:
        """PUT fresh credentials to the eMSP; stores the token it answers with."""
        self.last_error = None
        return credentials.rotate_with_us(self)

    def unregister_from_us(self) -> httpx.Response:
        """DELETE on the eMSP's credentials endpoint, then forget the eMSP."""
        self.last_error = None
        return credentials.unregister_from_us(self)

    def call_us(
        self,
        method: str,
        module_or_url: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        token: str | None = None,
        encode: bool | None = None,
        headers: dict[str, str] | None = None,
        authorize: bool = True,
    ) -> httpx.Response:
        """Any call to the eMSP, for tests that send wrong tokens, bad bodies and the like.

        `module_or_url`: a module id ("locations"), a module id and a path below it
        ("locations/NL/SIM/LOC00001"), "versions" for the eMSP's versions URL, or a full URL.
        `token` defaults to `emsp_token`, `encode` (base64 or raw) to the agreed version's form,
        `authorize=False` sends no Authorization header at all. Functional modules get routing
        headers under 2.2.x; `headers` are applied last and override anything."""
        url, module = self._resolve(module_or_url)
        version = self._default_version()
        token = token if token is not None else self.emsp_token
        if authorize and token is None:
            raise SimulatorError("no token to call the eMSP with: register first or pass token=")
        out_headers: dict[str, str] = {}
        if module is not None and module not in CONFIGURATION_MODULES and is_221_shape(version):
            out_headers |= self._routing_headers(to=self._emsp_party())
        out_headers |= headers or {}
        return self.send(
            method.upper(),
            url,
            token=token,
            base64_form=self.base64_for(version) if encode is None else encode,
            json=json,
            content=content,
            headers=out_headers,
            authorize=authorize,
        )

    def send(
        self,
        method: str,
        url: str,
        *,
        token: str | None,
        base64_form: bool,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        correlation_id: str | None = None,
        authorize: bool = True,
    ) -> httpx.Response:
        """One HTTP call out (T-15 ids, Content-Type on bodies); SimulatorError if no answer.

        A fresh connection each time, so a test that stops the eMSP sees the failure at once."""
        out = httpx.Headers(
            {"X-Request-ID": str(uuid4()), "X-Correlation-ID": correlation_id or str(uuid4())}
        )
        if authorize:
            if token is None:
                raise SimulatorError(f"{method} {url}: no token to authorize with")
            out["Authorization"] = authorization(token, base64_form=base64_form)
        if json is not None:
            content = dump_json(json)
        if content is not None:
            out["Content-Type"] = "application/json"
        out.update(headers or {})  # case-insensitively: a caller's header replaces ours
        try:
            with httpx.Client(timeout=OUTBOUND_TIMEOUT, trust_env=False) as client:
                response = client.request(method, url, content=content, headers=out)
        except httpx.HTTPError as exc:
            logger.info("-> %s %s failed: %s", method, url, type(exc).__name__)
            raise SimulatorError(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
        logger.info("-> %s %s %d", method, url, response.status_code)
        return response

    def _resolve(self, module_or_url: str) -> tuple[str, str | None]:
        if module_or_url.startswith(("http://", "https://")):
            return module_or_url, None
        if module_or_url == "versions":
            versions_url = self.emsp_versions_url
            if versions_url is None:
                raise SimulatorError("the eMSP's versions URL is not known: register first")
            return versions_url, "versions"
        module, _, below = module_or_url.partition("/")
        url = self.emsp_endpoints.get(module)
        if url is None:
            raise SimulatorError(f"the eMSP published no {module!r} endpoint the CPO can call")
        return (f"{url.rstrip('/')}/{below}" if below else url), module

    def _default_version(self) -> str:
        return self.emsp_version or max(self.versions, key=version_key)

    def _emsp_party(self) -> tuple[str, str] | None:
        with self.lock:
            for role in self.state.emsp_roles:
                if role.get("role") == "EMSP":
                    return role["country_code"], role["party_id"]
        return None

    def _routing_headers(self, *, to: tuple[str, str] | None) -> dict[str, str]:
        """T-16: from the simulator's CPO role to `to`, when it is known."""
        headers = {
            "OCPI-from-country-code": self.country_code,
            "OCPI-from-party-id": self.party_id,
        }
        if to is not None:
            headers |= {"OCPI-to-country-code": to[0], "OCPI-to-party-id": to[1]}
        return headers

    # --- serving -------------------------------------------------------------------------------

    def _respond(
        self, method: str, raw_path: str, headers: httpx.Headers, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Answer one request: record it, apply the fault, route it, wrap it in the envelope."""
        received = time.monotonic()
        split = urlsplit(raw_path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        record = Recorded(method, split.path, query, headers, body, _maybe_json(body))
        with self.lock:
            self.requests.append(record)
        if split.path.startswith("/ocpi"):
            self._wait_latency(received)
        request_id = headers.get("X-Request-ID") or str(uuid4())
        correlation_id = headers.get("X-Correlation-ID") or str(uuid4())
        fault = self._fault
        out_headers: list[tuple[str, str]]
        down = self._commands_down(split.path)
        if down is not None:  # command_fault "down": 503, no body at all, nothing done
            commands.record_down(self, down[0], down[1], body)
            record.status = 503
            logger.info("%s %s 503 (commands down)", method, raw_path)
            return 503, [], b""
        if fault == "garbage" and split.path.startswith("/ocpi"):
            status, payload = 200, _GARBAGE
            out_headers = [("Content-Type", "text/html; charset=utf-8")]
        else:
            if fault == "http500":
                reply = Reply(
                    status=Status.SERVER_ERROR, message="simulated failure", http_status=500
                )
            else:
                reply = self._reply(method, split.path, query, headers, body, correlation_id)
            status, payload = reply.http_status, envelope(reply)
            out_headers = [("Content-Type", "application/json"), *reply.headers.items()]
            if status == 401:
                out_headers.append(("WWW-Authenticate", "Token"))
        out_headers += [("X-Request-ID", request_id), ("X-Correlation-ID", correlation_id)]
        record.status = status
        logger.info("%s %s %d", method, raw_path, status)
        return status, out_headers, payload

    def _commands_down(self, path: str) -> tuple[str, str] | None:
        """(version, command) when `command_fault` is "down" and `path` is a command POST."""
        if self._command_fault != "down":
            return None
        parts = [unquote(part) for part in path.split("/") if part]
        if (
            len(parts) == 4
            and parts[:1] == ["ocpi"]
            and parts[2] == "commands"
            and parts[1] in self.versions
            and "commands" not in self.omit_modules
        ):
            return parts[1], parts[3]
        return None

    def _wait_latency(self, received: float) -> None:
        """Hold the answer until `latency` seconds after the request came in (re-read when it
        changes), or until the simulator stops."""
        with self._latency_changed:
            while not self._stopping.is_set():
                remaining = received + self._latency - time.monotonic()
                if remaining <= 0:
                    return
                self._latency_changed.wait(remaining)

    def _reply(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: httpx.Headers,
        body: bytes,
        correlation_id: str,
    ) -> Reply:
        try:
            return self._route(method, path, query, headers, body, correlation_id)
        except OcpiFailure as failure:
            return Reply(
                status=failure.status, message=failure.message, http_status=failure.http_status
            )
        except Exception:  # the simulator's one catch-all, like the product's handler
            logger.exception("simulator bug answering %s %s", method, path)
            return Reply(status=Status.SERVER_ERROR, message="simulator bug", http_status=500)

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: httpx.Headers,
        body: bytes,
        correlation_id: str,
    ) -> Reply:
        parts = [unquote(part) for part in path.split("/") if part]
        if len(parts) < 2 or parts[0] != "ocpi":
            raise OcpiFailure(Status.CLIENT_ERROR, f"no endpoint at {path}", http_status=404)
        if parts[1:] == ["versions"]:
            forms = {self.base64_for(version) for version in self.versions}
            self._authenticate(headers, forms, token_a_allowed=True)
            _only_get(method)
            return versions.versions_list(self)
        version, *rest = parts[1:]
        if version not in self.versions:
            raise OcpiFailure(
                Status.CLIENT_ERROR, f"version {version} not offered", http_status=404
            )
        forms = {self.base64_for(version)}
        if not rest:
            self._authenticate(headers, forms, token_a_allowed=True)
            _only_get(method)
            return versions.version_details(self, version)
        module, *segments = rest
        if module not in CPO_INTERFACES or module in self.omit_modules:
            raise OcpiFailure(Status.CLIENT_ERROR, f"no {module!r} endpoint", http_status=404)
        token, kind = self._authenticate(headers, forms, token_a_allowed=module == "credentials")
        handler = MODULE_HANDLERS.get(module)
        if handler is None:
            raise OcpiFailure(
                Status.CLIENT_ERROR,
                f"{module} is not implemented by the simulator",
                http_status=404,
            )
        request = InboundRequest(
            method=method,
            version=version,
            module=module,
            segments=tuple(segments),
            query=query,
            headers=headers,
            body=body,
            token=token,
            token_kind=kind,
            correlation_id=correlation_id,
        )
        reply = handler(self, request)
        if module not in CONFIGURATION_MODULES and is_221_shape(version):
            caller_country = headers.get("OCPI-from-country-code")
            caller_party = headers.get("OCPI-from-party-id")
            to = (caller_country, caller_party) if caller_country and caller_party else None
            reply.headers = self._routing_headers(to=to or self._emsp_party()) | reply.headers
        return reply

    def _authenticate(
        self, headers: httpx.Headers, forms: set[bool], *, token_a_allowed: bool
    ) -> tuple[str, str]:
        """T-03: the token and its kind ("A" or "current"), or HTTP 401 with the envelope.

        Only the forms in `forms` are tried: a strict peer does not guess (T-02)."""
        header = headers.get("Authorization")
        if not header:
            raise OcpiFailure(Status.CLIENT_ERROR, "missing Authorization header", http_status=401)
        with self.lock:
            for base64_form in sorted(forms):
                token = token_from_header(header, base64_form=base64_form)
                if token is None:
                    continue
                if token in self.state.inbound:
                    return token, "current"
                if token == self.token_a and self.state.token_a_valid:
                    if token_a_allowed:
                        return token, "A"
                    raise OcpiFailure(
                        Status.CLIENT_ERROR,
                        "token A is only for credentials and versions",
                        http_status=401,
                    )
        expected = " or ".join("base64" if form else "raw" for form in sorted(forms))
        raise OcpiFailure(
            Status.CLIENT_ERROR, f"unknown token (read as {expected})", http_status=401
        )


def _whole_seconds(at: datetime | None) -> datetime:
    """`at` (default now) in UTC without its fraction: what the simulator's DateTimes carry."""
    moment = datetime.now(UTC) if at is None else at
    if moment.tzinfo is None:
        raise ValueError("a change needs an aware datetime")
    return moment.astimezone(UTC).replace(microsecond=0)


def _only_get(method: str) -> None:
    if method != "GET":
        raise OcpiFailure(Status.CLIENT_ERROR, f"{method} not allowed here", http_status=405)


def _maybe_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return load_json(body)
    except (ValueError, UnicodeDecodeError):
        return None


# Per request thread: jobs to start once the answer is written (see `CpoSimulator._defer`).
_after_answer = threading.local()


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hung client never blocks stop()
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], simulator: CpoSimulator) -> None:
        super().__init__(address, _Handler)
        self.simulator = simulator


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.0: one request per connection, so nothing reaches a stopped simulator through a
    client's kept-alive connection."""

    server: _Server
    server_version = "CpoSimulator/1.0"

    def _serve(self) -> None:
        """Answer, then start the jobs the answer deferred (`CpoSimulator._defer`), even when
        the client is gone by then (it timed out: the CPO carries on regardless)."""
        simulator = self.server.simulator
        _after_answer.jobs = []
        try:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = 0
            body = self.rfile.read(length) if length > 0 else b""
            status, headers, payload = simulator._respond(
                self.command, self.path, httpx.Headers(self.headers.items()), body
            )
            try:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()
            except OSError as exc:
                logger.info("%s %s: answer not delivered: %s", self.command, self.path, exc)
        finally:
            jobs, _after_answer.jobs = _after_answer.jobs, None
            for job, name in jobs:
                simulator._spawn(job, name)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: `_respond` logs one line per request, without headers or tokens."""
