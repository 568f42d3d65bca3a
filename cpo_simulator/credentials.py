"""The simulator's Credentials module, both ways (checklist §3).

Inbound (`handle`): the CPO side of C-03, where the eMSP registers with us (flow 1, C-04),
rotates its token or switches version (PUT), reads (GET) or leaves (DELETE).
Outbound (`register_with`, `rotate_with_us`, `unregister_from_us`): the CPO starts (flow 2,
C-05) and later rotates or leaves. Registration calls made while answering a request reuse its
`X-Correlation-ID` (T-15).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx

from .peer import Peer
from .transport import (
    CPO_INTERFACES,
    InboundRequest,
    OcpiFailure,
    Reply,
    SimulatorError,
    Status,
    is_221_shape,
    is_230,
    is_valid_token,
    read_envelope,
    roles_of,
    token_from_header,
    version_key,
)


class UnsupportedVersion(SimulatorError):
    """The eMSP does not offer the version asked for, or none the simulator speaks (3002)."""


@dataclass(frozen=True)
class PeerCredentials:
    """A Credentials object from the eMSP, validated; `roles` in the 2.2.1 shape for 2.1.1 too."""

    token: str
    url: str
    roles: list[dict[str, Any]]
    raw: dict[str, Any]


def own_credentials(peer: Peer, version: str, token: str) -> dict[str, Any]:
    """The simulator's Credentials object (C-01/C-02) carrying `token`, in `version`'s shape."""
    if is_221_shape(version):
        roles = [
            {
                "role": role.role,
                "business_details": {"name": role.name},
                "party_id": role.party_id,
                "country_code": role.country_code,
            }
            for role in peer.roles
        ]
        return {"token": token, "url": peer.versions_url, "roles": roles}
    return {
        "token": token,
        "url": peer.versions_url,
        "business_details": {"name": peer.name},
        "party_id": peer.party_id,
        "country_code": peer.country_code,
    }


def parse_credentials(data: Any, version: str) -> PeerCredentials:
    """Validate an eMSP's Credentials object as a strict CPO would; ValueError names the field.

    Unknown fields are ignored (T-12). A 2.2.1 object must hold an EMSP role: this peer is a CPO
    and has nothing to do with any other kind of party; in 2.3.0 a PTP will do too, though the
    simulator takes tokens only from an EMSP role (Commands allow only the sender's tokens)."""
    if not isinstance(data, dict):
        raise ValueError("credentials must be a JSON object")
    token, url = data.get("token"), data.get("url")
    if not isinstance(token, str) or not is_valid_token(token):
        raise ValueError("token must be 1 to 64 printable ASCII characters without spaces")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 255:
        raise ValueError("url must be an absolute http(s) URL of at most 255 characters")
    if is_221_shape(version):
        roles = data.get("roles")
        if not isinstance(roles, list) or not roles:
            raise ValueError("roles must be a non-empty list")
        for number, role in enumerate(roles):
            _check_role(role, f"roles[{number}]", roles_of(version))
        wanted = {"EMSP", "PTP"} if is_230(version) else {"EMSP"}
        if not any(role["role"] in wanted for role in roles):
            raise ValueError(f"roles has no {' or '.join(sorted(wanted))} role")
    else:  # 2.1.1: flat object, one party
        flat = {key: data.get(key) for key in ("business_details", "party_id", "country_code")}
        _check_role({"role": "EMSP", **flat}, "credentials", roles_of(version))
        roles = [{"role": "EMSP", **flat}]
    return PeerCredentials(token=token, url=url, roles=roles, raw=data)


def _check_role(role: Any, where: str, roles: frozenset[str]) -> None:
    if not isinstance(role, dict):
        raise ValueError(f"{where} must be an object")
    if role.get("role") not in roles:
        raise ValueError(f"{where}.role must be one of {sorted(roles)}")
    details = role.get("business_details")
    name = details.get("name") if isinstance(details, dict) else None
    if not isinstance(name, str) or not 0 < len(name) <= 100:
        raise ValueError(f"{where}.business_details.name must be a string of 1 to 100 characters")
    party_id, country_code = role.get("party_id"), role.get("country_code")
    if not isinstance(party_id, str) or not 0 < len(party_id) <= 3:
        raise ValueError(f"{where}.party_id must be a string of 1 to 3 characters")
    if not isinstance(country_code, str) or len(country_code) != 2:
        raise ValueError(f"{where}.country_code must be a string of 2 characters")


# --- inbound: the eMSP calls the simulator's credentials endpoint -------------------------------


def authenticate(
    peer: Peer, headers: httpx.Headers, forms: set[bool], *, token_a_allowed: bool
) -> tuple[str, str]:
    """T-03: the token and its kind ("A" or "current"), or HTTP 401 with the envelope.

    Only the forms in `forms` are tried: a strict peer does not guess (T-02)."""
    header = headers.get("Authorization")
    if not header:
        raise OcpiFailure(Status.CLIENT_ERROR, "missing Authorization header", http_status=401)
    with peer.lock:
        for base64_form in sorted(forms):
            token = token_from_header(header, base64_form=base64_form)
            if token is None:
                continue
            if token in peer.state.inbound:
                return token, "current"
            if token == peer.token_a and peer.state.token_a_valid:
                if token_a_allowed:
                    return token, "A"
                raise OcpiFailure(
                    Status.CLIENT_ERROR,
                    "token A is only for credentials and versions",
                    http_status=401,
                )
    expected = " or ".join("base64" if form else "raw" for form in sorted(forms))
    raise OcpiFailure(Status.CLIENT_ERROR, f"unknown token (read as {expected})", http_status=401)


def handle(peer: Peer, request: InboundRequest) -> Reply:
    """C-03: GET, POST, PUT, DELETE on `{base}/ocpi/{version}/credentials`."""
    if request.segments:
        raise OcpiFailure(Status.CLIENT_ERROR, "no such credentials resource", http_status=404)
    if request.method == "GET":
        with peer.lock:
            token = peer.state.current_token if peer.state.registered else request.token
        return Reply(own_credentials(peer, request.version, token or request.token))
    if request.method in ("POST", "PUT"):
        return _accept(peer, request, updating=request.method == "PUT")
    if request.method == "DELETE":
        with peer.lock:
            if not peer.state.registered:
                raise OcpiFailure(Status.CLIENT_ERROR, "not registered", http_status=405)
            peer.state.forget()
        return Reply()
    raise OcpiFailure(Status.CLIENT_ERROR, f"{request.method} not allowed", http_status=405)


def _accept(peer: Peer, request: InboundRequest, *, updating: bool) -> Reply:
    """POST (flow 1) or PUT: read the eMSP's versions and details with its token, then issue C.

    No lock is held while calling out: the eMSP may call the simulator meanwhile."""
    _check_registered(peer, updating=updating)
    try:
        theirs = parse_credentials(request.json_body(), request.version)
    except ValueError as exc:
        raise OcpiFailure(Status.INVALID_PARAMETERS, str(exc)) from exc
    try:
        _, endpoints = fetch_peer_version(
            peer,
            theirs.url,
            theirs.token,
            version=request.version,
            correlation_id=request.correlation_id,
        )
    except UnsupportedVersion as exc:
        raise OcpiFailure(Status.UNSUPPORTED_VERSION, str(exc)) from exc
    except SimulatorError as exc:
        raise OcpiFailure(Status.UNABLE_TO_USE_CLIENT_API, str(exc)) from exc
    token_c = peer.new_token()
    with peer.lock:
        _check_registered(peer, updating=updating)  # a twin request may have won meanwhile
        peer.state.register(
            inbound_token=token_c,
            emsp_token=theirs.token,
            version=request.version,
            endpoints=endpoints,
            versions_url=theirs.url,
            credentials=theirs.raw,
            roles=theirs.roles,
        )
    return Reply(own_credentials(peer, request.version, token_c))


def _check_registered(peer: Peer, *, updating: bool) -> None:
    with peer.lock:
        registered = peer.state.registered
    if registered and not updating:
        raise OcpiFailure(Status.CLIENT_ERROR, "already registered: PUT to update", http_status=405)
    if updating and not registered:
        raise OcpiFailure(Status.CLIENT_ERROR, "not registered: POST first", http_status=405)


# --- both directions: reading the eMSP's versions ----------------------------------------------


def fetch_peer_version(
    peer: Peer,
    versions_url: str,
    token: str,
    *,
    version: str | None,
    correlation_id: str,
) -> tuple[str, dict[str, str]]:
    """GET the eMSP's versions and the details of `version` (None: the simulator's preferred
    version when the eMSP offers it, else the highest in common).

    Returns the version and the eMSP endpoints the CPO would call, by module id. The versions
    list is read with the token in the form of the version asked for (or of the simulator's
    highest), the details in the form of the version chosen."""
    probe = version or max(peer.versions, key=version_key)
    response = peer.send(
        "GET",
        versions_url,
        token=token,
        base64_form=peer.base64_for(probe),
        correlation_id=correlation_id,
    )
    offered = _version_entries(read_envelope(response, f"GET {versions_url}"))
    if version is None:
        common = [number for number in offered if number in peer.versions]
        if not common:
            raise UnsupportedVersion(
                f"no common version: the eMSP offers {sorted(offered)}, "
                f"the simulator {list(peer.versions)}"
            )
        preferred = peer.prefer_version
        version = preferred if preferred in common else max(common, key=version_key)
    elif version not in offered:
        raise UnsupportedVersion(f"the eMSP does not offer {version} (it offers {sorted(offered)})")
    details_url = offered[version]
    response = peer.send(
        "GET",
        details_url,
        token=token,
        base64_form=peer.base64_for(version),
        correlation_id=correlation_id,
    )
    details = read_envelope(response, f"GET {details_url}")
    return version, choose_endpoints(details, version)


def _version_entries(data: Any) -> dict[str, str]:
    if not isinstance(data, list) or not data:
        raise SimulatorError("the eMSP's versions data is not a non-empty list")
    offered: dict[str, str] = {}
    for entry in data:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("version"), str)
            and isinstance(entry.get("url"), str)
        ):
            raise SimulatorError(f"malformed entry in the eMSP's versions: {entry!r}")
        offered[entry["version"]] = entry["url"]
    return offered


