"""Calibration law beyond the signature: is the signed data this session's, from this meter?

`payments.ocmf` says whether a CDR's OCMF records are signed by the key the CDR carries and
whether the billed energy is what they say. That key comes from the CPO too, so a valid
signature alone proves little: data signed by any key verifies with that key. Here the signed
data is tied to the session it bills:

- The meter's key is pinned per EVSE (`MeterKey`): on first sight, from the first CDR at that
  EVSE whose signed values all verify, or as an operator entered it from the meter's label. A CDR
  signed under another key opens a case (once per EVSE, key on record and new key) and its
  receipt says the key changed. A replaced meter is a real reason: an operator who has checked
  it enters the new key, and CDRs received from then on are compared with that one.
- The identification the meter signed (OCMF `IT`/`ID`) must name the checkout's token as the
  CPO knows it (2.2.1 `uid`, 2.1.1 `auth_id`, or its `contract_id` for EMAID/EVCOID types). No
  identification at all (`IT` "NONE", an empty `ID`) is said on the receipt, not a mismatch:
  many meters sign sessions started by the backend that way.
- The signed begin and end readings' times must lie within `TIME_TOLERANCE` of the session's
  start and end as the CDR bills them (its `start_date_time`, `end_date_time`), and the record
  must be a transaction page (`PG` "T…"), not a fiscal reading (`PG` "F…"), that no CDR of
  another checkout of the connection named before (the meter's page counter: signed data of an
  earlier session billed again). Each linked CDR's pages are kept (`SignedPage`), so that the
  check is one indexed read, whatever the meter's or the EVSE's history.

A mismatch of identification, times or page opens one case per CDR and finding. `check_cdr` runs
when a CDR linked to a checkout arrives; `findings_for` is what the receipt reads (the same
comparisons, and the key compared with the pin in force when the CDR came). Nothing here
raises on a CPO's bad data.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

import simplejson
from django.db import IntegrityError, transaction
from django.db.models import Q

from payments import ocmf
from payments.cases import open_case
from payments.models import Case, Cdr, Checkout, DriverToken, MeterKey, SignedPage

logger = logging.getLogger(__name__)

TIME_TOLERANCE: Final = timedelta(minutes=5)
# A meter or page named longer than its column is neither kept nor compared.
PAGE_CHARS: Final = SignedPage._meta.get_field("meter").max_length or 64
# IT values that identify nobody (OCMF table 9: NONE, DENIED, UNDEFINED).
UNIDENTIFIED: Final = frozenset({"", "NONE", "DENIED", "UNDEFINED"})
CONTRACT_TYPES: Final = frozenset({"EMAID", "EVCOID"})
_SEPARATORS: Final = re.compile(r"[\s*:\-_.]")

KeyStatus = Literal["on_record", "first_seen", "changed", "not_compared"]
IdStatus = Literal["match", "mismatch", "absent", "not_checked"]
TimeStatus = Literal["match", "mismatch", "not_checked"]


@dataclass(frozen=True)
class Findings:
    """How a CDR's signed data relates to its session, its checkout and its EVSE's meter."""

    key: KeyStatus
    pinned_at: datetime | None  # since when the key on record is pinned
    identification: IdStatus
    identified_as: str  # "CENTRAL ABC123" as signed; "" when there is none
    times: TimeStatus
    problems: tuple[tuple[str, str], ...]  # (finding, English words for an operator)

    @property
    def key_changed(self) -> bool:
        return self.key == "changed"


NOTHING: Final = Findings("not_compared", None, "not_checked", "", "not_checked", ())


def check_cdr(cdr: Cdr) -> Findings:
    """On arrival of a CDR linked to a checkout: pin the EVSE's meter key on first sight, compare
    the signed data with the session, and open a case for each mismatch. Never raises."""
    try:
        return _check_cdr(cdr)
    except Exception:  # a CPO's data must never break CDR handling
        logger.exception("signed data of CDR %s could not be checked", cdr.pk)
        return NOTHING


def _check_cdr(cdr: Cdr) -> Findings:
    checkout = cdr.checkout
    signed = _signed_data(cdr)
    if checkout is None or signed is None or cdr.credit:
        return NOTHING
    _keep_pages(cdr, checkout, signed)
    report = ocmf.check_cdr_signed_data(signed, cdr.total_energy)
    key = ocmf.public_key_bytes(signed.get("public_key"))
    if key is not None and report.items and all(i.status == "valid" for i in report.items):
        _pin_on_first_sight(checkout, cdr, signed["public_key"])
    found = _findings(cdr, checkout, signed, report)
    pin = MeterKey.objects.filter(evse_id=checkout.evse_id).first()
    if found.key_changed and pin is not None and key is not None:
        pinned = ocmf.public_key_bytes(pin.public_key) or b""
        open_case(
            Case.Kind.METER_KEY_CHANGED,
            f"the CDR's signed data is signed under another meter key than the one on record "
            f"for EVSE {checkout.evse.evse_id or checkout.evse.uid} since "
            f"{pin.pinned_at:%Y-%m-%d %H:%M} UTC ({pin.pinned_by}): a replaced meter, or data "
            "signed by someone else; enter the new key in the admin once the meter is checked",
            key=f"meter-key-changed:{checkout.evse_id}:{_digest(pinned)}:{_digest(key)}",
            checkout=checkout,
            cdr=cdr,
        )
    for finding, words in found.problems:
        open_case(
            Case.Kind.SIGNED_DATA_MISMATCH,
            words,
            key=f"signed-data-mismatch:{cdr.pk}:{finding}",
            checkout=checkout,
            cdr=cdr,
        )
    return found


def _keep_pages(cdr: Cdr, checkout: Checkout, signed: Mapping[str, Any]) -> None:
    SignedPage.objects.bulk_create(
        [
            SignedPage(partner_id=checkout.partner_id, checkout=checkout, cdr=cdr, meter=m, page=p)
            for m, p in _pages_in(signed)
        ],
        ignore_conflicts=True,  # checked again as it is linked, or by a retried task
    )


def signed_pages(cdr: Cdr) -> set[tuple[str, str]]:
    """The meter pages (`ocmf.meter_page`) named by the CDR's OCMF signed values, from its body
    (the migration that filled `SignedPage` reads stored CDRs so)."""
    signed = _signed_data(cdr)
    return _pages_in(signed) if signed is not None else set()


def _pages_in(signed: Mapping[str, Any]) -> set[tuple[str, str]]:
    values = signed.get("signed_values")
    pages = {ocmf.meter_page(value) for value in values} if isinstance(values, list) else set()
    return {p for p in pages if p is not None and max(map(len, p)) <= PAGE_CHARS}


def _pin_on_first_sight(checkout: Checkout, cdr: Cdr, public_key: str) -> None:
    if MeterKey.objects.filter(evse_id=checkout.evse_id).exists():
        return
    try:
        with transaction.atomic():
            MeterKey.objects.create(
                evse_id=checkout.evse_id,
                public_key=str(public_key).strip(),
                pinned_at=cdr.received_at,
                pinned_by=f"first seen in CDR {cdr.cdr_id}",
                cdr=cdr,
            )
    except IntegrityError:  # another CDR of this EVSE pinned it meanwhile
        pass


def findings_for(cdr: Cdr, checkout: Checkout | None) -> Findings:
    """What the receipt says beside the signature: the same comparisons as on arrival. Never
    raises."""
    signed = _signed_data(cdr)
    if checkout is None or signed is None:
        return NOTHING
    try:
        report = ocmf.check_cdr_signed_data(signed, cdr.total_energy)
        return _findings(cdr, checkout, signed, report)
    except Exception:
        logger.exception("signed data of CDR %s could not be compared", cdr.pk)
        return NOTHING


def _findings(
    cdr: Cdr, checkout: Checkout, signed: Mapping[str, Any], report: ocmf.Report
) -> Findings:
    verifications = [i.verification for i in report.items if i.verification is not None]
    key, pinned_at = _key_status(cdr, checkout, signed.get("public_key"))
    identification, identified_as = _identification(verifications, _token_of(checkout))
    problems: list[tuple[str, str]] = []
    if identification == "mismatch":
        problems.append(
            (
                "identification",
                f"the meter signed the session for {identified_as}, which is not this "
                "checkout's token",
            )
        )
    times: TimeStatus = "not_checked"
    energy = report.energy
    if energy.start is not None or energy.end is not None:
        late = [
            f"the signed {name} reading is timed {reading.time_text!r}, the session's {name} is "
            f"{moment.isoformat()}"
            for name, reading, moment in (
                ("start", energy.start, cdr.start),
                ("end", energy.end, cdr.end),
            )
            if reading is not None
            and (reading.time is None or abs(reading.time - moment) > TIME_TOLERANCE)
        ]
        times = "mismatch" if late else "match"
        if late:
            problems.append(
                (
                    "times",
                    "; ".join(late)
                    + f" (more than {TIME_TOLERANCE.seconds // 60} minutes apart, or unreadable)",
                )
            )
    pages = [v.pagination for v in verifications if v.pagination and v.pagination[:1] != "T"]
    if pages:
        times = "mismatch"
        problems.append(
            ("pagination", f"the signed data is not a transaction's record (PG {pages[0]!r})")
        )
    billed_before = _pages_billed_before(cdr, checkout, _pages_in(signed))
    if billed_before:
        times = "mismatch"
        problems.append(("replayed", billed_before))
    return Findings(key, pinned_at, identification, identified_as, times, tuple(problems))


def _pages_billed_before(cdr: Cdr, checkout: Checkout, pages: set[tuple[str, str]]) -> str | None:
    """Whether a CDR of another checkout of the connection, received before this one, named a
    page this one names: signed data of an earlier session billed again, wherever the meter
    was then. The same checkout's credit and corrected CDRs carry the same record, rightly."""
    if not pages:
        return None
    named = Q()
    for meter, page in pages:
        named |= Q(meter=meter, page=page)
    other = (
        SignedPage.objects.filter(named, partner_id=checkout.partner_id)
        .filter(cdr__received_at__lte=cdr.received_at)
        .exclude(checkout_id=checkout.pk)
        .select_related("cdr")
        .order_by("-cdr__received_at", "-cdr_id")
        .first()
    )
    if other is None:
        return None
    return (
        f"the signed record of meter {other.meter}, page {other.page}, was billed already "
        f"by CDR {other.cdr.cdr_id} (checkout {other.checkout_id})"
    )


