"""OCPI's wire rules, once: the response envelope, status codes, timestamps, the token header in
both encodings, Decimal-exact JSON, request ids, routing headers, and list pagination."""

from __future__ import annotations

import base64
import binascii
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any, ClassVar
from urllib.parse import urlencode

import simplejson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ocpi_peer import access, clients, parties
from ocpi_peer.models import AuthFailure, Partner, PartnerToken

logger = logging.getLogger(__name__)


class Status(IntEnum):
    SUCCESS = 1000
    CLIENT_ERROR = 2000
    INVALID_PARAMETERS = 2001
    NOT_ENOUGH_INFORMATION = 2002
    UNKNOWN_LOCATION = 2003
    UNKNOWN_TOKEN = 2004
    SERVER_ERROR = 3000
    UNABLE_TO_USE_CLIENT_API = 3001
    UNSUPPORTED_VERSION = 3002
    NO_MATCHING_ENDPOINTS = 3003


class OcpiError(Exception):
    """Ends an OCPI request with this status. HTTP 200 unless the transport layer is at fault."""

    def __init__(self, status: Status, message: str, *, http_status: int = 200) -> None:
        super().__init__(message)
        self.status, self.message, self.http_status = status, message, http_status


# --- timestamps -------------------------------------------------------------------------------


class TimestampOutOfRange(ValueError):
    """A well-formed timestamp too close to the ends of the calendar to be used."""


# A day inside what Python's datetime holds, so that a moment we accept can still be shown in
# any time zone and compared: `9999-12-31T23:59:59-23:59` is past the last UTC day there is.
EARLIEST = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
LATEST = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)


def parse_datetime(value: str) -> datetime:
    """RFC 3339 as CPMS really send it: with `Z`, with `+00:00` (or another offset, converted),
    or with no zone at all, which OCPI defines as UTC. Raises ValueError, TimestampOutOfRange
    for a moment outside `EARLIEST`..`LATEST`."""
    if not isinstance(value, str) or not 10 <= len(value) <= 35:
        raise ValueError(f"not a timestamp: {value!r}")
    parsed = datetime.fromisoformat(value.strip())
    try:
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        in_range = EARLIEST <= parsed <= LATEST
    except OverflowError:  # its offset moves it off the calendar
        in_range = False
    if not in_range:
        raise TimestampOutOfRange(f"{value!r} is out of range (0001-01-02 to 9999-12-30 in UTC)")
    return parsed


def format_datetime(value: datetime) -> str:
    """Always UTC with `Z`; milliseconds only when there are any (fits OCPI's 25 characters)."""
    value = value.astimezone(UTC)
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- JSON -------------------------------------------------------------------------------------


# How deep arrays and objects may nest in OCPI JSON we read. The deepest OCPI object (a CDR's
# tariff restrictions' day_of_week, in a pulled page's envelope) nests 9 deep; a parser meeting
# thousands of `[` recurses until Python gives up (RecursionError), so depth is checked first.
MAX_DEPTH = 20

_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))