# The eMSP interface a CPO calls for each module: the counterpart of the CPO's own.
_WANTED_ROLE = {
    **{
        module: "RECEIVER" if role == "SENDER" else "SENDER"
        for module, role in CPO_INTERFACES.items()
        if module != "credentials"
    },
    "chargingprofiles": "SENDER",
    "hubclientinfo": "RECEIVER",  # where a hub pushes its ClientInfo
}


def choose_endpoints(details: Any, version: str) -> dict[str, str]:
    """The eMSP's URL per module from its version details (V-02), checked strictly.

    From 2.2 on every endpoint must carry a role, and only the interface a CPO talks to counts:
    an eMSP that lists `locations` only as SENDER has no Locations endpoint for the CPO."""
    if not isinstance(details, dict) or details.get("version") != version:
        raise SimulatorError(f"the eMSP's version details are not those of {version}")
    endpoints = details.get("endpoints")
    if not isinstance(endpoints, list) or not endpoints:
        raise SimulatorError("the eMSP's version details have no endpoints list")
    chosen: dict[str, str] = {}
    for endpoint in endpoints:
        if not (
            isinstance(endpoint, dict)
            and isinstance(endpoint.get("identifier"), str)
            and isinstance(endpoint.get("url"), str)
        ):
            raise SimulatorError(f"malformed endpoint in the eMSP's details: {endpoint!r}")
        module, role = endpoint["identifier"], endpoint.get("role")
        if is_221_shape(version) and role not in ("SENDER", "RECEIVER"):
            raise SimulatorError(f"endpoint {module!r} has no valid role: {role!r}")
        if module in chosen:
            continue
        if role is None or module not in _WANTED_ROLE or role == _WANTED_ROLE[module]:
            chosen[module] = endpoint["url"]
    return chosen


