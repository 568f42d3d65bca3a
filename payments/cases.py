"""The exception queue: everything an operator must look at becomes one `Case`, opened once per
cause. The row it is about keeps a readable line in its `flag` too, so the admin's lists of
checkouts, sessions and CDRs show why at a glance."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone

from ocpi_peer.models import PartyEvent
from payments.models import Case, Cdr, ChargingSession, Checkout
from stations.models import Evse, evse_lookup_key


def open_case(
    kind: str,
    summary: str,
    *,
    key: str,
    checkout: Checkout | None = None,
    cdr: Cdr | None = None,
    session: ChargingSession | None = None,
    partner_id: int | None = None,
) -> Case:
    """Open a case unless one with this key exists (a retried task or a repeated push opens
    none twice); note the summary on the row it is about, in memory and in the database, so a
    caller that saves that row afterwards keeps it."""
    about = checkout or cdr or session
    partner_id = getattr(about, "partner_id", partner_id)
    try:
        with transaction.atomic():
            case, created = Case.objects.get_or_create(
                key=key,
                defaults={
                    "kind": kind,
                    "summary": summary,
                    "partner_id": partner_id,
                    "checkout": checkout,
                    "cdr": cdr,
                    "session": session,
                },
            )
    except IntegrityError:  # a twin opened it meanwhile
        return Case.objects.get(key=key)
    if created:
        for row in (checkout, cdr, session):
            if row is not None and summary not in row.flag:
                row.flag = f"{row.flag}\n{summary}".strip()
                type(row).objects.filter(pk=row.pk).update(flag=row.flag)
    return case


def resolve_case(*, case_id: int, by: str, resolution: str) -> Case:
    """An operator closes a case, saying what they did."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        if case.resolved_at is None:
            case.resolved_at = timezone.now()
            case.resolved_by = by
            case.resolution = resolution
            case.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    return case


def open_refused_claim_cases(events: list[PartyEvent]) -> None:
    """A registration or rotation claimed a party another connection holds and was refused
    (`ocpi_peer.parties`): the operator decides whether the party should move. One case per
    claiming connection and party, however often it retries. Registered in `ready()`."""
    for event in events:
        claimant = event.partner_id or event.partner_name
        open_case(
            Case.Kind.REFUSED_CLAIM,
            f"{event.partner_name} claimed {event.country_code}*{event.party_id}, "
            f"which {event.owner} holds: refused ({event.by})",
            key=f"refused-claim:{claimant}:{event.country_code}*{event.party_id}",
            partner_id=event.partner_id,
        )


def open_duplicate_evse_id_case(evses: Sequence[Evse]) -> Case:
    """An EVSE ID finds more than one charger its publisher may publish (`evses`, the newest
    first): as the second is published (`stations.evse_ids.on_duplicate`, registered in
    `ready()`), or when a driver scans it. No payment is taken for any of them until an
    operator has had a CPO fix its data (or withdrawn an alias). One case per set of chargers:
    the same set published or scanned again opens none."""
    evse_id = evses[0].evse_id
    pks = ",".join(str(pk) for pk in sorted(e.pk for e in evses))
    if len(pks) > 150:
        pks = hashlib.sha256(pks.encode()).hexdigest()
    where = "; ".join(
        f"{e.evse_id} at {e.location.country_code}*{e.location.party_id} location "
        f"{e.location.ocpi_id}, EVSE {e.uid} ({e.location.partner.name})"
        for e in evses
    )
    summary = f"EVSE ID {evse_id} is published for {len(evses)} chargers: {where}"
    key = f"duplicate-evse-id:{evse_lookup_key(evse_id)}:{pks}"
    case = open_case(Case.Kind.DUPLICATE_EVSE_ID, summary, key=key)
    if case.partner_id is None:  # filed under the connection that published the newest twin
        Case.objects.filter(pk=case.pk, partner=None).update(partner=evses[0].location.partner)
        case.partner_id = evses[0].location.partner_id
    return case
