"""Who owns which party: each `country_code`/`party_id` belongs to exactly one connection.

A handshake (either direction, POST or PUT) claims the parties in the partner's credentials;
a claim of a party another connection holds is refused as a whole, changes nothing and leaves a
`PartyEvent` for the operator (and tells the apps that listen, `on_refused_claim`). A connection
that has unregistered holds nothing: a CPO that comes back on a new connection takes its parties,
and their rows, over. Only an
operator moves a party (`move_party`), e.g. when a CPO goes from a direct link to a hub; the apps
that hold rows of the party move them along (`on_party_moved`), in the same transaction."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from ocpi_peer.models import ClientInfo, Partner, PartyEvent, PartyOwnership

# Called inside the move's transaction: (country_code, party_id, from_partner, to_partner).
Mover = Callable[[str, str, Partner, Partner], None]
# Called after a refusal is recorded, in its own transaction: the events just written.
RefusalListener = Callable[[list[PartyEvent]], None]

_MOVERS: list[Mover] = []
_COUNTRY = re.compile(r"[A-Z]{2}")  # ISO 3166-1 alpha-2
_PARTY = re.compile(r"[A-Z0-9]{3}")  # ISO 15118 party id
_REFUSAL_LISTENERS: list[RefusalListener] = []


def on_party_moved(mover: Mover) -> None:
    """An app whose rows belong to a connection moves them with the party (from `ready()`)."""
    if mover not in _MOVERS:
        _MOVERS.append(mover)


def on_refused_claim(listener: RefusalListener) -> None:
    """An app that wants to see refused claims (an operator's queue) hears of each one."""
    if listener not in _REFUSAL_LISTENERS:
        _REFUSAL_LISTENERS.append(listener)


@dataclass(frozen=True)
class Taken:
    country_code: str
    party_id: str
    owner: Partner

    @property
    def key(self) -> str:
        return f"{self.country_code}*{self.party_id}"


class PartyTaken(Exception):
    """A connection claimed parties that other connections hold."""

    def __init__(self, taken: list[Taken]) -> None:
        self.taken = taken
        super().__init__(
            "; ".join(f"{t.key} belongs to another connection ({t.owner})" for t in taken)
        )

    @property
    def peer_message(self) -> str:
        """What the claiming peer is told: which parties, not who holds them."""
        keys = ", ".join(t.key for t in self.taken)
        return f"party {keys} is registered through another connection; ask the eMSP to move it"


def _keys(parties: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(cc.upper(), pid.upper()) for cc, pid in parties}


def taken_from(*, partner: Partner, parties: Iterable[tuple[str, str]]) -> list[Taken]:
    """The parties among `parties` that another live connection holds."""
    wanted = _keys(parties)
    if not wanted:
        return []
    rows = (
        PartyOwnership.objects.filter(party_id__in={pid for _, pid in wanted})
        .exclude(partner_id=partner.pk)
        .exclude(partner__status=Partner.Status.UNREGISTERED)
    )
    return [
        Taken(row.country_code, row.party_id, row.partner)
        for row in rows.select_related("partner")
        if (row.country_code, row.party_id) in wanted
    ]


def check_claims(*, partner: Partner, parties: Iterable[tuple[str, str]]) -> None:
    """Raises PartyTaken when another connection holds one of `parties`."""
    taken = taken_from(partner=partner, parties=parties)
    if taken:
        raise PartyTaken(taken)


def claim_parties(*, partner: Partner, parties: Iterable[tuple[str, str]], by: str) -> list[str]:
    """Make `partner` the owner of `parties`, all or none: raises PartyTaken when another
    connection holds one (checked after the insert, so two racing claims cannot both win).
    Run it in the handshake's transaction. Returns the partner's party keys, all it owns."""
    wanted = _keys(parties)
    with transaction.atomic():
        held = set(
            PartyOwnership.objects.filter(partner=partner).values_list("country_code", "party_id")
        )
        new = wanted - held
        _take_over_ended(partner, new, by)
        PartyOwnership.objects.bulk_create(
            [PartyOwnership(country_code=cc, party_id=pid, partner=partner) for cc, pid in new],
            ignore_conflicts=True,
        )
        check_claims(partner=partner, parties=new)
        PartyEvent.objects.bulk_create(
            PartyEvent(
                kind=PartyEvent.Kind.CLAIMED,
                country_code=cc,
                party_id=pid,
                partner=partner,
                partner_name=partner.name,
                by=by,
            )
            for cc, pid in sorted(new)
        )
    return owned_keys(partner)


def _take_over_ended(partner: Partner, keys: set[tuple[str, str]], by: str) -> None:
    """Parties among `keys` whose connection has unregistered pass to `partner`, their rows too."""
    rows = PartyOwnership.objects.select_for_update().filter(
        party_id__in={pid for _, pid in keys}, partner__status=Partner.Status.UNREGISTERED
    )
    for row in rows.select_related("partner"):
        if (row.country_code, row.party_id) not in keys:
            continue
        source = row.partner
        row.partner, row.since = partner, timezone.now()
        row.save(update_fields=["partner", "since"])
        for mover in _MOVERS:
            mover(row.country_code, row.party_id, source, partner)
        source.party_keys = owned_keys(source)
        source.save(update_fields=["party_keys"])
        PartyEvent.objects.create(
            kind=PartyEvent.Kind.CLAIMED,
            country_code=row.country_code,
            party_id=row.party_id,
            partner=partner,
            partner_name=partner.name,
            owner=source,
            by=by,
            note=f"taken over from {source}, which had unregistered",
        )
        keys.discard((row.country_code, row.party_id))


# A hub's refused object is noted for the operator once a day per hub and party, not per push.
REFUSAL_NOTED_EVERY = timedelta(days=1)


def is_hub(partner: Partner) -> bool:
    """The connection carries the HUB role: the parties behind it need not be in its roles."""
    return partner.parties.filter(role="HUB").exists()


def admit_behind_hub(partner: Partner, country_code: str, party_id: str) -> bool:
    """Whether a hub may act for a party it did not list: 2.2.1 hubs forward the objects of every
    party connected to them, and name in their credentials only themselves. The first object of
    a party nobody holds claims it for the hub (an audit record says so); a party another
    connection holds stays refused, and the operator hears of it once a day per hub and party.
    Only a well-formed party id can be claimed, and never by a connection that is not a hub."""
    cc, pid = country_code.upper(), party_id.upper()
    if not (_COUNTRY.fullmatch(cc) and _PARTY.fullmatch(pid)) or not is_hub(partner):
        return False
    try:
        with transaction.atomic():
            Partner.objects.select_for_update().filter(pk=partner.pk).first()  # one claim at a time
            partner.party_keys = claim_parties(
                partner=partner, parties=[(cc, pid)], by="first object through the hub"
            )
            Partner.objects.filter(pk=partner.pk).update(party_keys=partner.party_keys)
    except PartyTaken as refused:
        noted = PartyEvent.objects.filter(
            kind=PartyEvent.Kind.REFUSED,
            partner=partner,
            country_code=cc,
            party_id=pid,
            at__gte=timezone.now() - REFUSAL_NOTED_EVERY,
        )
        if not noted.exists():
            record_refusal(
                partner=partner, name=partner.name, refused=refused, by="an object through the hub"
            )
        return False
    return True


def owned_keys(partner: Partner) -> list[str]:
    """ "CC*PID" of every party the partner owns, as `Partner.party_keys` keeps them."""
    rows = PartyOwnership.objects.filter(partner=partner).values_list("country_code", "party_id")
    return sorted(f"{cc}*{pid}" for cc, pid in rows)


@transaction.atomic(durable=True)
def record_refusal(*, partner: Partner | None, name: str, refused: PartyTaken, by: str) -> None:
    """Leave a trace of a refused claim, in its own transaction: the handshake it stopped has
    changed nothing, and `partner` may be a registration of ours that is about to be removed."""
    events = PartyEvent.objects.bulk_create(
        PartyEvent(
            kind=PartyEvent.Kind.REFUSED,
            country_code=t.country_code,
            party_id=t.party_id,
            partner=partner,
            partner_name=name[:255],
            owner=t.owner,
            by=by,
            note=f"{t.key} is held by {t.owner}; the claim by {name} was refused",
        )
        for t in refused.taken
    )
    for listener in _REFUSAL_LISTENERS:
        listener(events)


class MoveRefused(ValueError):
    """A move that cannot be done (no such party, already there)."""


@transaction.atomic  # not durable: the admin's change form already runs in a transaction
def move_party(*, country_code: str, party_id: str, to: Partner, by: str, note: str = "") -> None:
    """An operator gives a party to another connection (a CPO moved from direct to a hub). The
    apps' rows of the party (locations, tariffs) go with it; the old connection may no longer
    write under it. Both connections' party keys follow at once."""
    cc, pid = country_code.upper(), party_id.upper()
    try:
        row = PartyOwnership.objects.select_for_update().get(country_code=cc, party_id=pid)
    except PartyOwnership.DoesNotExist:
        raise MoveRefused(f"nobody owns {cc}*{pid}") from None
    source = Partner.objects.select_for_update().get(pk=row.partner_id)
    target = Partner.objects.select_for_update().get(pk=to.pk)
    if source.pk == target.pk:
        raise MoveRefused(f"{cc}*{pid} already belongs to {target}")
    row.partner = target
    row.save(update_fields=["partner"])
    for mover in _MOVERS:
        mover(cc, pid, source, target)
    for partner in (source, target):
        partner.party_keys = owned_keys(partner)
        partner.save(update_fields=["party_keys"])
    PartyEvent.objects.create(
        kind=PartyEvent.Kind.MOVED,
        country_code=cc,
        party_id=pid,
        partner=target,
        partner_name=target.name,
        owner=source,
        by=by,
        note=note or f"moved from {source} to {target}",
    )


# --- ClientInfo: is a party connected to its hub? -----------------------------------------------


@transaction.atomic(durable=True)
def store_client_info(
    *,
    partner: Partner,
    country_code: str,
    party_id: str,
    role: str,
    status: str,
    last_updated: datetime,
) -> str:
    """What `partner` (which must own the party: the view and the pull check) says about the
    party's link to it. An older or equal `last_updated` than the one held changes nothing (as
    with locations). Returns "created", "updated" or "unchanged"."""
    cc, pid = country_code.upper(), party_id.upper()
    held = ClientInfo.objects.select_for_update().filter(country_code=cc, party_id=pid).first()
    if held is None:
        ClientInfo.objects.create(
            country_code=cc,
            party_id=pid,
            partner=partner,
            role=role,
            status=status,
            last_updated=last_updated,
        )
        return "created"
    # A row the party's previous connection wrote is replaced whatever its time said.
    if held.partner_id == partner.pk and held.last_updated >= last_updated:
        return "unchanged"
    held.partner, held.role, held.status = partner, role, status
    held.last_updated, held.received_at = last_updated, timezone.now()
    held.save()
    return "updated"


def client_info(*, partner: Partner, country_code: str, party_id: str) -> ClientInfo | None:
    """The party's ClientInfo as its owning connection `partner` last sent it; None when that
    connection has sent none (a row of a connection the party has since left does not count)."""
    return ClientInfo.objects.filter(
        partner=partner, country_code=country_code.upper(), party_id=party_id.upper()
    ).first()