# --- outbound: the simulator drives the eMSP's credentials endpoint ----------------------------


def register_with(peer: Peer, versions_url: str, token: str) -> httpx.Response:
    """Flow 2 (C-05) with the token A the eMSP issued; returns the eMSP's answer to the POST.

    Token B is accepted from before the POST, since the eMSP calls back with it while the POST
    is pending; it is dropped again if the registration does not complete."""
    correlation_id = str(uuid4())
    version, endpoints = fetch_peer_version(
        peer, versions_url, token, version=None, correlation_id=correlation_id
    )
    credentials_url = endpoints.get("credentials")
    if credentials_url is None:
        raise SimulatorError("the eMSP's version details list no credentials endpoint")
    token_b = peer.new_token()
    response, theirs = _offer(
        peer,
        "POST",
        credentials_url,
        token=token,
        version=version,
        inbound=token_b,
        failure="registration failed",
        correlation_id=correlation_id,
    )
    if theirs is None:
        return response
    with peer.lock:
        peer.state.register(
            inbound_token=token_b,
            emsp_token=theirs.token,
            version=version,
            endpoints=endpoints,
            versions_url=theirs.url,
            credentials=theirs.raw,
            roles=theirs.roles,
        )
    return response


def rotate_with_us(peer: Peer) -> httpx.Response:
    """PUT fresh credentials (token B') to the eMSP; the old token stays valid until it answers."""
    version, credentials_url, emsp_token = _registration(peer)
    new_inbound = peer.new_token()
    response, theirs = _offer(
        peer,
        "PUT",
        credentials_url,
        token=emsp_token,
        version=version,
        inbound=new_inbound,
        failure="rotation failed",
    )
    if theirs is None:
        return response
    with peer.lock:
        peer.state.rotate(
            inbound_token=new_inbound, emsp_token=theirs.token, credentials=theirs.raw
        )
    return response


