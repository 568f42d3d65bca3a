"""The simulator's Tokens Receiver (checklist §8): the eMSP pushes its tokens before using them.

`GET`, `PUT` and `PATCH` on `{url}/{country_code}/{party_id}/{token_uid}[?type=...]` (2.2.1; 2.1.1
has no `?type=` and identifies a token by uid alone). Tokens are kept in memory, in a `TokenBook`
keyed by `TokenKey`, and read by `commands.py` when `require_known_token` is on: the spec says a
CPO SHALL NOT check a StartSession's token, yet many CPMS (2.1.1 ones above all) only start
sessions for tokens they hold, and that is what the option plays.

Validation is strict, like the rest of the simulator: every required field of the version's Token,
enum values, lengths, the URL's `cc`/`pid`/uid/type equal to the body's (T-17), and the URL's
`cc`/`pid` one of the registered eMSP's roles.
"""

from __future__ import annotations

import threading
from typing import Any, Final

from .peer import Peer
from .transport import (
    InboundRequest,
    OcpiFailure,
    Reply,
    Status,
    is_221_shape,
    is_230,
    parse_datetime,
)

# (country_code, party_id, uid) upper-cased, as CiStrings compare, and the type as sent.
TokenKey = tuple[str, str, str, str]


class TokenBook:
    """The tokens the eMSP pushed, by `TokenKey`; read and write `tokens` under `lock`."""

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self.tokens: dict[TokenKey, dict[str, Any]] = {}


TOKEN_TYPES_221: Final = ("AD_HOC_USER", "APP_USER", "OTHER", "RFID")
TOKEN_TYPES_211: Final = ("OTHER", "RFID")
TOKEN_TYPES_230: Final = (*TOKEN_TYPES_221, "EMAID")  # an ISO 15118 contract id
WHITELIST_TYPES: Final = ("ALWAYS", "ALLOWED", "ALLOWED_OFFLINE", "NEVER")
PROFILE_TYPES: Final = ("CHEAP", "FAST", "GREEN", "REGULAR")
DEFAULT_TYPE: Final = "RFID"  # what `?type=` means when it is absent (2.2.1)


def token_types(version: str) -> tuple[str, ...]:
    if is_230(version):
        return TOKEN_TYPES_230
    return TOKEN_TYPES_221 if is_221_shape(version) else TOKEN_TYPES_211


# --- validation, shared with commands.py --------------------------------------------------------


def _text(value: Any, where: str, limit: int, *, ascii_only: bool, exact: bool = False) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        size = f"exactly {limit}" if exact else f"1 to {limit}"
        raise ValueError(f"{where} must be a string of {size} characters")
    if exact and len(value) != limit:
        raise ValueError(f"{where} must be a string of exactly {limit} characters")
    if ascii_only and not all(" " <= char <= "~" for char in value):
        raise ValueError(f"{where} must be printable ASCII")
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValueError(f"{where} must not contain control characters")
    return value


