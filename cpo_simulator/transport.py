"""What every module of the CPO simulator shares: envelope, status codes, DateTime, token forms.

This package is a second, independent reading of OCPI that the platform is tested against, so it
imports nothing from the product (`config`, `ocpi_peer`, `stations`, `payments`).
A mistake shared by both sides would make every test pass; keep it that way.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any, Final
from urllib.parse import urlencode

import httpx
import simplejson

# Versions the simulator can play. 2.0 and 2.1 exist only so a test can offer a version the
# platform does not speak ("no common version"); they are served in the 2.1.1 shapes.
KNOWN_VERSIONS: Final = ("2.0", "2.1", "2.1.1", "2.2", "2.2.1", "2.3.0")
_RAW_TOKEN_VERSIONS: Final = frozenset({"2.0", "2.1", "2.1.1"})

# The CPO's interfaces in its version details, in the order published. Credentials' role is
# meaningless (checklist V-02); SENDER is what the checklist says to publish.
CPO_INTERFACES: Final[dict[str, str]] = {
    "credentials": "SENDER",
    "locations": "SENDER",
    "tariffs": "SENDER",
    "sessions": "SENDER",
    "cdrs": "SENDER",
    "tokens": "RECEIVER",
    "commands": "RECEIVER",
}

# 2.3.0 adds the Payments module, where the CPO is the Receiver (the PTP creates its terminals
# and reports each capture there).
CPO_INTERFACES_230: Final[dict[str, str]] = {**CPO_INTERFACES, "payments": "RECEIVER"}

# Configuration modules never carry routing headers (checklist T-16).
CONFIGURATION_MODULES: Final = frozenset({"versions", "credentials", "hubclientinfo"})

# T-16: the four headers that address a functional-module request, and its answer, to a party.
ROUTING_HEADERS: Final = (
    "OCPI-from-country-code",
    "OCPI-from-party-id",
    "OCPI-to-country-code",
    "OCPI-to-party-id",
)

ROLES: Final = frozenset({"CPO", "EMSP", "HUB", "NAP", "NSP", "OTHER", "SCSP"})
# 2.3.0 drops HUB (a hub names itself in `hub_party_id`); its role table and Payments module
# speak of the Payment Terminal Provider as a role, PTP, which its Role enum does not list.
ROLES_230: Final = (ROLES - {"HUB"}) | {"PTP"}

# Object number `i` of a list module was last updated at `EPOCH + i` seconds unless the test
# changed it since: a date window is then a range of numbers, and nothing needs storing.
EPOCH: Final = datetime(2026, 1, 1, tzinfo=UTC)

_TOKEN_ALPHABET: Final = string.ascii_letters + string.digits
NO_DATA: Final = object()  # a Reply whose envelope has no `data` field at all


class Status(IntEnum):
    """OCPI status codes (checklist T-14) the simulator answers with."""

    SUCCESS = 1000
    CLIENT_ERROR = 2000
    INVALID_PARAMETERS = 2001
    NOT_ENOUGH_INFORMATION = 2002
    UNKNOWN_LOCATION = 2003
    SERVER_ERROR = 3000
    UNABLE_TO_USE_CLIENT_API = 3001
    UNSUPPORTED_VERSION = 3002
    NO_MATCHING_ENDPOINTS = 3003
    # Hub errors: a hub (or a platform routing between its parties) could not route a request.
    HUB_ERROR = 4000
    UNKNOWN_RECEIVER = 4001
    RECEIVER_NOT_CONNECTED = 4003


class SimulatorError(Exception):
    """A flow the simulator drives against the eMSP could not reach its last step.

    The last step's answer, good or bad, is returned to the caller instead: tests assert on it.
    """


class OcpiFailure(Exception):
    """Ends the handling of an inbound request with an error envelope, like the product's
    `OcpiError`: raise it anywhere under a module handler."""

    def __init__(self, status: Status, message: str, *, http_status: int = 200) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.http_status = http_status


@dataclass
class Reply:
    """What a module handler answers; the server wraps `data` in the envelope."""

    data: Any = NO_DATA
    status: Status = Status.SUCCESS
    message: str = "Success"
    http_status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Recorded:
    """One request the simulator received, kept for tests to inspect (tokens included: it never
    leaves memory). `json` reads fractions as `Decimal`; `status` is set once answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: httpx.Headers
    body: bytes
    json: Any
    status: int | None = None