def too_deep(raw: bytes | str, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects nest deeper than `limit` in the JSON text `raw` (brackets in
    strings do not count). Without recursion and mostly in C, whatever the text is: a 7 MB
    page of locations takes about as long as parsing it."""
    text = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    # Without its escaped backslashes and quotes, every other run between quotes is a string.
    unescaped = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(unescaped.split(b'"')[::2]).translate(None, _NOT_BRACKETS)
    left = brackets
    for _ in range(limit // 2):  # each pass takes away the innermost one or two levels
        left = left.replace(b"[]", b"").replace(b"{}", b"")
        if not left:
            return False
    depth = 0  # deeper than the passes can tell, or unbalanced: count bracket by bracket
    for bracket in brackets:
        depth += 1 if bracket in b"[{" else -1
        if depth > limit:
            return True
    return False


class TooDeep(ValueError):
    """JSON nested deeper than MAX_DEPTH."""


def loads(raw: bytes | str) -> Any:
    """OCPI numbers are exact decimals (prices to 4 places): never let them become floats.
    NaN and Infinity are not JSON and are refused, as is nesting deeper than MAX_DEPTH."""
    if too_deep(raw):
        raise TooDeep(f"arrays and objects nest deeper than {MAX_DEPTH} levels")
    return simplejson.loads(raw, use_decimal=True)  # simplejson refuses NaN and Infinity


def dumps(data: Any) -> bytes:
    return simplejson.dumps(data, use_decimal=True, default=_json_default).encode()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_datetime(value)
    raise TypeError(f"cannot write {type(value).__name__} as OCPI JSON")


class OcpiJSONParser(BaseParser):
    media_type = "*/*"  # CPMS often omit or mislabel Content-Type; the body decides.

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        if not raw.strip():
            return {}
        try:
            return loads(raw)
        except TooDeep as exc:
            raise exceptions.ParseError(f"body is refused: {exc}") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"body is not valid JSON: {exc}") from exc


class OcpiJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> bytes:
        return dumps(data)


class JsonBothWays(BaseContentNegotiation):
    """OCPI bodies are JSON in and out, whatever Accept and Content-Type say (CPMS send all
    kinds): there is nothing to choose, so nothing is parsed to choose it."""

    def select_parser(self, request: Request, parsers: list[BaseParser]) -> BaseParser:
        return parsers[0]

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


# --- the envelope -----------------------------------------------------------------------------


def envelope(
    data: Any = None,
    status: Status = Status.SUCCESS,
    message: str | None = None,
    *,
    http_status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "status_code": int(status),
        "timestamp": format_datetime(timezone.now()),
    }
    if data is not None:
        body["data"] = data
    if message:
        body["status_message"] = message
    response = Response(body, status=http_status, headers=headers)
    if http_status == 401:
        response["WWW-Authenticate"] = "Token"
    return response


# --- the token header -------------------------------------------------------------------------


def authorization_header(token: str, *, base64_encoded: bool) -> str:
    if base64_encoded:
        return "Token " + base64.b64encode(token.encode()).decode()
    return "Token " + token


def token_candidates(header: str) -> list[tuple[str, bool]]:
    """The tokens an `Authorization` header may carry, each with whether it came Base64-encoded.
    2.2.1 peers should encode, 2.1.1 peers do not, and many 2.2.1 CPMS send it raw anyway."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "token" or not value:
        return []
    candidates = [(value, False)]
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, ValueError):
        return candidates
    if decoded and decoded != value and decoded.isprintable() and " " not in decoded:
        candidates.append((decoded, True))
    return candidates


class TooManyFailures(exceptions.Throttled):
    """HTTP 429, in the envelope with 2000 like every other refusal of the transport layer."""

    default_detail = (
        "too many requests with a missing or unknown token from your address: "
        "try again in a few minutes"
    )


def _count_failure(client: str) -> None:
    """One more refused token from this client; the rows the window has passed go as we write,
    so the table holds no more than the last window's failures."""
    _, window = clients.parse_rate(settings.OCPI_AUTH_FAILURE_LIMIT)
    now = timezone.now()
    AuthFailure.objects.filter(at__lt=now - window).delete()
    AuthFailure.objects.create(client=client, at=now)


