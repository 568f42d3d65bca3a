"""Pulling a CPO's Sender lists (locations, tariffs, sessions, CDRs; a hub's ClientInfo) page by
page.

This module validates what comes and says whose each object is; storing it is the business of
the app that owns it, which registers a writer per module (`register_writer`, from its
`AppConfig.ready()`), so ocpi_peer needs nothing of the domain.

First a full pull, then incremental ones from the start of the last successful pull minus a
small overlap for clock skew (T-08, T-20). Every page is validated and stored in its own
transaction, so memory is bounded by one page and a failure in the middle keeps what earlier
pages brought; the next run starts again from the last success, and because the writers skip
objects that are not newer, pages seen twice write nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from ocpi_peer import parties, versions
from ocpi_peer.client import Caller, PeerError
from ocpi_peer.models import Partner, SyncState
from ocpi_peer.transport import describe, format_datetime

logger = logging.getLogger(__name__)

# What we can pull, each with the attribute of the version that names its object's serializer.
OBJECTS = {
    "locations": "location",
    "tariffs": "tariff",
    "sessions": "session",
    "cdrs": "cdr",
    "hubclientinfo": "client_info",  # a hub's list of its parties and their link to it
}
MODULES = tuple(OBJECTS)
CLOCK_SKEW = timedelta(minutes=5)
# Senders whose list needs a `date_from` (Sessions: required in 2.1.1 and 2.2.1), with how far
# back a full pull of it reads.
FULL_PULL_WINDOW = {"sessions": timedelta(days=2)}


class SyncImpossible(Exception):
    """The partner cannot be pulled from (unregistered, or it offers no such Sender)."""


@dataclass
class Outcome:
    received: int = 0
    written: int = 0
    rejected: int = 0

    def line(self) -> str:
        return f"{self.received} received, {self.written} written, {self.rejected} rejected"


@dataclass(frozen=True)
class Pulled:
    """One object of a pulled page that validated and belongs to one of the partner's parties."""

    country_code: str
    party_id: str
    fields: dict[str, Any]  # the version's serializer's domain value, without the owner
    raw: Any  # as received: a list carries no bytes per object


# Stores one page's objects and returns how many it wrote (objects not newer write nothing).
Writer = Callable[[Partner, list[Pulled]], int]

_WRITERS: dict[str, Writer] = {}


def register_writer(module: str, writer: Writer) -> None:
    """The app that owns a module's objects says how a pulled page of them is stored."""
    if module not in OBJECTS:
        raise ValueError(f"cannot pull {module}")
    _WRITERS[module] = writer


def _store_client_info(partner: Partner, objects: list[Pulled]) -> int:
    """A hub's ClientInfo list is ocpi_peer's own business (`_valid` has admitted each party)."""
    return sum(
        parties.store_client_info(
            partner=partner,
            country_code=pulled.country_code,
            party_id=pulled.party_id,
            role=pulled.fields["role"],
            status=pulled.fields["status"],
            last_updated=pulled.fields["last_updated"],
        )
        != "unchanged"
        for pulled in objects
    )


register_writer("hubclientinfo", _store_client_info)


def pull(
    *,
    partner_id: int,
    module: str,
    full: bool = False,
    since: datetime | None = None,
    store: Writer | None = None,
) -> Outcome:
    """Pull one module from one partner now and hand each page to `store` (by default the
    writer registered for the module). Raises PeerError (to be retried) or SyncImpossible;
    either way the partner's SyncState says what happened. `since` pulls from that time (a
    missing CDR: from its checkout's start) without moving the incremental pulls' start."""
    store = store or _WRITERS.get(module)
    if module not in OBJECTS or store is None:
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
        elif module in FULL_PULL_WINDOW:
            params["date_from"] = format_datetime(started - FULL_PULL_WINDOW[module])
        serializer = getattr(versions.get(partner.version), OBJECTS[module])
        if serializer is None:
            raise SyncImpossible(f"{module} does not exist in OCPI {partner.version}")
        caller = Caller.for_partner(partner)
        for to in _lists_of(partner, caller, module):
            for page in caller.pages(url, params=params, to=to):
                valid = _valid(partner, module, serializer, page, outcome)
                outcome.written += store(partner, valid)
    except (PeerError, SyncImpossible) as exc:
        _finish(state, started, outcome, ok=False, note=str(exc))
        raise
    note = ("full: " if full else "") + (f"since {since:%Y-%m-%d %H:%M}: " if since else "")
    _finish(state, started, outcome, ok=True, note=note + outcome.line(), advance=since is None)
    return outcome


def _lists_of(partner: Partner, caller: Caller, module: str) -> list[tuple[str, str] | None]:
    """Whose list each GET-all asks for: the connection's (None: the caller's routing, a hub's
    own party) in one pull, or, from a CPMS hosting several CPO parties without a hub, each
    party's in turn (T-16: such a CPMS may answer only the party the request is addressed to).
    A CPMS that answers every party whatever the headers say is read once per party; the
    writers skip what is not newer, so that costs calls, not correctness."""
    if caller.routing is None or module == "hubclientinfo" or parties.is_hub(partner):
        return [None]
    own = set(partner.party_keys)
    cpos = [
        (p.country_code, p.party_id)
        for p in partner.parties.filter(role="CPO").order_by("country_code", "party_id")
        if f"{p.country_code}*{p.party_id}" in own
    ]
    return list(cpos) if len(cpos) > 1 else [None]


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
    module: str,
    serializer: type[serializers.Serializer],
    page: list[Any],
    outcome: Outcome,
) -> list[Pulled]:
    """The page's objects that validate and belong to one of the partner's parties (a hub's
    first object of a party claims it: `parties.admit_behind_hub`); the others are counted and
    logged, never a reason to drop the page (T-11, T-18)."""
    spec = versions.get(partner.version)
    listed = [(p.country_code, p.party_id) for p in partner.parties.all()]
    own = listed[0] if len(listed) == 1 else versions.NOBODY
    admitted = {tuple(key.split("*", 1)): True for key in partner.party_keys}
    good = []
    for raw in page:
        outcome.received += 1
        try:
            owner, data = versions.read_owned(spec, serializer, raw, otherwise=own)
        except serializers.ValidationError as exc:
            outcome.rejected += 1
            logger.warning("%s: invalid object in pulled page: %s", partner, describe(exc.detail))
            continue
        if module == "hubclientinfo" and data["role"] != "CPO":
            continue  # a hub lists every party it connects, other eMSPs too: not ours to keep
        owner = (owner[0].upper(), owner[1].upper())
        if owner not in admitted:
            admitted[owner] = parties.admit_behind_hub(partner, *owner)
        if not admitted[owner]:
            outcome.rejected += 1
            logger.warning("%s: pulled object of a party it does not own: %s", partner, owner)
            continue
        good.append(Pulled(country_code=owner[0], party_id=owner[1], fields=data, raw=raw))
    return good
