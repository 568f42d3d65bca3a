"""What a simulated CPO backend and a hub or multi-party front share: one connection with the
eMSP (`Peer`), and the same way of showing it to tests and of driving it. Both classes serve
HTTP differently; everything here only reads or drives their `peer`, and the part of every
request that is the same for both (`_read_request`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import httpx

from . import credentials, versions
from .peer import Peer, SimulatorState
from .transport import (
    CPO_INTERFACES,
    CPO_INTERFACES_230,
    InboundRequest,
    OcpiFailure,
    Reply,
    Status,
    is_230,
)


class Connection:
    """Who the connection is, where it serves, what it knows of the eMSP, and the calls that
    change it. Subclasses set `peer`."""

    peer: Peer

    # --- who it is, where it serves --------------------------------------------------------------

    @property
    def versions(self) -> tuple[str, ...]:
        return self.peer.versions

    @property
    def host(self) -> str:
        return self.peer.host

    @property
    def port(self) -> int:
        return self.peer.port

    @property
    def token_a(self) -> str:
        return self.peer.token_a

    @property
    def raw_tokens(self) -> bool:
        return self.peer.raw_tokens

    @property
    def base_url(self) -> str:
        return self.peer.base_url

    @property
    def versions_url(self) -> str:
        return self.peer.versions_url

    def version_url(self, version: str) -> str:
        """Where `version`'s details are; module endpoints are below it."""
        return self.peer.version_url(version)

    def base64_for(self, version: str) -> bool:
        """Whether the simulator writes and reads tokens base64-encoded under `version`."""
        return self.peer.base64_for(version)

    # --- what it knows of the eMSP ---------------------------------------------------------------

    @property
    def state(self) -> SimulatorState:
        """Registration state; read and write it only while holding `lock`."""
        return self.peer.state

    @property
    def last_error(self) -> str | None:
        """Why the last registration, rotation or unregistration failed, if it did."""
        return self.peer.last_error

    @property
    def registered(self) -> bool:
        return self.peer.registered

    @property
    def emsp_token(self) -> str | None:
        """The token the simulator calls the eMSP with (B in flow 1, C in flow 2)."""
        return self.peer.emsp_token

    @property
    def emsp_endpoints(self) -> dict[str, str]:
        """The eMSP's URL per module id, for the interface a CPO calls (a copy)."""
        return self.peer.emsp_endpoints

    @property
    def emsp_version(self) -> str | None:
        return self.peer.emsp_version

    @property
    def emsp_versions_url(self) -> str | None:
        return self.peer.emsp_versions_url

    @property
    def emsp_credentials(self) -> dict[str, Any] | None:
        """The eMSP's last Credentials object, as it sent it."""
        return self.peer.emsp_credentials

    @property
    def current_token(self) -> str | None:
        """The token the eMSP must now use to call the simulator (C in flow 1, B in flow 2)."""
        return self.peer.current_token

    # --- what it does to the eMSP ----------------------------------------------------------------

    def rotate_with_us(self) -> httpx.Response:
        """PUT fresh credentials to the eMSP; stores the token it answers with."""
        self.peer.last_error = None
        return credentials.rotate_with_us(self.peer)

    def unregister_from_us(self) -> httpx.Response:
        """DELETE on the eMSP's credentials endpoint, then forget the eMSP."""
        self.peer.last_error = None
        return credentials.unregister_from_us(self.peer)

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
        """Any call to the eMSP, from this connection's own party (a hub's, a CPMS's first), for
        tests that send wrong tokens, bad bodies and the like: see `Peer.call_us`."""
        return self.peer.call_us(
            method,
            module_or_url,
            json=json,
            content=content,
            token=token,
            encode=encode,
            headers=headers,
            authorize=authorize,
        )

    # --- serving -------------------------------------------------------------------------------

    def _interfaces(self, version: str) -> Mapping[str, str]:
        """The modules served under `version`, each with the role it is offered as (2.3.0 adds
        the Payments Receiver)."""
        return CPO_INTERFACES_230 if is_230(version) else CPO_INTERFACES

    def _read_request(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: httpx.Headers,
        body: bytes,
        correlation_id: str,
    ) -> Reply | InboundRequest:
        """What every front answers alike: the versions list and a version's details (a Reply),
        or a module's request once its token is known (T-03). OcpiFailure for a path no
        endpoint serves (404), a wrong method (405) or token (401)."""
        parts = [unquote(part) for part in path.split("/") if part]
        if len(parts) < 2 or parts[0] != "ocpi":
            raise OcpiFailure(Status.CLIENT_ERROR, f"no endpoint at {path}", http_status=404)
        if parts[1:] == ["versions"]:
            forms = {self.base64_for(version) for version in self.versions}
            credentials.authenticate(self.peer, headers, forms, token_a_allowed=True)
            only_get(method)
            return versions.versions_list(self.peer)
        version, *rest = parts[1:]
        if version not in self.versions:
            raise OcpiFailure(
                Status.CLIENT_ERROR, f"version {version} not offered", http_status=404
            )
        forms = {self.base64_for(version)}
        interfaces = self._interfaces(version)
        if not rest:
            credentials.authenticate(self.peer, headers, forms, token_a_allowed=True)
            only_get(method)
            return versions.version_details(self.peer, version, interfaces)
        module, *segments = rest
        if module not in interfaces or module in self.peer.omit_modules:
            raise OcpiFailure(Status.CLIENT_ERROR, f"no {module!r} endpoint", http_status=404)
        token, kind = credentials.authenticate(
            self.peer, headers, forms, token_a_allowed=module == "credentials"
        )
        return InboundRequest(
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
            module_url=f"{self.version_url(version)}/{module}",
        )


def only_get(method: str) -> None:
    if method != "GET":
        raise OcpiFailure(Status.CLIENT_ERROR, f"{method} not allowed here", http_status=405)
