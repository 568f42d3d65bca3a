"""The CPO simulator: an OCPI peer playing a CPO's backend over real HTTP.

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

The state is kept in parts, each in the module that reads it: the connection (`peer.Peer`), the
fleet (`locations.Stations`), the tokens pushed (`tokens.TokenBook`), the commands received
(`commands.CommandLog`), the sessions (`sessions.SessionBook`) and the CDRs (`cdrs.CdrBook`).
Each module handler is given only the parts it needs; `CpoSimulator` owns them all, serves HTTP,
routes each request to its handler, and is what tests and the demo drive.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit
from uuid import uuid4

import httpx

from . import cdrs, commands, credentials, locations, payments, sessions, tariffs, tokens
from .cdrs import CdrBook, Delivery
from .commands import CommandLog, ReceivedCommand
from .connection import Connection
from .fleet import CONNECTORS_PER_EVSE, EVSES_PER_LOCATION, Fleet
from .locations import Stations
from .payments import PaymentsBook
from .peer import Peer, Role
from .sessions import Charging, ChargingSession, SessionBook
from .tokens import TokenBook
from .transport import (
    CONFIGURATION_MODULES,
    InboundRequest,
    OcpiFailure,
    OneOf,
    Paging,
    Recorded,
    Reply,
    SimulatorError,
    Status,
    envelope,
    is_221_shape,
    maybe_json,
)
from .workers import Workers

logger = logging.getLogger("cpo_simulator")

ModuleHandler = Callable[[InboundRequest], Reply]

FAULTS: Final = (None, "garbage", "http500", "slash_needed")
MAX_STATUS_CHURN: Final = 1000.0  # statuses per second; one push in flight at a time anyway
# What churn picks from: mostly the two everyday statuses, never REMOVED or PLANNED (which would
# retire or hide the EVSE at the eMSP).
CHURN_STATUSES: Final = ("AVAILABLE", "CHARGING") * 3 + (
    "BLOCKED",
    "OUTOFORDER",
    "INOPERATIVE",
    "UNKNOWN",
)
WORKER_JOIN_SECONDS: Final = 5.0  # how long stop() waits for session and command threads in all
_GARBAGE: Final = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><p>The upstream CPMS did not answer.</p></body></html>\n"
)


class CpoSimulator(Connection):
    """A CPO's OCPI backend on `host:port` (see the module docstring); also a context manager.

    Thread-safe: requests are served on daemon threads, and every read or write of its state
    and `requests` happens under `lock` (re-entrant, shared by all its parts). No lock is held
    during an outbound call.

    It offers `versions` and, registering with an eMSP, takes `prefer_version` when the eMSP
    offers it too, else the highest version both speak.

    Charging options: `charge_kw` (the power every session's car takes, no more than its
    connector gives), `time_scale` (1, real time, by default; a test may fast-forward: see
    `sessions.py`), `update_interval` (real seconds between a session's
    PATCHes), `command_timeout` (the CommandResponse's `timeout`), `command_fault`,
    `session_fault` and `session_cost` (also settable at run time; `commands.py`, `sessions.py`),
    `require_known_token`, `start_delay` (seconds from a START_SESSION's result to its
    session), `result_delay` (from a CommandResponse to its result: the charger's round trip),
    `late_seconds` (when "late_result" sends it) and `hold_seconds` (how long "read_timeout"
    holds the answer). CDRs (`cdrs.py`): `cdr_delay` (seconds from a session's end to its CDR)
    and `cdr_fault`, both settable at run time. Tariffs (`tariffs.py`): `max_price` (incl. VAT,
    as a string) caps every 2.2.1 and 2.3.0 tariff; `preauthorize_amount` (a string) is every
    2.3.0 tariff's. Payments (2.3.0, `payments.py`): `assign_terminals` assigns all its
    locations to each terminal the PTP creates here."""

    # Misbehaviour of the whole server a test or the command line switches on, settable while
    # running; the modules' own faults live with their state (`command_fault`, ... below).
    # None, "garbage" (200 with HTML), "http500" (500 with 3000) or "slash_needed" (an OCPI path
    # without a trailing slash is not found, 404 with 2000; its Link URLs carry the slash).
    fault = OneOf(FAULTS)

    def __init__(
        self,
        versions: Iterable[str] = ("2.2.1",),
        prefer_version: str | None = None,
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
        evses_per_location: int = EVSES_PER_LOCATION,
        connectors_per_evse: int = CONNECTORS_PER_EVSE,
        tariff_count: int = 2,
        ad_hoc_tariffs: bool = False,
        max_price: str | None = None,
        preauthorize_amount: str | None = None,
        latency: float = 0.0,
        status_churn: float = 0.0,
        charge_kw: float = 11.0,
        time_scale: float = 1.0,
        update_interval: float = 1.0,
        command_timeout: int = 30,
        command_fault: str | None = None,
        session_fault: str | None = None,
        session_cost: str | None = None,
        require_known_token: bool = False,
        start_delay: float = 0.0,
        result_delay: float = 0.0,
        late_seconds: float = 35.0,
        hold_seconds: float = 40.0,
        cdr_delay: float = 0.0,
        cdr_fault: str | None = None,
        assign_terminals: bool = False,
    ) -> None:
        self.lock = threading.RLock()
        self.peer = Peer(
            versions=tuple(versions),
            host=host,
            port=port,
            country_code=country_code,
            party_id=party_id,
            name=name,
            token_a=token_a,
            raw_tokens=raw_tokens,
            omit_modules=frozenset(omit_modules),
            public_base_url=public_base_url,
            lock=self.lock,
            prefer_version=prefer_version,
        )
        if location_count < 0 or page_size < 1:
            raise ValueError("location_count must be >= 0 and page_size >= 1")
        if evses_per_location < 0 or connectors_per_evse < 1 or tariff_count < 0:
            raise ValueError(
                "evses_per_location and tariff_count must be >= 0, connectors_per_evse >= 1"
            )
        if not 0 <= status_churn <= MAX_STATUS_CHURN:
            raise ValueError(f"status_churn must be between 0 and {MAX_STATUS_CHURN:g} per second")
        self.paging = Paging(page_size)
        fleet = Fleet(
            country_code=country_code,
            party_id=party_id,
            operator_name=name,
            evses_per_location=evses_per_location,
            connectors_per_evse=connectors_per_evse,
            tariff_count=tariff_count,
            ad_hoc_tariffs=ad_hoc_tariffs,
            max_price=Decimal(max_price) if max_price is not None else None,
            preauthorize_amount=(
                Decimal(preauthorize_amount) if preauthorize_amount is not None else None
            ),
        )
        self.stations = Stations(fleet, location_count, self.lock)
        self.session_book = SessionBook(
            self.lock,
            charge_kw=charge_kw,
            time_scale=time_scale,
            update_interval=update_interval,
            session_fault=session_fault,
            session_cost=session_cost,
        )
        self.command_log = CommandLog(
            self.lock,
            command_timeout=command_timeout,
            command_fault=command_fault,
            require_known_token=require_known_token,
            start_delay=start_delay,
            result_delay=result_delay,
            late_seconds=late_seconds,
            hold_seconds=hold_seconds,
        )
        self.token_book = TokenBook(self.lock)
        self.cdr_book = CdrBook(self.lock, cdr_delay=cdr_delay, cdr_fault=cdr_fault)
        self.payments_book = PaymentsBook(self.lock)
        self.assign_terminals = assign_terminals
        self.payments_book.on_terminal = self._terminal_created
        self.workers = Workers()
        self.charging = Charging(
            book=self.session_book,
            stations=self.stations,
            peer=self.peer,
            workers=self.workers,
            completed=self._session_completed,
        )
        self.status_churn = status_churn
        self.requests: list[Recorded] = []
        self.churn_pushes = 0  # status pushes the churn thread made, answered or not
        self.churn_failures = 0  # ... that did not reach the eMSP or were not answered 2xx
        self.fault = None
        self._latency_changed = threading.Condition()
        self.latency = latency
        self._server: HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._churn: threading.Thread | None = None
        self._behind_front = False  # a front (`hub.py`) serves it and runs its workers
        # One entry per module the simulator implements, given the state that module needs; a
        # module it publishes without a handler here answers 404 with OCPI 2000.
        self._handlers: dict[str, ModuleHandler] = {
            "credentials": partial(credentials.handle, self.peer),
            "locations": partial(locations.handle, self.stations, self.paging),
            "tariffs": partial(tariffs.handle, fleet, self.paging),
            "sessions": partial(sessions.handle, self.session_book, self.peer, self.paging),
            "tokens": partial(tokens.handle, self.token_book, self.peer),
            "commands": partial(commands.handle, self.command_log, self.charging, self.token_book),
            "cdrs": partial(cdrs.handle, self.cdr_book, self.paging),
            "payments": partial(payments.handle, self.payments_book),
        }

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> CpoSimulator:
        """Bind (port 0 picks a free one) and serve from a daemon thread; returns self."""
        if self._server is not None or self._behind_front:
            raise SimulatorError("the simulator is already running")
        if self.peer.connection is not None:
            raise SimulatorError("this party is served by its hub's front: start that instead")
        self._server, self._thread = serve_http(self, self.peer.host, self.peer.port)
        self.peer.port = self._server.server_address[1]
        self._start_workers()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket: afterwards its URLs refuse connections. Requests
        waiting out `latency` are answered at once; status churn ends; sessions stop where they
        are, without a last push (a CPMS going down), and pending command results are dropped."""
        server, thread = self._server, self._thread
        if server is None:
            return
        threads = self._halt()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        join_all(threads)
        self._server = self._thread = None

    @property
    def running(self) -> bool:
        """Serving HTTP itself, or behind a front that is (`hub.py`)."""
        return self._server is not None or self._behind_front

    def _start_workers(self) -> None:
        """Ready the worker threads: sessions and command results may start; churn starts."""
        self.workers.stopping.clear()
        if self.status_churn > 0:
            self._churn = threading.Thread(
                target=self._churn_statuses, name=f"cpo-simulator-churn-{self.port}", daemon=True
            )
            self._churn.start()

    def _halt(self) -> list[threading.Thread]:
        """Tell every worker thread to stop; returns them (status churn's first) to be joined."""
        self.workers.stopping.set()
        with self._latency_changed:
            self._latency_changed.notify_all()
        with self.lock:
            for session in self.session_book.sessions.values():
                session.wake.set()
        churn, self._churn = self._churn, None
        return ([churn] if churn is not None else []) + self.workers.take()

    # A party behind a front (`hub.py`): the front serves HTTP and the connection, and starts
    # and stops the party's worker threads with its own.

    def _join_front(self, connection: Peer) -> None:
        self.peer.join(connection)

    def _start_behind(self) -> None:
        self._behind_front = True
        self._start_workers()

    def _stop_behind(self) -> list[threading.Thread]:
        self._behind_front = False
        return self._halt()

    def __enter__(self) -> CpoSimulator:
        return self if self.running else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- who it is, where it serves --------------------------------------------------------------

    @property
    def country_code(self) -> str:
        return self.peer.country_code

    @property
    def party_id(self) -> str:
        return self.peer.party_id

    @property
    def name(self) -> str:
        return self.peer.name

    @property
    def roles(self) -> tuple[Role, ...]:
        """The roles its Credentials carry under 2.2.x: its own CPO role."""
        return self.peer.roles

    @property
    def omit_modules(self) -> frozenset[str]:
        return self.peer.omit_modules

    def new_token(self) -> str:
        return self.peer.new_token()

    # --- settings that may change while it runs --------------------------------------------------

    @property
    def page_size(self) -> int:
        return self.paging.page_size

    @property
    def fail_after_pages(self) -> int | None:
        """None, or N: list endpoints answer their first N pages, then HTTP 500 with 3000 for
        any page further into the list (a CPMS falling over in the middle of a pull)."""
        return self.paging.fail_after_pages

    @fail_after_pages.setter
    def fail_after_pages(self, value: int | None) -> None:
        self.paging.fail_after_pages = value

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
    def command_fault(self) -> str | None:
        """How the Commands Receiver misbehaves: `commands.py`."""
        return self.command_log.command_fault  # type: ignore[no-any-return]

    @command_fault.setter
    def command_fault(self, value: str | None) -> None:
        self.command_log.command_fault = value

    @property
    def session_fault(self) -> str | None:
        """Duplicate, out-of-order or INVALID session pushes: `sessions.py`."""
        return self.session_book.session_fault  # type: ignore[no-any-return]

    @session_fault.setter
    def session_fault(self, value: str | None) -> None:
        self.session_book.session_fault = value

    @property
    def session_cost(self) -> str | None:
        """What `total_cost` a Session carries (priced, "omitted", "marked_up"): `sessions.py`."""
        return self.session_book.session_cost  # type: ignore[no-any-return]

    @session_cost.setter
    def session_cost(self, value: str | None) -> None:
        self.session_book.session_cost = value

    @property
    def cdr_fault(self) -> str | None:
        """How CDRs misbehave, read when a session ends: `cdrs.py`."""
        return self.cdr_book.cdr_fault  # type: ignore[no-any-return]

    @cdr_fault.setter
    def cdr_fault(self, value: str | None) -> None:
        self.cdr_book.cdr_fault = value

    @property
    def cdr_delay(self) -> float:
        """Seconds from a session's end to its CDR's POST (0: at once)."""
        return self.cdr_book.cdr_delay

    @cdr_delay.setter
    def cdr_delay(self, value: float) -> None:
        self.cdr_book.cdr_delay = value

    # --- the fleet -------------------------------------------------------------------------------

    @property
    def fleet(self) -> Fleet:
        return self.stations.fleet

    @property
    def location_count(self) -> int:
        return self.stations.location_count

    @property
    def evses_per_location(self) -> int:
        return self.stations.fleet.evses_per_location

    @property
    def connectors_per_evse(self) -> int:
        return self.stations.fleet.connectors_per_evse

    @property
    def tariff_count(self) -> int:
        return self.stations.fleet.tariff_count

    @property
    def ad_hoc_tariffs(self) -> bool:
        return self.stations.fleet.ad_hoc_tariffs

    def location(self, index: int, version: str | None = None) -> dict[str, Any]:
        """Location number `index` (0-based) as served under `version` (default: the agreed
        version, else the simulator's highest), with what changed since (`touch`,
        `push_evse_status`), so tests can compare with what was stored."""
        return self.stations.location(index, version or self.peer.default_version())

    def tariff_ids(self, version: str | None = None) -> list[str]:
        """The ids of every tariff served under `version`, in list order."""
        return [plan.id for plan in self.stations.plans(version or self.peer.default_version())]

    def tariff(self, tariff_id: str, version: str | None = None) -> dict[str, Any]:
        """Tariff `tariff_id` as served under `version`; ValueError if there is none."""
        return self.stations.tariff(tariff_id, version or self.peer.default_version())

    def changed_locations(self) -> dict[int, datetime]:
        """`last_updated` of each location changed since it was generated, by index."""
        return self.stations.changed_locations()

    def touch(self, index: int, at: datetime | None = None) -> datetime:
        """Location `index` and its EVSEs were updated at `at` (default now; whole seconds,
        UTC): a `date_from` pull now finds it with that `last_updated`. Returns the stamp."""
        return self.stations.touch(index, at)

    def push_evse_status(
        self, index: int, evse_number: int, status: str, at: datetime | None = None
    ) -> httpx.Response:
        """See `locations.push_evse_status`: record the EVSE's new status, PATCH it to us."""
        return locations.push_evse_status(self.stations, self.peer, index, evse_number, status, at)

    def push_location(self, index: int) -> httpx.Response:
        """PUT location `index`, as the agreed version serves it now, to the eMSP's Receiver."""
        return locations.push_location(self.stations, self.peer, index)

    def push_tariff(self, tariff_id: str) -> httpx.Response:
        """PUT a tariff to the eMSP's Tariffs Receiver (`{url}/{cc}/{pid}/{tariff_id}`)."""
        return tariffs.push_tariff(self.stations.fleet, self.peer, tariff_id)

    def _churn_statuses(self) -> None:
        """`status_churn` random EVSE status pushes a second to the registered eMSP, one at a
        time: a slow eMSP lowers the rate instead of piling up requests; idle while nobody is
        registered, and ends with `stop()`."""
        interval = 1.0 / self.status_churn
        pick = random.Random()
        due = time.monotonic()
        stopping = self.workers.stopping
        while not stopping.is_set():
            delay = due - time.monotonic()
            if delay > 0 and stopping.wait(delay):
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

    # --- charging: tokens, commands, sessions, CDRs ----------------------------------------------

    @property
    def charge_kw(self) -> float:
        return self.session_book.charge_kw

    @property
    def time_scale(self) -> float:
        return self.session_book.time_scale

    @property
    def update_interval(self) -> float:
        return self.session_book.update_interval

    @property
    def session_push_failures(self) -> int:
        """Session pushes not delivered or not answered 2xx."""
        with self.lock:
            return self.session_book.push_failures

    @property
    def tokens(self) -> dict[tokens.TokenKey, dict[str, Any]]:
        """Tokens the eMSP pushed, by (COUNTRY_CODE, PARTY_ID, UID, type): a copy."""
        with self.lock:
            return {key: dict(token) for key, token in self.token_book.tokens.items()}

    @property
    def commands(self) -> list[ReceivedCommand]:
        """Every command request received, oldest first (copies; see `ReceivedCommand`)."""
        with self.lock:
            return [replace(entry) for entry in self.command_log.commands]

    @property
    def sessions(self) -> dict[str, dict[str, Any]]:
        """Every session by id, oldest first, as the Session object of its version stands now."""
        with self.lock:
            return {
                sid: sessions.session_object(self.peer, s)
                for sid, s in self.session_book.sessions.items()
            }

    @property
    def reservations(self) -> dict[str, dict[str, Any]]:
        """ReserveNow bodies of the reservations held, by upper-cased reservation id."""
        with self.lock:
            return {key: dict(body) for key, body in self.command_log.reservations.items()}

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
        return sessions.wait_for(self.session_book, self.peer, status, timeout, session_id)

    def end_session(
        self, session_id: str, reason: str | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        """The car or the charger ends the session (`reason` is kept for the CDR's remark): the
        final figures are pushed as COMPLETED (INVALID with that fault) and the EVSE goes back
        to AVAILABLE. Returns the final Session once that is done; ValueError for an unknown
        id, SimulatorError if the simulator is not running or the runner does not finish."""
        return sessions.end(
            self.session_book,
            self.peer,
            session_id,
            reason,
            timeout,
            running=self.running,
        )

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
        session = sessions.start_unasked(
            self.charging,
            self.token_book,
            location_index,
            evse_number,
            token_uid,
            token_type=token_type,
            contract_id=contract_id,
            connector_id=connector_id,
            running=self.running,
        )
        return session.id

    def push_session(self, session_id: str) -> httpx.Response:
        """PUT the session as it stands to the eMSP again (the CPO resynchronising after a
        failed PATCH, T-07). SimulatorError if the eMSP cannot be reached."""
        return sessions.push(self.session_book, self.peer, session_id)

    @property
    def cdrs(self) -> list[Delivery]:
        """Every CDR POST attempted, oldest first, with the eMSP's answer (`cdrs.Delivery`)."""
        with self.lock:
            return list(self.cdr_book.deliveries)

    def wait_for_cdr(self, session_id: str | None = None, timeout: float = 10.0) -> Delivery:
        """The first CDR delivery (of that session's CDRs, if given); TimeoutError if none
        within `timeout` seconds."""
        return cdrs.wait(self.cdr_book, session_id, timeout)

    def send_cdr(self, session_id: str) -> Delivery:
        """POST the session's CDR (again) now; see `cdrs.send_for`."""
        return cdrs.send_for(self.cdr_book, self.session_book, self.peer, session_id)

    def release_cdrs(self) -> list[Delivery]:
        """Send the CDRs the "late" fault held back."""
        return cdrs.release(self.cdr_book, self.peer)

    def _session_completed(self, session: ChargingSession) -> None:
        """Called by a session's runner once it ended COMPLETED and said so: its CDR."""
        cdrs.session_completed(self.cdr_book, self.peer, self.workers.stopping, session)

    # --- payments (2.3.0): the PTP's terminals and Financial Advice Confirmations ----------------

    @property
    def terminals(self) -> dict[str, dict[str, Any]]:
        """The terminals the PTP created here, by `terminal_id` (upper-case)."""
        with self.lock:
            return {k: dict(v) for k, v in self.payments_book.terminals.items()}

    @property
    def advices(self) -> dict[str, dict[str, Any]]:
        """The Financial Advice Confirmations the PTP POSTed and we took, by id (upper-case)."""
        with self.lock:
            return {k: dict(v) for k, v in self.payments_book.advices.items()}

    @property
    def payment_posts(self) -> list[tuple[str, Any, int]]:
        """Every POST to the Payments Receiver: (collection, body, HTTP status answered)."""
        with self.lock:
            return list(self.payments_book.posts)

    @property
    def advice_fault(self) -> str | None:
        """ "refuse_once": the next FAC POST is answered 500 and kept nowhere."""
        with self.lock:
            return self.payments_book.advice_fault

    @advice_fault.setter
    def advice_fault(self, value: str | None) -> None:
        with self.lock:
            self.payments_book.advice_fault = value

    @property
    def invoice_reference_id(self) -> str | None:
        """The `invoice_reference_id` 2.3.0 CDRs carry from now on (the CPO invoices)."""
        with self.lock:
            return self.cdr_book.invoice_reference_id

    @invoice_reference_id.setter
    def invoice_reference_id(self, value: str | None) -> None:
        with self.lock:
            self.cdr_book.invoice_reference_id = value

    def _terminal_created(self, terminal_id: str) -> None:
        """With `assign_terminals`, a new terminal of the PTP's serves all our locations: the
        PATCH goes out once our answer to its POST has."""
        if not self.assign_terminals:
            return
        ids = [self.location(i)["id"] for i in range(self.location_count)]

        def assign() -> None:
            try:
                self.assign_terminal(terminal_id, location_ids=ids)
            except SimulatorError as exc:
                logger.info("terminal %s not assigned: %s", terminal_id, exc)

        self.workers.defer(assign, f"assign-{terminal_id}")

    def wait_for_terminals(self, count: int = 1, timeout: float = 10.0) -> list[Any]:
        """The PTP's accepted terminal POSTs, once there are `count`."""
        return payments.wait_for(self.payments_book, "terminals", count, timeout)

    def wait_for_advices(self, count: int = 1, timeout: float = 10.0) -> list[Any]:
        """The PTP's accepted FAC POSTs, once there are `count`."""
        return payments.wait_for(
            self.payments_book, "financial-advice-confirmations", count, timeout
        )

    def assign_terminal(
        self,
        terminal_id: str,
        *,
        location_ids: list[str] | None = None,
        evse_uids: list[str] | None = None,
    ) -> httpx.Response:
        """PATCH the PTP's terminal with the locations and/or EVSEs it serves."""
        return payments.assign(
            self.peer, terminal_id, location_ids=location_ids, evse_uids=evse_uids
        )

    # --- what the simulator does to the eMSP -----------------------------------------------------

    def register_with(self, versions_url: str, token: str) -> httpx.Response:
        """Flow 2: register with the eMSP, which issued `token` (A). See `credentials.py`."""
        self.peer.last_error = None
        return credentials.register_with(self.peer, versions_url, token)

    # --- serving -------------------------------------------------------------------------------

    def handle(self, request: InboundRequest) -> Reply:
        """Answer one authenticated request with its module's handler (OcpiFailure raised
        anywhere below is the error answer). A hub's front (`hub.py`) routes here too."""
        handler = self._handlers.get(request.module)
        if handler is None or request.module in self.omit_modules:
            raise OcpiFailure(
                Status.CLIENT_ERROR,
                f"{request.module} is not implemented by the simulator",
                http_status=404,
            )
        return handler(request)

    def _respond(
        self, method: str, raw_path: str, headers: httpx.Headers, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Answer one request: record it, apply the fault, route it, wrap it in the envelope."""
        received = time.monotonic()
        split = urlsplit(raw_path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        record = Recorded(method, split.path, query, headers, body, maybe_json(body))
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
            commands.record_down(self.command_log, down[0], down[1], body)
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
            elif fault == "slash_needed" and _wants_slash(split.path):
                reply = Reply(
                    status=Status.CLIENT_ERROR,
                    message="not found without a trailing slash",
                    http_status=404,
                )
            else:
                reply = self._reply(method, split.path, query, headers, body, correlation_id)
                if fault == "slash_needed" and "Link" in reply.headers:
                    reply.headers["Link"] = _slashed_link(reply.headers["Link"])
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
        if self.command_fault != "down":
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
            while not self.workers.stopping.is_set():
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
        request = self._read_request(method, path, query, headers, body, correlation_id)
        if isinstance(request, Reply):
            return request
        module, version = request.module, request.version
        reply = self.handle(request)
        if module not in CONFIGURATION_MODULES and is_221_shape(version):
            caller_country = headers.get("OCPI-from-country-code")
            caller_party = headers.get("OCPI-from-party-id")
            to = (caller_country, caller_party) if caller_country and caller_party else None
            reply.headers = self.peer.routing_headers(to=to or self.peer.emsp_party()) | (
                reply.headers
            )
        return reply


def _wants_slash(path: str) -> bool:
    """Under the "slash_needed" fault: an OCPI path without its trailing slash."""
    return path.startswith("/ocpi") and not path.endswith("/")


def _slashed_link(header: str) -> str:
    """`<…/locations?offset=2>; rel="next"` as a CPMS that wants slashes writes it."""
    target, sep, rest = header.partition(">")
    path, mark, query = target.partition("?")
    return f"{path.rstrip('/')}/{mark}{query}{sep}{rest}"


class Front(Protocol):
    """What `HttpServer` serves: a `CpoSimulator`, or a hub's front (`hub.HubSimulator`)."""

    workers: Workers

    def _respond(
        self, method: str, raw_path: str, headers: httpx.Headers, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]: ...


def serve_http(front: Front, host: str, port: int) -> tuple[HttpServer, threading.Thread]:
    """Bind `host:port` (0: a free port) and serve `front` from a daemon thread."""
    server = HttpServer((host, port), front)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"cpo-simulator-{server.server_address[1]}",
        daemon=True,
    )
    thread.start()
    return server, thread


def join_all(threads: Iterable[threading.Thread]) -> None:
    """Wait for stopped threads, `WORKER_JOIN_SECONDS` in all."""
    deadline = time.monotonic() + WORKER_JOIN_SECONDS
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))


class HttpServer(ThreadingHTTPServer):
    daemon_threads = True  # a hung client never blocks stop()
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], simulator: Front) -> None:
        super().__init__(address, _Handler)
        self.simulator = simulator


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.0: one request per connection, so nothing reaches a stopped simulator through a
    client's kept-alive connection."""

    server: HttpServer
    server_version = "CpoSimulator/1.0"

    def _serve(self) -> None:
        """Answer, then start the jobs the answer deferred (`Workers.answering`)."""
        simulator = self.server.simulator
        with simulator.workers.answering():
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

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: `_respond` logs one line per request, without headers or tokens."""