class OcpiTokenAuthentication(BaseAuthentication):
    """`Authorization: Token …`, Base64 or raw, found by hash and compared in constant time.
    Token A opens only the versions and credentials endpoints (T-03).

    Missing and unknown tokens are counted per client address (through our trusted proxies,
    IPv6 per /64: `ocpi_peer.clients`); past OCPI_AUTH_FAILURE_LIMIT in its window, that
    address is answered 429 before its token is even looked up, so that guessing tokens, or a
    partner's runaway retries with a revoked one, cost us no more than a count. Requests with
    a good token are not counted, and other addresses are not affected."""

    def authenticate(self, request: Request) -> tuple[None, PartnerToken]:
        client = clients.request_bucket(request.META)
        limit, window = clients.parse_rate(settings.OCPI_AUTH_FAILURE_LIMIT)
        failures, generation = access.failures_and_generation(client, timezone.now() - window)
        if client and failures >= limit:
            raise TooManyFailures()
        candidates = token_candidates(request.META.get("HTTP_AUTHORIZATION", ""))
        found = (
            access.find([c for c, _ in candidates], generation=generation) if candidates else None
        )
        if found is None:
            if client:
                _count_failure(client)
            raise exceptions.AuthenticationFailed("missing or unknown token")
        token, presented = found
        view = request.parser_context["view"] if request.parser_context else None
        if token.is_registration and not getattr(view, "accepts_token_a", False):
            raise exceptions.AuthenticationFailed("token A may only be used to register")
        _note_contact(token.partner, base64_form=dict(candidates)[presented])
        request._request.ocpi_partner = token.partner  # for the traffic log
        return None, token

    def authenticate_header(self, request: Request) -> str:
        return "Token"  # so DRF answers 401, not 403


# What this process last wrote of each partner's contact: the partner it authenticates may come
# from `access`'s cache, whose copy of these columns does not follow them.
_contact_noted: dict[int, tuple[datetime, bool]] = {}


def _note_contact(partner: Partner, *, base64_form: bool) -> None:
    """Remember which token form they use and when we last heard from them; written at most
    once a minute (per process) so that a busy CPO's pushes do not each cost an extra UPDATE."""
    now = timezone.now()
    last, form = _contact_noted.get(partner.pk, (None, None))
    if last is None or (partner.last_contact_at and partner.last_contact_at > last):
        last, form = partner.last_contact_at, partner.inbound_token_base64
    if last is None or (now - last).total_seconds() > 60 or form != base64_form:
        Partner.objects.filter(pk=partner.pk).update(
            last_contact_at=now, inbound_token_base64=base64_form
        )
        last = now
    _contact_noted[partner.pk] = (last, base64_form)
    partner.last_contact_at, partner.inbound_token_base64 = last, base64_form


# --- errors -----------------------------------------------------------------------------------


def describe(detail: Any, prefix: str = "") -> str:
    """DRF's nested error detail as one readable line: `roles.0.party_id: Ensure …`."""
    if isinstance(detail, dict):
        return "; ".join(describe(v, f"{prefix}{k}.") for k, v in detail.items())
    if isinstance(detail, list):
        if all(not isinstance(d, dict | list) for d in detail):
            return (
                f"{prefix.rstrip('.')}: " + " ".join(str(d) for d in detail)
                if prefix
                else " ".join(str(d) for d in detail)
            )
        return "; ".join(describe(v, f"{prefix}{i}.") for i, v in enumerate(detail) if v)
    return f"{prefix.rstrip('.')}: {detail}" if prefix else str(detail)


# Domain exceptions know nothing of OCPI: the app whose views raise them gives each a status, or
# a function of the version for the status when versions differ, and an HTTP code.
ErrorStatus = Status | Callable[[str], Status]
DomainErrors = Mapping[type[Exception], tuple[ErrorStatus, int]]


def _translated(exc: Exception, context: dict[str, Any]) -> OcpiError | None:
    """The OcpiError the view's `domain_errors` table makes of a domain exception (a subclass is
    translated as its nearest listed ancestor), or None when the table does not know it."""
    table: DomainErrors = getattr(context.get("view"), "domain_errors", {})
    listed = next((kind for kind in type(exc).__mro__ if kind in table), None)
    if listed is None:
        return None
    status, http_status = table[listed]
    if not isinstance(status, Status):
        status = status(context["kwargs"]["version"])
    return OcpiError(status, str(exc), http_status=http_status)


