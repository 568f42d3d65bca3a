"""Several CPO parties on one OCPI connection: a roaming hub in front of them, or a CPMS hosting
them (OCPI 2.2.1 transport, "Message Routing").

`HubSimulator` is the front: it serves HTTP, holds the one connection with the eMSP (one
registration, one token pair, one set of eMSP endpoints) and routes every functional-module
request by its routing headers to one of its members, each a `CpoSimulator` that keeps its own
fleet, tokens, commands, sessions and CDRs exactly as when it serves alone. A member does not
serve HTTP; its calls to the eMSP go over the front's connection with its own party in the
`OCPI-from-*` headers (a hub forwards the original sender's), and its worker threads start and
stop with the front.

Two shapes, one class:
- hub (`hub=(country_code, party_id, name)`): the Credentials carry one role, `HUB`, the hub's
  own; a request to the hub's own party is a GET All merged over every member, or a token
  broadcast (PUT/PATCH to every member). The hub also serves its HubClientInfo (Sender) and
  pushes a member's ClientInfo to the eMSP when it changes, and every member's once registered.
- multi-party CPMS (`hub=None`): the Credentials carry one `CPO` role per member, and every
  request must name one member: there is no party of the platform's own, so a list answers
  only that member's objects and an eMSP pulls each party in turn.

Under 2.2.x every functional-module request must carry all four routing headers (the front is
strict: no Open Routing Requests); 2.1.1 has none, so a front offering it has one member only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit
from uuid import uuid4

import httpx

from . import commands, credentials
from .connection import Connection, only_get
from .peer import Peer, Role
from .server import CpoSimulator, HttpServer, join_all, serve_http
from .transport import (
    CONFIGURATION_MODULES,
    CPO_INTERFACES,
    ROUTING_HEADERS,
    InboundRequest,
    OcpiFailure,
    Paging,
    Recorded,
    Reply,
    SimulatorError,
    Status,
    envelope,
    format_datetime,
    is_221_shape,
    list_page,
    maybe_json,
    parse_datetime,
)
from .workers import Workers

logger = logging.getLogger("cpo_simulator")

DEFAULT_HUB: Final = ("DE", "HUB", "Simulated Hub")
CLIENT_STATUSES: Final = ("CONNECTED", "OFFLINE", "PLANNED", "SUSPENDED")
# The front's interfaces: a CPO's, and a hub's own HubClientInfo (2.2.x only).
HUB_INTERFACES: Final = {**CPO_INTERFACES, "hubclientinfo": "SENDER"}
# Modules whose GET without a path below it is a Sender list: what a hub merges.
LIST_MODULES: Final = frozenset(
    module
    for module, role in CPO_INTERFACES.items()
    if role == "SENDER" and module not in CONFIGURATION_MODULES
)

Party = tuple[str, str]  # (COUNTRY_CODE, PARTY_ID), upper case: CiString


@dataclass
class ClientInfo:
    """What the hub says of one member's connection (HubClientInfo)."""

    country_code: str
    party_id: str
    status: str
    last_updated: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "party_id": self.party_id,
            "country_code": self.country_code,
            "role": "CPO",
            "status": self.status,
            "last_updated": format_datetime(self.last_updated),
        }


class _CommandsDown(Exception):
    """A member's `command_fault` is "down": answer 503 with no body, as `CpoSimulator` does."""


