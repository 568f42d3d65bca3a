"""The simulator's Payments Receiver (OCPI 2.3.0, the CPO's side of the Payments module).

The PTP (the platform, over a 2.3.0 connection) creates its Terminals here (`POST
{url}/terminals`, read back with `GET {url}/terminals/{terminal_id}`) and reports each capture
with a Financial Advice Confirmation (`POST {url}/financial-advice-confirmations`, `GET
.../{id}`). Both are checked strictly against the spec's object definitions: every required
field, types, lengths and enum values; a FAC's `total_costs` must be a 2.3.0 Price
(`before_taxes` and `taxes`), its `eft_data` one line or more. A POST of an id already held
replaces it (a PTP retrying creates nothing twice); every POST attempt is kept in `posts`.

`advice_fault` "refuse_once" answers the next FAC POST with OCPI 3000 (HTTP 500) and keeps
nothing, so a test sees the PTP send it again. The CPO's own writes to the PTP's terminals (the
PATCH that assigns locations and EVSEs) are `assign` below, driven by a test, or by the
simulator itself for each new terminal with `assign_terminals` (all its locations)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

import httpx

from .peer import Peer
from .transport import InboundRequest, OcpiFailure, OneOf, Reply, Status, now_timestamp
from .transport import parse_datetime as _parse_datetime

ADVICE_FAULTS: Final = (None, "refuse_once")
INVOICE_CREATORS: Final = ("CPO", "PTP")
CAPTURE_STATUS_CODES: Final = ("SUCCESS", "PARTIAL_SUCCESS", "FAILED")
_ASCII: Final = re.compile(r"^[ -~]*$")


class PaymentsBook:
    """What the PTP created and reported; read and write under `lock`. `changed` is notified on
    every accepted POST."""

    advice_fault = OneOf(ADVICE_FAULTS)

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self.changed = threading.Condition(lock)
        self.terminals: dict[str, dict[str, Any]] = {}  # by terminal_id, upper-case
        self.advices: dict[str, dict[str, Any]] = {}  # by FAC id, upper-case
        self.posts: list[tuple[str, Any, int]] = []  # (collection, body, HTTP status answered)
        self.advice_fault = None
        # Called (under `lock`) with the id of each terminal created here for the first time.
        self.on_terminal: Callable[[str], None] | None = None


# --- checks -------------------------------------------------------------------------------------


def _cistring(value: Any, where: str, limit: int, *, exact: bool = False) -> None:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ValueError(f"{where} must be a CiString of 1 to {limit} characters")
    if exact and len(value) != limit:
        raise ValueError(f"{where} must be a CiString of exactly {limit} characters")
    if not _ASCII.match(value):
        raise ValueError(f"{where} must be printable ASCII (CiString)")


def _string(value: Any, where: str, limit: int) -> None:
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError(f"{where} must be a string of at most {limit} characters")


def _number(value: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError(f"{where} must be a JSON number")


def _datetime(value: Any, where: str) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{where} must be a DateTime string")
    try:
        _parse_datetime(value)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc


def validate_terminal(body: Any) -> None:
    """ValueError naming the first wrong field of a Terminal (mod_payments, Terminal object)."""
    if not isinstance(body, dict):
        raise ValueError("the Terminal must be a JSON object")
    _cistring(body.get("terminal_id"), "terminal_id", 36)
    limits = {
        "customer_reference": 36,
        "party_id": 3,
        "address": 45,
        "city": 45,
        "postal_code": 10,
        "state": 20,
        "country": 3,
        "reference": 36,
    }
    for name, limit in limits.items():
        if body.get(name) is not None:
            _cistring(body[name], name, limit)
    if body.get("country_code") is not None:
        _cistring(body["country_code"], "country_code", 2, exact=True)
    if body.get("invoice_base_url") is not None:
        _string(body["invoice_base_url"], "invoice_base_url", 255)
    creator = body.get("invoice_creator")
    if creator is not None and creator not in INVOICE_CREATORS:
        raise ValueError(f"invoice_creator must be one of {list(INVOICE_CREATORS)}")
    coordinates = body.get("coordinates")
    if coordinates is not None:
        if not isinstance(coordinates, dict):
            raise ValueError("coordinates must be a GeoLocation object")
        for name in ("latitude", "longitude"):
            _string(coordinates.get(name), f"coordinates.{name}", 11)
    for name in ("location_ids", "evse_uids"):
        values = body.get(name)
        if values is None:
            continue
        if not isinstance(values, list):
            raise ValueError(f"{name} must be a list")
        for n, value in enumerate(values):
            _cistring(value, f"{name}[{n}]", 36)
    if body.get("last_updated") is not None:
        _datetime(body["last_updated"], "last_updated")


def validate_advice(body: Any) -> None:
    """ValueError naming the first wrong field of a FinancialAdviceConfirmation: `total_costs`
    a 2.3.0 Price, `eft_data` at least one line of 1 to 255 characters."""
    if not isinstance(body, dict):
        raise ValueError("the FinancialAdviceConfirmation must be a JSON object")
    _cistring(body.get("id"), "id", 36)
    _cistring(body.get("authorization_reference"), "authorization_reference", 36)
    price = body.get("total_costs")
    if not isinstance(price, dict):
        raise ValueError("total_costs must be a Price object")
    _number(price.get("before_taxes"), "total_costs.before_taxes")
    taxes = price.get("taxes", [])
    if not isinstance(taxes, list):
        raise ValueError("total_costs.taxes must be a list of TaxAmount")
    for n, tax in enumerate(taxes):
        if not isinstance(tax, dict):
            raise ValueError(f"total_costs.taxes[{n}] must be a TaxAmount object")
        _string(tax.get("name"), f"total_costs.taxes[{n}].name", 255)
        _number(tax.get("amount"), f"total_costs.taxes[{n}].amount")
        if tax.get("percentage") is not None:
            _number(tax["percentage"], f"total_costs.taxes[{n}].percentage")
    currency = body.get("currency")
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValueError("currency must be an ISO 4217 code")
    lines = body.get("eft_data")
    if not isinstance(lines, list) or not lines:
        raise ValueError("eft_data must be a list of one line or more")
    for n, line in enumerate(lines):
        _cistring(line, f"eft_data[{n}]", 255)
    if body.get("capture_status_code") not in CAPTURE_STATUS_CODES:
        raise ValueError(f"capture_status_code must be one of {list(CAPTURE_STATUS_CODES)}")
    if body.get("capture_status_message") is not None:
        _cistring(body["capture_status_message"], "capture_status_message", 255)
    _datetime(body.get("last_updated"), "last_updated")


# --- the Receiver interface -------------------------------------------------------------------


def handle(book: PaymentsBook, request: InboundRequest) -> Reply:
    """POST and GET on `{url}/terminals[/{id}]` and `{url}/financial-advice-confirmations[/{id}]`
    (the two collections under the module's URL)."""
    if not request.segments:
        raise OcpiFailure(Status.CLIENT_ERROR, "no such payments resource", http_status=404)
    collection, *rest = request.segments
    if collection == "terminals":
        store, check, key = book.terminals, validate_terminal, "terminal_id"
    elif collection == "financial-advice-confirmations":
        store, check, key = book.advices, validate_advice, "id"
    else:
        raise OcpiFailure(Status.CLIENT_ERROR, f"no {collection!r} collection", http_status=404)
    if request.method == "GET" and len(rest) == 1:
        with book.lock:
            found = store.get(rest[0].upper())
        if found is None:
            raise OcpiFailure(Status.CLIENT_ERROR, f"no {collection} {rest[0]!r}", http_status=404)
        return Reply(dict(found))
    if request.method != "POST" or rest:
        raise OcpiFailure(
            Status.CLIENT_ERROR, f"{request.method} not allowed here", http_status=405
        )
    body = request.json_body()
    if collection != "terminals" and book.advice_fault == "refuse_once":
        with book.lock:
            book.advice_fault = None
            book.posts.append((collection, body, 500))
        raise OcpiFailure(Status.SERVER_ERROR, "simulated failure", http_status=500)
    try:
        check(body)
    except ValueError as exc:
        with book.lock:
            book.posts.append((collection, body, 200))
        raise OcpiFailure(Status.INVALID_PARAMETERS, str(exc)) from exc
    with book.changed:
        existed = str(body[key]).upper() in store
        store[str(body[key]).upper()] = dict(body)
        book.posts.append((collection, body, 200 if existed else 201))
        book.changed.notify_all()
        if collection == "terminals" and not existed and book.on_terminal is not None:
            book.on_terminal(str(body[key]))
    return Reply(http_status=200 if existed else 201)


def wait_for(book: PaymentsBook, collection: str, count: int, timeout: float) -> list[Any]:
    """The accepted POSTs to `collection` once there are `count`; TimeoutError otherwise."""
    with book.changed:
        if not book.changed.wait_for(
            lambda: len(_accepted(book, collection)) >= count, timeout=timeout
        ):
            raise TimeoutError(f"fewer than {count} {collection} POSTs within {timeout} s")
        return _accepted(book, collection)


def _accepted(book: PaymentsBook, collection: str) -> list[Any]:
    return [body for name, body, status in book.posts if name == collection and status < 300]


# --- what the CPO does to the PTP's terminals -------------------------------------------------


def assign(
    peer: Peer,
    terminal_id: str,
    *,
    location_ids: list[str] | None = None,
    evse_uids: list[str] | None = None,
) -> httpx.Response:
    """PATCH the PTP's terminal with the locations and/or EVSEs it serves (the CPO's and its
    CSMS customer's decision)."""
    body: dict[str, Any] = {}
    if location_ids is not None:
        body["location_ids"] = location_ids
    if evse_uids is not None:
        body["evse_uids"] = evse_uids
    body["last_updated"] = now_timestamp()
    return peer.call_us("PATCH", f"payments/terminals/{terminal_id}", json=body)
