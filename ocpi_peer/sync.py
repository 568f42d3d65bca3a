"""Pulling a CPO's Sender lists (locations, tariffs) page by page into our station data.

First a full pull, then incremental ones from the start of the last successful pull minus a
small overlap for clock skew (T-08, T-20). Every page is validated and stored in its own
transaction, so memory is bounded by one page and a failure in the middle keeps what earlier
pages brought; the next run starts again from the last success, and because the upserts skip
objects that are not newer, pages seen twice write nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import simplejson
from django.utils import timezone
from rest_framework import serializers

from ocpi_peer import versions
from ocpi_peer.client import Caller, PeerError
from ocpi_peer.models import Partner
from ocpi_peer.transport import describe, format_datetime
from payments import settlement
from stations import services
from stations.models import SyncState

logger = logging.getLogger(__name__)

MODULES = ("locations", "tariffs", "cdrs")
CLOCK_SKEW = timedelta(minutes=5)


class SyncImpossible(Exception):
    """The partner cannot be pulled from (unregistered, or it offers no such Sender)."""


@dataclass
class Outcome:
    received: int = 0
    written: int = 0
    rejected: int = 0

    def line(self) -> str:
        return f"{self.received} received, {self.written} written, {self.rejected} rejected"


def pull(
    *, partner_id: int, module: str, full: bool = False, since: datetime | None = None
) -> Outcome:
    """Pull one module from one partner now. Raises PeerError (to be retried) or SyncImpossible;
    either way the partner's SyncState says what happened. `since` pulls from that time (a
    missing CDR: from its checkout's start) without moving the incremental pulls' start."""
    if module not in MODULES:
        raise SyncImpossible(f"cannot pull {module}")
    partner = Partner.objects.get(pk=partner_id)
    state, _ = SyncState.objects.get_or_create(partner=partner, module=module)
    started = timezone.now()
    outcome = Outcome()
    try:
        url = _sender_url(partner, module)
        params = {}
        if since is not None:
            params["date_from"] = format_datetime(since - CLOCK_SKEW)
        elif not full and state.last_success_started_at is not None:
            params["date_from"] = format_datetime(state.last_success_started_at - CLOCK_SKEW)
        store = _STORE[module]
        for page in Caller.for_partner(partner).pages(url, params=params):
            store(partner, page, outcome)
    except (PeerError, SyncImpossible) as exc:
        _finish(state, started, outcome, ok=False, note=str(exc))
        raise
    note = ("full: " if full else "") + (f"since {since:%Y-%m-%d %H:%M}: " if since else "")
    _finish(state, started, outcome, ok=True, note=note + outcome.line(), advance=since is None)
    return outcome


def _sender_url(partner: Partner, module: str) -> str:
    if not partner.is_registered:
        raise SyncImpossible(f"{partner} is not registered")
    url = partner.endpoint(module, "SENDER")
    if url is None:
        raise SyncImpossible(f"{partner} offers no {module} sender to pull from")
    return url


def _finish(
    state: SyncState, started: Any, outcome: Outcome, *, ok: bool, note: str, advance: bool = True
) -> None:
    SyncState.objects.filter(pk=state.pk).update(
        last_run_at=timezone.now(),
        last_ok=ok,
        last_result=note[:2000],
        received=outcome.received,
        written=outcome.written,
        rejected=outcome.rejected,
        **({"last_success_started_at": started} if ok and advance else {}),
    )


def _valid(
    partner: Partner,
    serializer: type[serializers.Serializer],
    page: list[Any],
    outcome: Outcome,
    *,
    with_raw: bool = False,
) -> list[tuple[str, str, dict[str, Any]]]:
    """The page's objects that validate and belong to one of the partner's parties; the others
    are counted and logged, never a reason to drop the page (T-11, T-18)."""
    spec = versions.get(partner.version)
    parties = {(p.country_code, p.party_id) for p in partner.parties.all()}
    own = next(iter(parties)) if len(parties) == 1 else versions.NOBODY
    good = []
    for raw in page:
        outcome.received += 1
        try:
            owner, data = versions.read_owned(spec, serializer, raw, otherwise=own)
        except serializers.ValidationError as exc:
            outcome.rejected += 1
            logger.warning("%s: invalid object in pulled page: %s", partner, describe(exc.detail))
            continue
        if owner not in parties:
            outcome.rejected += 1
            logger.warning("%s: pulled object of a party it did not register: %s", partner, owner)
            continue
        if with_raw:
            data["_raw"] = raw
        good.append((owner[0], owner[1], data))
    return good


def _store_locations(partner: Partner, page: list[Any], outcome: Outcome) -> None:
    spec = versions.get(partner.version)
    by_owner: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for cc, pid, data in _valid(partner, spec.location, page, outcome):
        by_owner.setdefault((cc, pid), []).append(data)
    for (cc, pid), locations in by_owner.items():
        _, written = services.store_locations(
            partner=partner, country_code=cc, party_id=pid, locations=locations
        )
        outcome.written += written


def _store_tariffs(partner: Partner, page: list[Any], outcome: Outcome) -> None:
    spec = versions.get(partner.version)
    _, written = services.store_tariffs(
        partner=partner, items=_valid(partner, spec.tariff, page, outcome)
    )
    outcome.written += written


def _store_cdrs(partner: Partner, page: list[Any], outcome: Outcome) -> None:
    """Pulled CDRs (missing ones, T-08) go where pushed ones go: stored once, linked, settled.
    A list carries no bytes per CDR, so a pulled CDR is kept as its canonical JSON."""
    spec = versions.get(partner.version)
    for cc, pid, fields in _valid(partner, spec.cdr, page, outcome, with_raw=True):
        raw = fields.pop("_raw")
        canonical = simplejson.dumps(raw, sort_keys=True, use_decimal=True)
        received = settlement.record_cdr(
            partner=partner,
            version=partner.version,
            fields={**fields, "country_code": cc, "party_id": pid},
            body=canonical,
            canonical=canonical,
        )
        outcome.written += received.created


_STORE: dict[str, Callable[[Partner, list[Any], Outcome], None]] = {
    "locations": _store_locations,
    "tariffs": _store_tariffs,
    "cdrs": _store_cdrs,
}