def _key_status(cdr: Cdr, checkout: Checkout, given: object) -> tuple[KeyStatus, datetime | None]:
    """The CDR's key against the EVSE's pin, when that pin was in force as the CDR came: a key
    an operator entered later is not held against CDRs received before it."""
    key = ocmf.public_key_bytes(given)
    pin = MeterKey.objects.filter(evse_id=checkout.evse_id).first()
    if key is None or pin is None or cdr.received_at is None or pin.pinned_at > cdr.received_at:
        return "not_compared", None
    if ocmf.public_key_bytes(pin.public_key) == key:
        return ("first_seen" if pin.cdr_id == cdr.pk else "on_record"), pin.pinned_at
    return "changed", pin.pinned_at


def _token_of(checkout: Checkout) -> DriverToken | None:
    return DriverToken.objects.filter(checkout=checkout).first()


def _identification(
    verifications: list[ocmf.Verification], token: DriverToken | None
) -> tuple[IdStatus, str]:
    signed = [
        (v.identification_type or "", v.identification or "")
        for v in verifications
        if (v.identification_type or "").upper() not in UNIDENTIFIED and v.identification
    ]
    if not signed:
        return ("absent" if verifications else "not_checked"), ""
    shown = ", ".join(sorted({f"{kind} {ident}".strip() for kind, ident in signed}))
    if token is None:
        return "not_checked", shown
    for kind, ident in signed:
        ours = (
            [token.contract_id]
            if kind.upper() in CONTRACT_TYPES
            else [token.uid, token.auth_id, token.contract_id]
        )
        if _plain(ident) not in {_plain(x) for x in ours if x}:
            return "mismatch", shown
    return "match", shown


def _plain(identifier: str) -> str:
    """An identifier as compared: case and separators aside (`DE*ABC*C1` = `deabcc1`)."""
    return _SEPARATORS.sub("", identifier).upper()


def _digest(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def signed_data_of(cdr: Cdr) -> Mapping[str, Any] | None:
    """The CDR's `signed_data` exactly as the CPO sent it (2.2.1; 2.1.1 has none)."""
    try:
        body = simplejson.loads(cdr.body, use_decimal=True)
    except ValueError:
        return None
    signed = body.get("signed_data") if isinstance(body, dict) else None
    return signed if isinstance(signed, dict) else None


def _signed_data(cdr: Cdr) -> Mapping[str, Any] | None:
    """The CDR's OCMF `signed_data` as the CPO sent it; None for other encodings or none."""
    signed = signed_data_of(cdr)
    if signed is None or str(signed.get("encoding_method", "")).strip().upper() != "OCMF":
        return None
    return signed
