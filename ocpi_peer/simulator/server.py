"""The CPO simulator: an OCPI peer playing a CPO's backend over real HTTP, and its state.

It is an independent implementation the platform is tested against (see `transport.py`): it
serves its Versions, Credentials and Locations Sender endpoints from a background thread, and
drives the eMSP's endpoints from the test's thread (`register_with`, `call_us`, ...). There is no
database: all state is in memory, behind one lock, and dies with the object.

Strictness is the point. It reads and writes the token in exactly its version's form (base64 for
2.2.x, raw for 2.1.1 and for `raw_tokens=True`), validates what the eMSP sends it, and answers
with the envelope on every response, errors included.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final
from urllib.parse import parse_qsl, unquote, urlsplit
from uuid import uuid4

import httpx

from . import credentials, locations, versions
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
    is_221_shape,
    is_valid_token,
    load_json,
    new_token,
    token_from_header,
    uses_base64,
    version_key,
)

logger = logging.getLogger("ocpi_peer.simulator")

ModuleHandler = Callable[["CpoSimulator", InboundRequest], Reply]

# One entry per module the simulator implements; a module it publishes without a handler here
# answers 404 with OCPI 2000. Later modules (sessions, cdrs, ...) add themselves to this table.
MODULE_HANDLERS: dict[str, ModuleHandler] = {
    "credentials": credentials.handle,
    "locations": locations.handle,
}

FAULTS: Final = (None, "garbage", "http500")
OUTBOUND_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)
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


class CpoSimulator:
    """A CPO's OCPI backend on `host:port` (see the module docstring); also a context manager.

    Thread-safe: requests are served on daemon threads, and every read or write of `state` and
    `requests` happens under `lock` (re-entrant). No lock is held during an outbound call."""

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
        self.lock = threading.RLock()
        self.state = SimulatorState()
        self.requests: list[Recorded] = []
        self.last_error: str | None = None
        self._fault: str | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> CpoSimulator:
        """Bind (port 0 picks a free one) and serve from a daemon thread; returns self."""
        if self._server is not None:
            raise SimulatorError("the simulator is already running")
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"cpo-simulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket: afterwards its URLs refuse connections."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

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
    def fault(self) -> str | None:
        """None, "garbage" (200 with an HTML body) or "http500" (500 with a 3000 envelope)."""
        return self._fault

    @fault.setter
    def fault(self, value: str | None) -> None:
        if value not in FAULTS:
            raise ValueError(f"fault must be one of {FAULTS}")
        self._fault = value

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

    def location(self, index: int, version: str | None = None) -> dict[str, Any]:
        """Location number `index` (0-based) as served under `version` (default: the agreed
        version, else the simulator's highest), so tests can compare with what was stored."""
        return locations.location_object(
            version or self._default_version(),
            index,
            country_code=self.country_code,
            party_id=self.party_id,
            operator_name=self.name,
        )

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
        split = urlsplit(raw_path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        record = Recorded(method, split.path, query, headers, body, _maybe_json(body))
        with self.lock:
            self.requests.append(record)
        request_id = headers.get("X-Request-ID") or str(uuid4())
        correlation_id = headers.get("X-Correlation-ID") or str(uuid4())
        fault = self._fault
        out_headers: list[tuple[str, str]]
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
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        body = self.rfile.read(length) if length > 0 else b""
        status, headers, payload = self.server.simulator._respond(
            self.command, self.path, httpx.Headers(self.headers.items()), body
        )
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: `_respond` logs one line per request, without headers or tokens."""