class HubSimulator(Connection):
    """The front of several `CpoSimulator` parties (see the module docstring); also a context
    manager. Members must be fresh (not started, not behind another front); from construction
    on they use the front's connection.

    `hub`: (country_code, party_id, business name) of the hub, or None for a multi-party CPMS.
    `versions`, `host`, `port`, `token_a`, `raw_tokens`, `public_base_url` mean what they mean
    for `CpoSimulator`; `page_size` pages what the front answers itself (merged lists, the
    ClientInfo list); a list addressed to one member pages with that member's page size.

    Behind a front a member's own `requests`, `fault` and `latency` are unused (the front
    records every request it receives in `requests`, headers included); its `command_fault`
    "down" still answers its commands 503.

    Thread-safe like `CpoSimulator`: the front's state and `requests` are read and written under
    `lock`, which the members' connection shares; no lock is held during a call out."""

    def __init__(
        self,
        members: Iterable[CpoSimulator],
        hub: tuple[str, str, str] | None = DEFAULT_HUB,
        versions: Iterable[str] = ("2.2.1",),
        host: str = "127.0.0.1",
        port: int = 0,
        token_a: str | None = None,
        raw_tokens: bool = False,
        page_size: int = 50,
        public_base_url: str | None = None,
    ) -> None:
        self.members: tuple[CpoSimulator, ...] = tuple(members)
        offered = tuple(versions)
        if not self.members:
            raise ValueError("a hub or CPMS needs at least one party behind it")
        if any(member.running or member.peer.connection is not None for member in self.members):
            raise ValueError("a party behind a front must be fresh: not running, no other front")
        parties = [_party(member.country_code, member.party_id) for member in self.members]
        if len(set(parties)) != len(parties):
            raise ValueError("each party behind the front must be a different country/party")
        if hub is not None and _party(hub[0], hub[1]) in parties:
            raise ValueError("the hub's own party cannot also be one behind it")
        if len(self.members) > 1 and not all(is_221_shape(v) for v in offered):
            raise ValueError(
                "OCPI 2.1.1 has no routing headers: a front offering it has one party only"
            )
        self.hub: Role | None = Role("HUB", hub[0], hub[1], hub[2]) if hub is not None else None
        self.lock = threading.RLock()
        roles = (
            (self.hub,)
            if self.hub is not None
            else tuple(Role("CPO", m.country_code, m.party_id, m.name) for m in self.members)
        )
        # Who the front is where one party is named: the hub, or where 2.1.1 is offered (its
        # Credentials name one party, and it knows no hubs) or there is no hub, the first member.
        first = self.members[0]
        named = Role("CPO", first.country_code, first.party_id, first.name)
        if self.hub is not None and all(is_221_shape(v) for v in offered):
            named = self.hub
        self.peer = Peer(
            versions=offered,
            host=host,
            port=port,
            country_code=named.country_code,
            party_id=named.party_id,
            name=named.name,
            token_a=token_a,
            raw_tokens=raw_tokens,
            omit_modules=frozenset(),
            public_base_url=public_base_url,
            lock=self.lock,
            roles=roles,
        )
        self.paging = Paging(page_size)
        self.workers = Workers()
        self.requests: list[Recorded] = []
        now = datetime.now(UTC).replace(microsecond=0)
        self._client_info: dict[Party, ClientInfo] = {
            party: ClientInfo(party[0], party[1], "CONNECTED", now) for party in parties
        }
        self._by_party: dict[Party, CpoSimulator] = dict(zip(parties, self.members, strict=True))
        for member in self.members:
            member._join_front(self.peer)
        self._server: HttpServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> HubSimulator:
        """Bind (port 0 picks a free one), serve from a daemon thread and start the members'
        workers; returns self."""
        if self._server is not None:
            raise SimulatorError("the front is already running")
        self.workers.stopping.clear()
        self._server, self._thread = serve_http(self, self.peer.host, self.peer.port)
        self.peer.port = self._server.server_address[1]
        for member in self.members:
            member._start_behind()
        return self

    def stop(self) -> None:
        """Stop serving, then stop every member's workers as `CpoSimulator.stop` does."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self.workers.stopping.set()
        threads = self.workers.take()
        for member in self.members:
            threads += member._stop_behind()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        join_all(threads)
        self._server = self._thread = None

    def __enter__(self) -> HubSimulator:
        return self if self._server is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- who it is, where it serves --------------------------------------------------------------

    @property
    def is_hub(self) -> bool:
        return self.hub is not None

    @property
    def page_size(self) -> int:
        return self.paging.page_size

    def member(self, country_code: str, party_id: str) -> CpoSimulator:
        """The member playing that party; KeyError if none does."""
        return self._by_party[_party(country_code, party_id)]

    # --- what the front does to the eMSP ---------------------------------------------------------

    def register_with(self, versions_url: str, token: str) -> httpx.Response:
        """Flow 2 with the token A the eMSP issued, for every party behind the front at once;
        a hub then pushes each member's ClientInfo (CONNECTED) if the eMSP has a Receiver."""
        self.peer.last_error = None
        response = credentials.register_with(self.peer, versions_url, token)
        if self.registered:
            self._push_client_infos_quietly()
        return response

    # --- HubClientInfo (hub only) -----------------------------------------------------------------

    @property
    def client_infos(self) -> list[dict[str, Any]]:
        """Every member's ClientInfo, in member order, as the hub serves it."""
        self._need_hub()
        with self.lock:
            return [info.as_json() for info in self._client_info.values()]

    def set_client_status(
        self, party: CpoSimulator | tuple[str, str], status: str
    ) -> httpx.Response | None:
        """The member (or its (country_code, party_id)) is now `status` (CONNECTED, OFFLINE,
        PLANNED, SUSPENDED): its ClientInfo changes (`last_updated` now) and is PUT to the
        eMSP's `hubclientinfo` Receiver at `{url}/{country_code}/{party_id}`. Returns the
        eMSP's answer, or None when it has no such Receiver. While a member is not CONNECTED,
        requests to it are answered 4003 and a merged list leaves it out.
        SimulatorError if the eMSP cannot be reached; ValueError for an unknown party or
        status."""
        self._need_hub()
        if status not in CLIENT_STATUSES:
            raise ValueError(f"status must be one of {CLIENT_STATUSES}")
        key = (
            _party(party.country_code, party.party_id)
            if isinstance(party, CpoSimulator)
            else _party(*party)
        )
        with self.lock:
            info = self._client_info.get(key)
            if info is None:
                raise ValueError(f"{key[0]}/{key[1]} is not behind this hub")
            info.status = status
            # Whole seconds on the wire: a change within the second of the last still gets a
            # later stamp, so a receiver that keeps only newer ClientInfo takes it.
            now = datetime.now(UTC).replace(microsecond=0)
            info.last_updated = max(now, info.last_updated + timedelta(seconds=1))
            body = info.as_json()
        return self._push_client_info(body)

    def push_client_infos(self) -> list[httpx.Response]:
        """PUT every member's ClientInfo to the eMSP's Receiver (none if it has none)."""
        self._need_hub()
        responses = []
        for body in self.client_infos:
            response = self._push_client_info(body)
            if response is not None:
                responses.append(response)
        return responses

    def _push_client_info(self, body: dict[str, Any]) -> httpx.Response | None:
        """A configuration module: no routing headers (T-16)."""
        with self.lock:
            url = self.state.emsp_endpoints.get("hubclientinfo")
            token, version = self.state.emsp_token, self.state.emsp_version
        if url is None or token is None or version is None:
            return None
        target = f"{url.rstrip('/')}/{body['country_code']}/{body['party_id']}"
        return self.peer.send(
            "PUT", target, token=token, base64_form=self.peer.base64_for(version), json=body
        )

    def _push_client_infos_quietly(self) -> None:
        """After a registration: a hub tells the eMSP who is behind it; a failure is logged."""
        if self.hub is None:
            return
        try:
            for response in self.push_client_infos():
                if not response.is_success:
                    logger.info("ClientInfo push answered HTTP %d", response.status_code)
        except SimulatorError as exc:
            logger.info("ClientInfo push failed: %s", exc)

    def _need_hub(self) -> None:
        if self.hub is None:
            raise SimulatorError("a CPMS without a hub has no HubClientInfo")

    def _connected(self, member: CpoSimulator) -> bool:
        if self.hub is None:
            return True
        with self.lock:
            info = self._client_info[_party(member.country_code, member.party_id)]
            return info.status == "CONNECTED"

    # --- serving -------------------------------------------------------------------------------

    def _respond(
        self, method: str, raw_path: str, headers: httpx.Headers, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Answer one request: record it, route it, wrap the answer in the envelope."""
        split = urlsplit(raw_path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        record = Recorded(method, split.path, query, headers, body, maybe_json(body))
        with self.lock:
            self.requests.append(record)
        request_id = headers.get("X-Request-ID") or str(uuid4())
        correlation_id = headers.get("X-Correlation-ID") or str(uuid4())
        try:
            reply = self._route(method, split.path, query, headers, body, correlation_id)
        except _CommandsDown:
            record.status = 503
            logger.info("%s %s 503 (commands down)", method, raw_path)
            return 503, [], b""
        except OcpiFailure as failure:
            reply = Reply(
                status=failure.status, message=failure.message, http_status=failure.http_status
            )
        except Exception:  # the front's one catch-all, like CpoSimulator's
            logger.exception("simulator bug answering %s %s", method, raw_path)
            reply = Reply(status=Status.SERVER_ERROR, message="simulator bug", http_status=500)
        out_headers = [("Content-Type", "application/json"), *reply.headers.items()]
        if reply.http_status == 401:
            out_headers.append(("WWW-Authenticate", "Token"))
        out_headers += [("X-Request-ID", request_id), ("X-Correlation-ID", correlation_id)]
        record.status = reply.http_status
        logger.info("%s %s %d", method, raw_path, reply.http_status)
        return reply.http_status, out_headers, envelope(reply)

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
        if module == "credentials":
            reply = credentials.handle(self.peer, request)
            if method == "POST" and reply.status == Status.SUCCESS:
                # flow 1 done: tell the eMSP who is behind the hub once it has our answer
                self.workers.defer(self._push_client_infos_quietly, "client-info")
            return reply
        if module == "hubclientinfo":
            return self._client_info_list(request)
        if not is_221_shape(version):  # 2.1.1: no routing, one member
            return self._forward(self.members[0], request)
        caller, to = _routing(headers)
        self._check_caller(caller)
        if self.hub is not None and to == _party(self.hub.country_code, self.hub.party_id):
            reply = self._to_hub(request)
            sender: Party = (self.hub.country_code, self.hub.party_id)
        else:
            member = self._by_party.get(to)
            if member is None:
                raise OcpiFailure(Status.UNKNOWN_RECEIVER, f"unknown receiver {to[0]}/{to[1]}")
            if not self._connected(member):
                raise OcpiFailure(
                    Status.RECEIVER_NOT_CONNECTED, f"{to[0]}/{to[1]} is not connected"
                )
            reply = self._forward(member, request)
            sender = (member.country_code, member.party_id)
        reply.headers = {
            "OCPI-from-country-code": sender[0],
            "OCPI-from-party-id": sender[1],
            "OCPI-to-country-code": headers["OCPI-from-country-code"],
            "OCPI-to-party-id": headers["OCPI-from-party-id"],
        } | reply.headers
        return reply

    def _interfaces(self, version: str) -> dict[str, str]:
        if self.hub is not None and is_221_shape(version):
            return dict(HUB_INTERFACES)
        return dict(CPO_INTERFACES)

    def _check_caller(self, caller: Party) -> None:
        """The from-party must be one of the registered eMSP's: nobody else is on this line."""
        with self.lock:
            parties = {
                _party(str(role.get("country_code", "")), str(role.get("party_id", "")))
                for role in self.state.emsp_roles
                if role.get("role") == "EMSP"
            }
        if caller not in parties:
            raise OcpiFailure(
                Status.INVALID_PARAMETERS,
                f"OCPI-from {caller[0]}/{caller[1]} is not the registered eMSP's party",
                http_status=400,
            )

    def _forward(self, member: CpoSimulator, request: InboundRequest) -> Reply:
        """The member's answer, an error one included (the hub passes it on)."""
        if (
            request.module == "commands"
            and request.method == "POST"
            and len(request.segments) == 1
            and member.command_fault == "down"
        ):
            commands.record_down(
                member.command_log, request.version, request.segments[0], request.body
            )
            raise _CommandsDown
        try:
            return member.handle(request)
        except OcpiFailure as failure:
            return Reply(
                status=failure.status, message=failure.message, http_status=failure.http_status
            )

    def _to_hub(self, request: InboundRequest) -> Reply:
        """A request addressed to the hub itself: GET All merged over the members, a token
        broadcast, or a GET of one object from the member that has it."""
        connected = [member for member in self.members if self._connected(member)]
        if request.method == "GET" and not request.segments and request.module in LIST_MODULES:
            return self._merged_list(request, connected)
        if request.module == "tokens" and request.method in ("PUT", "PATCH"):
            replies = [self._forward(member, request) for member in connected]
            failed = [reply for reply in replies if reply.status != Status.SUCCESS]
            return failed[0] if failed else Reply()
        if request.method == "GET" and request.module != "commands":
            last = Reply(status=Status.CLIENT_ERROR, message="not found", http_status=404)
            for member in connected:
                reply = self._forward(member, request)
                if reply.status == Status.SUCCESS:
                    return reply
                last = reply
            return last
        raise OcpiFailure(
            Status.INVALID_PARAMETERS,
            f"{request.method} {request.module} goes to a party behind the hub, not the hub",
        )

    def _merged_list(self, request: InboundRequest, members: Sequence[CpoSimulator]) -> Reply:
        """GET All via the hub: every member's objects in the window (member order, each in
        its own list order), paged with the front's page size."""
        window = {k: v for k, v in request.query.items() if k in ("date_from", "date_to")}
        objects: list[Any] = []
        for member in members:
            objects += _whole_list(member, replace(request, query=window))
        return list_page(
            request.query,
            range(len(objects)),
            objects.__getitem__,
            page_size=self.paging.page_size,
            list_url=request.module_url,
            fail_after_pages=self.paging.fail_after_pages,
        )

    def _client_info_list(self, request: InboundRequest) -> Reply:
        """The hub's HubClientInfo Sender: GET the ClientInfo list, paged, with the window."""
        if request.segments:
            raise OcpiFailure(Status.CLIENT_ERROR, "no such ClientInfo resource", http_status=404)
        only_get(request.method)
        bounds = {}
        for name in ("date_from", "date_to"):
            if name in request.query:
                try:
                    bounds[name] = parse_datetime(request.query[name])
                except ValueError as exc:
                    raise OcpiFailure(Status.INVALID_PARAMETERS, f"{name}: {exc}") from exc
        with self.lock:
            infos = [
                info.as_json()
                for info in self._client_info.values()
                if ("date_from" not in bounds or info.last_updated >= bounds["date_from"])
                and ("date_to" not in bounds or info.last_updated < bounds["date_to"])
            ]
        return self.paging.page(request, range(len(infos)), infos.__getitem__)


def _whole_list(member: CpoSimulator, request: InboundRequest) -> list[Any]:
    """Every object of the member's list for the request's window, page after page of its own;
    a member failing (its `fail_after_pages`) fails the merged list with its error."""
    objects: list[Any] = []
    while True:
        query = request.query | {"offset": str(len(objects))}
        reply = member.handle(replace(request, query=query))
        if reply.status != Status.SUCCESS or not isinstance(reply.data, list):
            raise OcpiFailure(reply.status, reply.message, http_status=reply.http_status)
        objects += reply.data
        total = int(reply.headers.get("X-Total-Count", len(objects)))
        if not reply.data or len(objects) >= total:
            return objects


def _routing(headers: httpx.Headers) -> tuple[Party, Party]:
    """T-16: (from, to) of a functional-module request; HTTP 400 with 2001 naming what is
    missing (a strict front routes nothing it cannot address)."""
    missing = [name for name in ROUTING_HEADERS if not headers.get(name, "").strip()]
    if missing:
        raise OcpiFailure(
            Status.INVALID_PARAMETERS,
            f"missing routing header{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
            http_status=400,
        )
    values = [headers[name].strip() for name in ROUTING_HEADERS]
    return _party(values[0], values[1]), _party(values[2], values[3])


def _party(country_code: str, party_id: str) -> Party:
    return country_code.upper(), party_id.upper()