def _offer(
    peer: Peer,
    method: str,
    credentials_url: str,
    *,
    token: str,
    version: str,
    inbound: str,
    failure: str,
    correlation_id: str | None = None,
) -> tuple[httpx.Response, PeerCredentials | None]:
    """Send our credentials with a new token for the eMSP to call us with. That token works
    from before the request (the eMSP may call back while it is pending) and is dropped again
    if the exchange fails: the eMSP's answer and its credentials, or None with `last_error`
    saying `failure` and why."""
    with peer.lock:
        peer.state.inbound.add(inbound)
    try:
        response = peer.send(
            method,
            credentials_url,
            token=token,
            base64_form=peer.base64_for(version),
            json=own_credentials(peer, version, inbound),
            correlation_id=correlation_id,
        )
    except SimulatorError:
        with peer.lock:
            peer.state.inbound.discard(inbound)
        raise
    try:
        theirs = parse_credentials(read_envelope(response, f"{method} {credentials_url}"), version)
    except (SimulatorError, ValueError) as exc:
        with peer.lock:
            peer.state.inbound.discard(inbound)
        peer.last_error = f"{failure}: {exc}"
        return response, None
    return response, theirs


def unregister_from_us(peer: Peer) -> httpx.Response:
    """DELETE on the eMSP's credentials endpoint; the simulator forgets the eMSP whatever the
    answer, as a CPO leaving a partnership would."""
    version, credentials_url, emsp_token = _registration(peer)
    try:
        return peer.send(
            "DELETE", credentials_url, token=emsp_token, base64_form=peer.base64_for(version)
        )
    finally:
        with peer.lock:
            peer.state.forget()


def _registration(peer: Peer) -> tuple[str, str, str]:
    with peer.lock:
        state = peer.state
        if not state.registered or state.emsp_version is None or state.emsp_token is None:
            raise SimulatorError("not registered with an eMSP")
        credentials_url = state.emsp_endpoints.get("credentials")
        if credentials_url is None:
            raise SimulatorError("the eMSP's version details list no credentials endpoint")
        return state.emsp_version, credentials_url, state.emsp_token
