"""Settlement, first part: CDRs received, stored once, and linked to the checkout they bill
(checklist §7, §10). Reconciliation and capture build on this."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from ocpi_peer.models import Partner
from payments.models import Cdr, ChargingSession, Checkout, DriverToken


@dataclass(frozen=True)
class Received:
    cdr: Cdr
    created: bool
    conflict: bool  # the same id came again with other content (CDR-02): refused, flagged


def content_hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_cdr(
    *, partner: Partner, version: str, fields: dict[str, Any], body: str, canonical: str
) -> Received:
    """Store a CDR once. A repeat with the same content changes nothing; the same id with other
    content is a conflict an operator must see (CDRs are immutable, CDR-01). A CDR we cannot
    link to a checkout is stored and flagged, never dropped (CDR-04)."""
    key = {
        "country_code": fields["country_code"].upper(),
        "party_id": fields["party_id"].upper(),
        "cdr_id": fields["cdr_id"],
    }
    digest = content_hash(canonical)
    existing = Cdr.objects.filter(**key).first()
    if existing is not None:
        return _repeat(existing, digest)
    checkout_id = _link(partner, fields)
    values = {k: v for k, v in fields.items() if k not in key}
    try:
        with transaction.atomic():
            cdr = Cdr.objects.create(
                partner=partner,
                version=version,
                checkout_id=checkout_id,
                body=body,
                content_hash=digest,
                flag="" if checkout_id else "no checkout of ours matches this CDR",
                **key,
                **values,
            )
    except IntegrityError:  # a twin request stored it meanwhile
        return _repeat(Cdr.objects.get(**key), digest)
    return Received(cdr, created=True, conflict=False)


def _repeat(existing: Cdr, digest: str) -> Received:
    if existing.content_hash == digest:
        return Received(existing, created=False, conflict=False)
    note = "the CPO sent this CDR id again with different content (refused)"
    if note not in existing.flag:
        Cdr.objects.filter(pk=existing.pk).update(flag=f"{existing.flag}\n{note}".strip())
    return Received(existing, created=False, conflict=True)


def _link(partner: Partner, fields: dict[str, Any]) -> int | None:
    """authorization_reference, then the token uid (2.2.1) or auth_id (2.1.1), then the
    session id (LNK-02)."""
    checkouts = Checkout.objects.filter(partner=partner)
    if fields.get("authorization_reference"):
        found = checkouts.filter(authorization_reference__iexact=fields["authorization_reference"])
        if found.exists():
            return found.values_list("pk", flat=True).first()
    tokens = DriverToken.objects.filter(checkout__partner=partner)
    for field, lookup in (("token_uid", "uid__iexact"), ("auth_id", "auth_id__iexact")):
        if fields.get(field):
            found_token = tokens.filter(**{lookup: fields[field]}).values_list(
                "checkout_id", flat=True
            )
            if found_token.exists():
                return found_token.first()
    if fields.get("session_id"):
        return (
            ChargingSession.objects.filter(partner=partner, session_id=fields["session_id"])
            .exclude(checkout=None)
            .values_list("checkout_id", flat=True)
            .first()
        )
    return None