def ocpi_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if (translated := _translated(exc, context)) is not None:
        exc = translated
    elif isinstance(exc, RequestDataTooBig):  # a body read past the traffic middleware's check
        exc = OcpiError(Status.INVALID_PARAMETERS, "request body too large", http_status=413)
    elif isinstance(exc, exceptions.ValidationError):  # valid JSON, wrong content: HTTP 200
        exc = OcpiError(Status.INVALID_PARAMETERS, describe(exc.detail))
    elif isinstance(exc, exceptions.APIException):  # bad JSON 400, token 401, 404, 405
        status = (
            Status.INVALID_PARAMETERS
            if isinstance(exc, exceptions.ParseError)
            else Status.CLIENT_ERROR
        )
        exc = OcpiError(status, describe(exc.detail), http_status=exc.status_code)
    if isinstance(exc, OcpiError):
        return envelope(None, exc.status, exc.message, http_status=exc.http_status)
    logger.error("unhandled error in %s", type(context["view"]).__name__, exc_info=exc)
    return envelope(None, Status.SERVER_ERROR, "internal error", http_status=500)


# --- views ------------------------------------------------------------------------------------


class OcpiView(APIView):
    """Base of every OCPI endpoint we serve: token auth, exact JSON, errors as envelopes, and for
    functional modules the 2.2.1 routing headers mirrored on the answer."""

    authentication_classes = [OcpiTokenAuthentication]
    permission_classes: list[Any] = []
    parser_classes = [OcpiJSONParser]
    renderer_classes = [OcpiJSONRenderer]
    content_negotiation_class = JsonBothWays
    accepts_token_a = False
    functional = False  # configuration modules (versions, credentials) carry no routing headers
    domain_errors: ClassVar[DomainErrors] = {}  # the app's own, beside its views

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response]:
        return ocpi_exception_handler

    def perform_authentication(self, request: Request) -> None:
        request.auth  # noqa: B018 — authenticate now, not lazily: every OCPI call needs a token

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        for name, value in kwargs.items():
            if isinstance(value, str) and not _usable_url_part(value):
                raise OcpiError(
                    Status.INVALID_PARAMETERS,
                    f"{name} in the URL must be 1 to {MAX_URL_PART} printable characters",
                    http_status=400,
                )
        if self.functional:
            # META, not `request.headers`: building that costs more than the four reads we make
            to_cc = request.META.get("HTTP_OCPI_TO_COUNTRY_CODE")
            to_pid = request.META.get("HTTP_OCPI_TO_PARTY_ID")
            ours = (settings.OCPI_COUNTRY_CODE.upper(), settings.OCPI_PARTY_ID.upper())
            if to_cc and to_pid and (to_cc.upper(), to_pid.upper()) != ours:
                raise OcpiError(Status.INVALID_PARAMETERS, f"we are not {to_cc}*{to_pid}")

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.functional:
            meta = request.META
            response["OCPI-from-country-code"] = meta.get(
                "HTTP_OCPI_TO_COUNTRY_CODE", settings.OCPI_COUNTRY_CODE
            )
            response["OCPI-from-party-id"] = meta.get(
                "HTTP_OCPI_TO_PARTY_ID", settings.OCPI_PARTY_ID
            )
            if "HTTP_OCPI_FROM_COUNTRY_CODE" in meta and "HTTP_OCPI_FROM_PARTY_ID" in meta:
                response["OCPI-to-country-code"] = meta["HTTP_OCPI_FROM_COUNTRY_CODE"]
                response["OCPI-to-party-id"] = meta["HTTP_OCPI_FROM_PARTY_ID"]
        return response


MAX_URL_PART = 255  # longer than any OCPI id (36, 39) or party, shorter than any column


def _usable_url_part(value: str) -> bool:
    """An id in the URL we can look up: no control characters (a NUL is not even storable) and
    not longer than anything we keep; an unknown one then is simply not found."""
    return 0 < len(value) <= MAX_URL_PART and value.isprintable()