@dataclass(frozen=True)
class InboundRequest:
    """An authenticated request routed to a module handler.

    `segments` are the path parts after `/ocpi/{version}/{module}`; `token_kind` is "A" for the
    registration token the simulator issued offline, "current" for a token issued since.
    """

    method: str
    version: str
    module: str
    segments: tuple[str, ...]
    query: dict[str, str]
    headers: httpx.Headers
    body: bytes
    token: str
    token_kind: str
    correlation_id: str
    module_url: str  # the module's endpoint as the simulator publishes it: where lists link to

    def json_body(self) -> Any:
        """The parsed body; malformed JSON is a transport error (HTTP 400 with 2001, T-13)."""
        try:
            return load_json(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise OcpiFailure(
                Status.INVALID_PARAMETERS, f"body is not valid JSON: {exc}", http_status=400
            ) from exc


def is_221_shape(version: str) -> bool:
    """2.2 on share object shapes (roles, endpoint roles, country_code in objects); 2.3.0 only
    changes prices (`is_230`)."""
    return version in ("2.2", "2.2.1", "2.3.0")


def is_230(version: str) -> bool:
    """2.3.0's prices: `Price` is `before_taxes` with a `taxes` list, a Tariff's min and max
    are PriceLimits (`before_taxes`, `after_taxes`), and every Tariff says `tax_included`."""
    return version == "2.3.0"


def roles_of(version: str) -> frozenset[str]:
    """The Role values a Credentials object of `version` may carry."""
    return ROLES_230 if is_230(version) else ROLES


def uses_base64(version: str, *, raw_tokens: bool) -> bool:
    """Whether a strict peer of `version` base64-encodes the token in `Authorization` (T-02).

    `raw_tokens` plays the many 2.2.1 CPMS that send and expect the raw token."""
    return not raw_tokens and version not in _RAW_TOKEN_VERSIONS


def version_key(version: str) -> tuple[int, ...]:
    """Sort key for VersionNumbers; anything non-numeric sorts lowest."""
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return ()


def new_token() -> str:
    """A credentials token: 43 letters and digits, about 256 random bits.

    Letters and digits only, because a token starting with "-" reads as an option when a test
    or the demo passes it on a command line (`--token -x…`)."""
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(43))


def is_valid_token(token: object) -> bool:
    """T-04: string(64) of U+0021..U+007E."""
    return (
        isinstance(token, str)
        and 0 < len(token) <= 64
        and all("\x21" <= char <= "\x7e" for char in token)
    )


def authorization(token: str, *, base64_form: bool) -> str:
    """The `Authorization` header value for `token` in the given form."""
    if base64_form:
        return "Token " + base64.b64encode(token.encode("utf-8")).decode("ascii")
    return f"Token {token}"


def token_from_header(header: str | None, *, base64_form: bool) -> str | None:
    """The token a strict peer reads from `header`, or None if the header is not of that form.

    The base64 form must be canonical (standard alphabet, padded), as T-02 prescribes."""
    if not header or header[:6].lower() != "token ":
        return None
    value = header[6:]
    if not value or value != value.strip():
        return None
    if not base64_form:
        return value
    try:
        decoded = base64.b64decode(value, validate=True)
        token = decoded.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if base64.b64encode(decoded).decode("ascii") != value:
        return None
    return token


_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$")