def _field_checks(version: str) -> dict[str, Any]:
    """Per field: a function raising ValueError when the value is wrong for `version`."""
    modern = is_221_shape(version)
    types = token_types(version)

    def cistring(limit: int, *, exact: bool = False) -> Any:
        return lambda value, where: _text(value, where, limit, ascii_only=True, exact=exact)

    def string(limit: int) -> Any:  # 2.1.1 strings are ASCII too (T-21)
        return lambda value, where: _text(value, where, limit, ascii_only=not modern)

    def enum(values: tuple[str, ...]) -> Any:
        def check(value: Any, where: str) -> None:
            if value not in values:
                raise ValueError(f"{where} must be one of {list(values)}")

        return check

    def boolean(value: Any, where: str) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"{where} must be true or false")

    def datetime_(value: Any, where: str) -> None:
        if not isinstance(value, str):
            raise ValueError(f"{where} must be a DateTime string")
        parse_datetime(value)

    def energy_contract(value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise ValueError(f"{where} must be an object")
        _text(value.get("supplier_name"), f"{where}.supplier_name", 64, ascii_only=False)
        if value.get("contract_id") is not None:
            _text(value["contract_id"], f"{where}.contract_id", 64, ascii_only=False)

    checks: dict[str, Any] = {}
    if modern:
        checks |= {"country_code": cistring(2, exact=True), "party_id": cistring(3)}
    checks |= {"uid": (cistring if modern else string)(36), "type": enum(types)}
    checks["contract_id" if modern else "auth_id"] = (cistring if modern else string)(36)
    checks |= {
        "visual_number": string(64),
        "issuer": string(64),
        "valid": boolean,
        "whitelist": enum(WHITELIST_TYPES),
        "language": string(2),
        "last_updated": datetime_,
    }
    if modern:
        checks |= {
            "group_id": cistring(36),
            "default_profile_type": enum(PROFILE_TYPES),
            "energy_contract": energy_contract,
        }
    return checks


def _required(version: str) -> tuple[str, ...]:
    if is_221_shape(version):
        return (
            "country_code",
            "party_id",
            "uid",
            "type",
            "contract_id",
            "issuer",
            "valid",
            "whitelist",
            "last_updated",
        )
    return ("uid", "type", "auth_id", "issuer", "valid", "whitelist", "last_updated")


def validate_token(data: Any, version: str, *, where: str = "token", partial: bool = False) -> None:
    """ValueError naming the first wrong field of a Token object in `version`'s shape.

    `partial` (PATCH): only the fields present are checked, `last_updated` is still required in
    2.2.1 (T-07). Optional fields may be null; unknown fields are ignored (T-12)."""
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be a JSON object")
    checks = _field_checks(version)
    required = _required(version)
    if partial:
        required = ("last_updated",) if is_221_shape(version) else ()
    for name in required:
        if data.get(name) is None:
            raise ValueError(f"{where}.{name} is required")
    for name, check in checks.items():
        if data.get(name) is not None:
            check(data[name], f"{where}.{name}")


def key_of(country_code: str, party_id: str, uid: str, token_type: str) -> TokenKey:
    return (country_code.upper(), party_id.upper(), uid.upper(), token_type)


def find(book: TokenBook, token: dict[str, Any], version: str) -> dict[str, Any] | None:
    """The stored copy of a command's `token`, or None: by (cc, pid, uid, type) in 2.2.1; by uid
    and type in 2.1.1, where the token carries no party (the connection has only one eMSP)."""
    uid, token_type = str(token.get("uid", "")).upper(), token.get("type")
    with book.lock:
        if is_221_shape(version):
            country_code, party_id = token.get("country_code", ""), token.get("party_id", "")
            found = book.tokens.get(key_of(str(country_code), str(party_id), uid, str(token_type)))
            return dict(found) if found is not None else None
        for (_, _, stored_uid, stored_type), stored in book.tokens.items():
            if stored_uid == uid and stored_type == token_type:
                return dict(stored)
    return None


# --- the Receiver interface ----------------------------------------------------------------------


def handle(book: TokenBook, peer: Peer, request: InboundRequest) -> Reply:
    """GET, PUT, PATCH on `{url}/{cc}/{pid}/{uid}`; anything else is 405 (tokens are never
    deleted: the eMSP sets `valid: false`)."""
    if len(request.segments) != 3:
        raise OcpiFailure(
            Status.CLIENT_ERROR, "tokens live at {url}/{cc}/{pid}/{token_uid}", http_status=404
        )
    if request.method not in ("GET", "PUT", "PATCH"):
        raise OcpiFailure(
            Status.CLIENT_ERROR, f"{request.method} not allowed on a token", http_status=405
        )
    country_code, party_id, uid = request.segments
    _check_owner(peer, country_code, party_id)
    modern = is_221_shape(request.version)
    token_type = request.query.get("type", DEFAULT_TYPE) if modern else None
    types = token_types(request.version)
    if token_type is not None and token_type not in types:
        raise OcpiFailure(Status.INVALID_PARAMETERS, f"type must be one of {types}")
    if request.method == "GET":
        found = _lookup(book, country_code, party_id, uid, token_type)
        if found is None:
            raise OcpiFailure(Status.CLIENT_ERROR, f"no token {uid!r}", http_status=404)
        return Reply(found[1])
    body = request.json_body()
    try:
        validate_token(body, request.version, partial=request.method == "PATCH")
        _check_identity(body, country_code, party_id, uid, token_type)
    except ValueError as exc:
        raise OcpiFailure(Status.INVALID_PARAMETERS, str(exc)) from exc
    if request.method == "PUT":
        return _put(book, body, country_code, party_id, uid, modern=modern)
    return _patch(book, body, country_code, party_id, uid, token_type)


def _check_owner(peer: Peer, country_code: str, party_id: str) -> None:
    """T-17: tokens are the eMSP's; a `cc`/`pid` that is none of its roles is answered 404."""
    with peer.lock:
        roles = [
            (str(role.get("country_code", "")).upper(), str(role.get("party_id", "")).upper())
            for role in peer.state.emsp_roles
            if role.get("role") == "EMSP"
        ]
    if (country_code.upper(), party_id.upper()) not in roles:
        raise OcpiFailure(
            Status.CLIENT_ERROR,
            f"{country_code}/{party_id} is not a party registered with this CPO",
            http_status=404,
        )


def _check_identity(
    body: dict[str, Any], country_code: str, party_id: str, uid: str, token_type: str | None
) -> None:
    """T-17: what the URL names and what the body says must agree (2001 otherwise)."""
    pairs = [("uid", uid), ("country_code", country_code), ("party_id", party_id)]
    for name, in_url in pairs:
        if name in body and str(body[name]).upper() != in_url.upper():
            raise ValueError(f"{name} {body[name]!r} differs from {in_url!r} in the URL")
    if token_type is not None and "type" in body and body["type"] != token_type:
        raise ValueError(f"type {body['type']!r} differs from {token_type!r} (the URL's ?type=)")


def _lookup(
    book: TokenBook, country_code: str, party_id: str, uid: str, token_type: str | None
) -> tuple[TokenKey, dict[str, Any]] | None:
    """2.2.1 looks up by the full key; 2.1.1 (`token_type` None) by uid within the party."""
    wanted = key_of(country_code, party_id, uid, token_type or "")
    with book.lock:
        for key, token in book.tokens.items():
            if key[:3] == wanted[:3] and (token_type is None or key[3] == token_type):
                return key, dict(token)
    return None


def _put(
    book: TokenBook,
    body: dict[str, Any],
    country_code: str,
    party_id: str,
    uid: str,
    *,
    modern: bool,
) -> Reply:
    """Create (201) or replace (200) the whole token; 2.1.1 has one token per uid."""
    key = key_of(country_code, party_id, uid, body["type"])
    with book.lock:
        existed = key in book.tokens
        if not modern:  # 2.1.1: a new type for the uid replaces the old one
            for other in [k for k in book.tokens if k[:3] == key[:3] and k != key]:
                del book.tokens[other]
                existed = True
        book.tokens[key] = dict(body)
    return Reply(http_status=200 if existed else 201)


def _patch(
    book: TokenBook,
    body: dict[str, Any],
    country_code: str,
    party_id: str,
    uid: str,
    token_type: str | None,
) -> Reply:
    """Merge the fields sent (T-07); an unknown token is 404 so the eMSP PUTs it whole."""
    with book.lock:
        found = _lookup(book, country_code, party_id, uid, token_type)
        if found is None:
            raise OcpiFailure(
                Status.CLIENT_ERROR, f"no token {uid!r}: PUT it first", http_status=404
            )
        key, token = found
        token.update(body)
        new_key = key_of(country_code, party_id, uid, str(token["type"]))
        del book.tokens[key]
        book.tokens[new_key] = token
    return Reply()