class UnknownOcpiPath(OcpiView):
    """Anything under /ocpi/ that is not an endpoint: a 404, still in the envelope. The token is
    checked first, so token A meets a 401 here as on any module but credentials (T-03)."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound("no such OCPI endpoint")


# --- request ids ------------------------------------------------------------------------------


def new_request_id() -> str:
    return str(uuid.uuid4())


# --- pagination (serving lists) ---------------------------------------------------------------

DEFAULT_PAGE_LIMIT = 100


def paginate(
    request: Request,
    queryset: QuerySet[Any],
    serialize: Callable[[Iterable[Any]], list[Any]],
    *,
    max_limit: int = DEFAULT_PAGE_LIMIT,
    updated_field: str = "last_updated",
) -> Response:
    """One page of a list endpoint (T-19): `date_from` inclusive, `date_to` exclusive, stable
    order (oldest first), `Link rel="next"` repeating the filters, `X-Total-Count`, `X-Limit`."""
    params = request.query_params
    offset = _whole_number(params, "offset", default=0, lowest=0)
    limit = min(_whole_number(params, "limit", default=max_limit, lowest=1), max_limit)
    try:
        date_from = parse_datetime(params["date_from"]) if params.get("date_from") else None
        date_to = parse_datetime(params["date_to"]) if params.get("date_to") else None
    except ValueError as exc:
        raise OcpiError(Status.INVALID_PARAMETERS, f"bad list parameter: {exc}") from exc
    if date_from:
        queryset = queryset.filter(**{f"{updated_field}__gte": date_from})
    if date_to:
        queryset = queryset.filter(**{f"{updated_field}__lt": date_to})
    total = queryset.count()
    page = list(queryset.order_by(updated_field, "pk")[offset : offset + limit])
    headers = {"X-Total-Count": str(total), "X-Limit": str(max_limit)}
    if offset + len(page) < total:
        query = {k: v for k, v in params.items() if k not in ("offset", "limit")}
        query |= {"offset": str(offset + len(page)), "limit": str(limit)}
        next_url = f"{settings.PUBLIC_BASE_URL}{request.path}?{urlencode(query)}"
        headers["Link"] = f'<{next_url}>; rel="next"'
    return envelope(serialize(page), headers=headers)


MAX_OFFSET = 10**9  # far past any list we serve, and within every database's integers
_DIGITS = re.compile(r"[0-9]{1,10}")


def _whole_number(params: Mapping[str, str], name: str, *, default: int, lowest: int) -> int:
    """A list parameter (`offset`, `limit`): plain digits only, so `1e23`, `٣` or a number no
    database column holds is a 2001 naming it rather than an error deep in the query."""
    raw = params.get(name)
    if raw is None:
        return default
    value = int(raw) if _DIGITS.fullmatch(raw) else -1
    if not lowest <= value <= MAX_OFFSET:
        raise OcpiError(
            Status.INVALID_PARAMETERS,
            f"bad list parameter: {name} must be a whole number from {lowest} to {MAX_OFFSET}",
        )
    return value


# --- client-owned objects ---------------------------------------------------------------------


def own_party(partner: Partner, country_code: str, party_id: str) -> None:
    """A partner writes only under the parties it owns (T-17), or a hub under a party it brings
    us first (`parties.admit_behind_hub`); others are not found."""
    key = f"{country_code.upper()}*{party_id.upper()}"
    if key not in partner.party_keys and not parties.admit_behind_hub(
        partner, country_code, party_id
    ):
        raise OcpiError(
            Status.INVALID_PARAMETERS,
            f"{country_code}*{party_id} is not one of your registered parties",
            http_status=404,
        )


def same_id(url_id: str, body_id: str | None, what: str) -> None:
    """The id in the URL and the id in the body must agree (T-17); CiStrings ignore case."""
    if body_id is not None and body_id.upper() != url_id.upper():
        raise OcpiError(
            Status.INVALID_PARAMETERS,
            f"{what} in the body ({body_id}) differs from the URL ({url_id})",
        )