def format_datetime(moment: datetime) -> str:
    """The DateTime form we write everywhere: `YYYY-MM-DDTHH:MM:SSZ` in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(text: str) -> datetime:
    """An OCPI DateTime (Z optional: no designator means UTC); ValueError if it is not one."""
    if not _DATETIME.match(text):
        raise ValueError(f"not an OCPI DateTime: {text!r}")
    moment = datetime.fromisoformat(text.removesuffix("Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def now_timestamp() -> str:
    return format_datetime(datetime.now(UTC))


def envelope(reply: Reply) -> bytes:
    """The response envelope (T-10) for `reply`, as bytes."""
    body: dict[str, Any] = {}
    if reply.data is not NO_DATA:
        body["data"] = reply.data
    body["status_code"] = int(reply.status)
    body["status_message"] = reply.message
    body["timestamp"] = now_timestamp()
    return dump_json(body)


def dump_json(value: Any) -> bytes:
    """JSON that writes `Decimal` amounts as exact numbers (house style: money is never float)."""
    return simplejson.dumps(value, use_decimal=True).encode("utf-8")


def load_json(raw: bytes) -> Any:
    """JSON with numbers that have a fraction read as `Decimal`; ValueError if malformed."""
    return simplejson.loads(raw.decode("utf-8"), use_decimal=True)


def read_envelope(response: httpx.Response, what: str) -> Any:
    """The `data` of a successful envelope from the eMSP, or SimulatorError saying why not.

    Used on every answer the simulator needs the content of; `what` names the call."""
    if not 200 <= response.status_code < 300:
        raise SimulatorError(f"{what}: HTTP {response.status_code} {_brief(response)}")
    try:
        body = response.json()
    except ValueError as exc:
        raise SimulatorError(f"{what}: body is not JSON ({_brief(response)})") from exc
    if not isinstance(body, dict) or "status_code" not in body:
        raise SimulatorError(f"{what}: body is not an OCPI envelope ({_brief(response)})")
    if body["status_code"] != Status.SUCCESS:
        raise SimulatorError(
            f"{what}: OCPI status {body['status_code']} {body.get('status_message')!r}"
        )
    return body.get("data")


def _brief(response: httpx.Response) -> str:
    text = response.text
    return repr(text[:200] + ("…" if len(text) > 200 else ""))


# --- Sender lists (T-19) -------------------------------------------------------------------------


def stamp_of(number: int) -> datetime:
    """When object `number` of a list was last updated, unless it was changed since."""
    return EPOCH + timedelta(seconds=number)


def matching(
    count: int, query: Mapping[str, str], changed: Mapping[int, datetime]
) -> Sequence[int]:
    """The object numbers in `[0, count)` whose `last_updated` is in the query's window
    (`date_from` inclusive, `date_to` exclusive), in list order: by number, oldest created first,
    so the same URL gives the same page. `changed` holds the numbers whose `last_updated` moved
    away from `stamp_of(number)`; without any, the answer is a `range` and costs nothing."""
    date_from = _parse_date(query, "date_from") if "date_from" in query else None
    date_to = _parse_date(query, "date_to") if "date_to" in query else None
    first = _seconds_ceil(date_from) if date_from is not None else 0
    end = min(count, _seconds_ceil(date_to)) if date_to is not None else count
    plain = range(first, max(first, end))
    if not changed:
        return plain

    def inside(moment: datetime) -> bool:
        return (date_from is None or moment >= date_from) and (date_to is None or moment < date_to)

    moved = {number for number, moment in changed.items() if number < count and inside(moment)}
    return sorted(moved.union(number for number in plain if number not in changed))


def list_page(
    query: Mapping[str, str],
    matches: Sequence[int],
    build: Callable[[int], Any],
    *,
    page_size: int,
    list_url: str,
    fail_after_pages: int | None = None,
) -> Reply:
    """One page of a Sender list: `offset`/`limit` (capped at `page_size`), `Link rel="next"`
    repeating the filters, `X-Total-Count` and `X-Limit` (T-19).

    With `fail_after_pages` N, a page that starts N or more pages into the list answers HTTP
    500 with 3000, like a CPMS falling over in the middle of a pull; earlier pages still work,
    so a retry fails at the same place."""
    total = len(matches)
    offset = _parse_int(query, "offset", default=0)
    limit = min(_parse_int(query, "limit", default=page_size), page_size)
    if fail_after_pages is not None and offset >= fail_after_pages * max(limit, 1):
        raise OcpiFailure(
            Status.SERVER_ERROR,
            f"simulated failure after {fail_after_pages} pages",
            http_status=500,
        )
    page = [build(number) for number in matches[offset : offset + limit]]
    headers = {"X-Total-Count": str(total), "X-Limit": str(page_size)}
    if page and offset + len(page) < total:
        params: list[tuple[str, str]] = [
            (name, query[name]) for name in ("date_from", "date_to") if name in query
        ]
        params += [("offset", str(offset + len(page))), ("limit", str(limit))]
        headers["Link"] = f'<{list_url}?{urlencode(params)}>; rel="next"'
    return Reply(page, headers=headers)


class Paging:
    """How every Sender list pages (`list_page`): `page_size`, and `fail_after_pages`, None or N
    (list endpoints answer their first N pages, then HTTP 500 with 3000 for any page further
    into the list: a CPMS falling over in the middle of a pull). Settable while running."""

    def __init__(self, page_size: int) -> None:
        if page_size < 1:
            raise ValueError("page_size must be >= 1")
        self.page_size = page_size
        self._fail_after_pages: int | None = None

    @property
    def fail_after_pages(self) -> int | None:
        return self._fail_after_pages

    @fail_after_pages.setter
    def fail_after_pages(self, value: int | None) -> None:
        if value is not None and (not isinstance(value, int) or value < 0):
            raise ValueError("fail_after_pages must be None or an int >= 0")
        self._fail_after_pages = value

    def page(
        self, request: InboundRequest, matches: Sequence[int], build: Callable[[int], Any]
    ) -> Reply:
        """The page of `matches` the request asks for, each object made by `build`."""
        return list_page(
            request.query,
            matches,
            build,
            page_size=self.page_size,
            list_url=request.module_url,
            fail_after_pages=self.fail_after_pages,
        )


class OneOf:
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


def _parse_date(query: Mapping[str, str], name: str) -> datetime:
    try:
        return parse_datetime(query[name])
    except ValueError as exc:
        raise OcpiFailure(Status.INVALID_PARAMETERS, f"{name}: {exc}") from exc


def _parse_int(query: Mapping[str, str], name: str, *, default: int) -> int:
    if name not in query:
        return default
    try:
        value = int(query[name])
    except ValueError:
        value = -1
    if value < 0:
        raise OcpiFailure(Status.INVALID_PARAMETERS, f"{name} must be a non-negative integer")
    return value


def _seconds_ceil(moment: datetime) -> int:
    """The first number whose `stamp_of` is at or after `moment` (integer maths, no floats)."""
    micros = (moment - EPOCH) // timedelta(microseconds=1)
    return max(0, -(-micros // 1_000_000))


def maybe_json(body: bytes) -> Any:
    """The body as JSON, or None when it is empty or not JSON (for the record of a request)."""
    if not body:
        return None
    try:
        return load_json(body)
    except (ValueError, UnicodeDecodeError):
        return None
