"""Who the simulator is to the eMSP, and what it knows of the eMSP: the connection's state.

`Peer` holds the CPO's identity (party, name, versions offered, token forms), where it serves
(its base URL), the registration (`SimulatorState`) and every call out to the eMSP (`send`,
`call_us`). The Credentials module works on it alone; the other modules use it to reach the eMSP.

A party behind a hub or a multi-party CPMS (`hub.py`) has no connection of its own: its `Peer`
is joined to the front's (`join`), whose registration, lock, versions, token forms and URLs it
then uses, while it keeps its own identity for the routing headers of what it sends.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Final
from uuid import uuid4

import httpx

from .transport import (
    CONFIGURATION_MODULES,
    CPO_INTERFACES_230,
    KNOWN_VERSIONS,
    SimulatorError,
    authorization,
    dump_json,
    is_221_shape,
    is_valid_token,
    new_token,
    uses_base64,
    version_key,
)

logger = logging.getLogger("cpo_simulator")

OUTBOUND_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)


@dataclass(frozen=True)
class Role:
    """One role in the simulator's Credentials (2.2.x): a CPO, or the hub in front of CPOs."""

    role: str
    country_code: str
    party_id: str
    name: str


@dataclass
class SimulatorState:
    """Registration state. Read and write it only while holding `Peer.lock`.

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


class Peer:
    """The CPO's side of one OCPI connection (see the module docstring). Thread-safe: `state`
    is read and written under `lock` (re-entrant, shared with the rest of the simulator); no
    lock is held during a call out."""

    def __init__(
        self,
        *,
        versions: tuple[str, ...],
        host: str,
        port: int,
        country_code: str,
        party_id: str,
        name: str,
        token_a: str | None,
        raw_tokens: bool,
        omit_modules: frozenset[str],
        public_base_url: str | None,
        lock: threading.RLock,
        roles: tuple[Role, ...] | None = None,
        prefer_version: str | None = None,
    ) -> None:
        if not versions or len(set(versions)) != len(versions):
            raise ValueError("versions must list at least one version, each once")
        if prefer_version is not None and prefer_version not in versions:
            raise ValueError(f"prefer_version {prefer_version} is not among {list(versions)}")
        unknown = [v for v in versions if v not in KNOWN_VERSIONS]
        if unknown:
            raise ValueError(f"unknown OCPI versions {unknown}; known: {list(KNOWN_VERSIONS)}")
        if not omit_modules <= CPO_INTERFACES_230.keys():
            raise ValueError(f"omit_modules must be among {list(CPO_INTERFACES_230)}")
        if token_a is not None and not is_valid_token(token_a):
            raise ValueError("token_a must be 1 to 64 printable ASCII characters without spaces")
        self._versions = versions
        self._prefer_version = prefer_version
        self.host = host
        self.port = port  # 0 until the server is bound
        self.country_code = country_code
        self.party_id = party_id
        self.name = name
        self.token_a: str = token_a or new_token()
        self._raw_tokens = raw_tokens
        self.omit_modules = omit_modules
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self._lock = lock
        self._state = SimulatorState()
        self.last_error: str | None = None
        self._roles = roles
        self.connection: Peer | None = None  # the front's connection, once joined

    def join(self, connection: Peer) -> None:
        """Use `connection` (a hub's or a multi-party CPMS's) instead of a connection of its
        own: from now on the registration, tokens and URLs are the front's."""
        self.connection = connection

    @property
    def roles(self) -> tuple[Role, ...]:
        """The roles its Credentials carry under 2.2.x (2.1.1 has room for its own party only):
        those it was given, else its own CPO role as it stands (a test may change its party)."""
        return self._roles or (Role("CPO", self.country_code, self.party_id, self.name),)

    # --- the connection: its own, or the front's it joined ---------------------------------------

    @property
    def state(self) -> SimulatorState:
        return self.connection.state if self.connection is not None else self._state

    @property
    def lock(self) -> threading.RLock:
        return self.connection.lock if self.connection is not None else self._lock

    @property
    def versions(self) -> tuple[str, ...]:
        return self.connection.versions if self.connection is not None else self._versions

    @property
    def prefer_version(self) -> str | None:
        """The version it registers on when the eMSP offers it (None: the highest in common)."""
        if self.connection is not None:
            return self.connection.prefer_version
        return self._prefer_version

    @property
    def raw_tokens(self) -> bool:
        return self.connection.raw_tokens if self.connection is not None else self._raw_tokens

    # --- where the simulator serves ------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self.connection is not None:
            return self.connection.base_url
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

    def base64_for(self, version: str) -> bool:
        """Whether the simulator writes and reads tokens base64-encoded under `version`."""
        return uses_base64(version, raw_tokens=self.raw_tokens)

    def new_token(self) -> str:
        return new_token()

    # --- what it knows of the eMSP -------------------------------------------------------------

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

    def default_version(self) -> str:
        """The agreed version, else the simulator's highest."""
        return self.emsp_version or max(self.versions, key=version_key)

    def emsp_party(self) -> tuple[str, str] | None:
        with self.lock:
            for role in self.state.emsp_roles:
                if role.get("role") == "EMSP":
                    return role["country_code"], role["party_id"]
        return None

    def routing_headers(self, *, to: tuple[str, str] | None) -> dict[str, str]:
        """T-16: from the simulator's CPO role to `to`, when it is known."""
        headers = {
            "OCPI-from-country-code": self.country_code,
            "OCPI-from-party-id": self.party_id,
        }
        if to is not None:
            headers |= {"OCPI-to-country-code": to[0], "OCPI-to-party-id": to[1]}
        return headers

    # --- calls out -----------------------------------------------------------------------------

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
        url, module = self.resolve(module_or_url)
        version = self.default_version()
        token = token if token is not None else self.emsp_token
        if authorize and token is None:
            raise SimulatorError("no token to call the eMSP with: register first or pass token=")
        out_headers: dict[str, str] = {}
        if module is not None and module not in CONFIGURATION_MODULES and is_221_shape(version):
            out_headers |= self.routing_headers(to=self.emsp_party())
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

    def resolve(self, module_or_url: str) -> tuple[str, str | None]:
        """The URL `call_us` calls and the module it belongs to (None for a full URL);
        SimulatorError if the eMSP published no such endpoint."""
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
