"""Whose sticker an EVSE ID is, and which EVSE a driver's ID means.

An EVSE ID (eMI3 "Part 2: business objects", ISO 15118-2's EVSEID) is `CC*OPR*E…`: the country
code (2 letters), the operator id (3 letters or digits), the type letter `E`, then 1 to 30
letters, digits or `*`. The `*` separators are optional and case does not count, so
`de*abc*e1*2` and `DEABCE12` are one ID: the form `Evse.lookup_key` holds and `/charge/<evse_id>/`
looks up. Parsing that form is what lookups compare, so two IDs that look up alike also name
the same operator.

The ID's `CC`+`OPR` says whose sticker it is. OCPI keeps a party's country_code/party_id
formally apart from it (C-02), and a CPO may own several operator ids, so an EVSE whose ID names
another operator than its publishing party is kept (never lose data) but is not payable until
an operator approves the pair as an `EvseIdAlias`. An ID that does not follow the format names
no operator: nothing can contradict its publisher, and it cannot look up like an ID that does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, QuerySet
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from ocpi_peer import generations
from stations.models import Evse, EvseIdAlias, evse_lookup_key

# The lookup key of a well-formed EVSE ID: country, operator id, `E`, the rest.
KEY_FORM = r"^[A-Z]{2}[A-Z0-9]{3}E[A-Z0-9]{1,30}$"
_KEY = re.compile(KEY_FORM)
_OPERATOR = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}$")


@dataclass(frozen=True)
class Operator:
    """An operator as EVSE IDs name it: `DE*ABC`."""

    country_code: str
    operator_id: str

    @property
    def key(self) -> str:
        """As `EvseIdAlias.operator_prefix` and the start of a lookup key hold it: `DEABC`."""
        return self.country_code + self.operator_id

    def __str__(self) -> str:
        return f"{self.country_code}*{self.operator_id}"


def operator_of(evse_id: str) -> Operator | None:
    """The operator an EVSE ID names, however it is written; None when it is not an eMI3 ID."""
    key = evse_lookup_key(evse_id)
    if not _KEY.match(key):
        return None
    return Operator(key[:2], key[2:5])


def parse_operator(text: str) -> Operator | None:
    """An operator as people write it (`DE*ABC`, `de-abc`, `DEABC`); None when it is not one."""
    key = evse_lookup_key(text)
    return Operator(key[:2], key[2:]) if _OPERATOR.match(key) else None


def approved(parties: Iterable[tuple[str, str]]) -> set[tuple[str, str, str]]:
    wanted = set(parties)
    rows = EvseIdAlias.objects.filter(
        country_code__in={cc for cc, _ in wanted}, party_id__in={pid for _, pid in wanted}
    ).values_list("country_code", "party_id", "operator_prefix")
    return {row for row in rows if row[:2] in wanted}


# The approved aliases of the parties a lookup met, kept per web process while the `PRICES`
# generation they were read at stands (`ocpi_peer.generations`: raised by a trigger with every
# change to EvseIdAlias, in its transaction), so that a driver's scan reads no alias table
# until an operator approves or withdraws one, and then at once in every process.
MAX_ENTRIES = 10_000  # sets of parties; past it, the cache starts over
_approved: dict[frozenset[tuple[str, str]], tuple[int, frozenset[tuple[str, str, str]]]] = {}


def approved_now(parties: Iterable[tuple[str, str]]) -> frozenset[tuple[str, str, str]]:
    """`approved` for these parties (upper-case), from this process's cache while the `PRICES`
    generation stands: one tiny statement when it does. Read-only: shared between requests."""
    wanted = frozenset(parties)
    if not wanted:
        return frozenset()
    current = generations.read(generations.PRICES)  # before the rows it guards
    entry = _approved.get(wanted)
    if entry is not None and entry[0] == current:
        return entry[1]
    found = frozenset(approved(wanted))
    if current is not None:  # never raised yet: nothing to compare with later
        if len(_approved) >= MAX_ENTRIES:
            _approved.clear()
        _approved[wanted] = (current, found)
    return found


def forget() -> None:
    """Empties this process's cache (tests; never needed for correctness)."""
    _approved.clear()


def _foreign(
    evse: Evse, aliases: set[tuple[str, str, str]] | frozenset[tuple[str, str, str]]
) -> Operator | None:
    operator = operator_of(evse.lookup_key)
    if operator is None:
        return None
    cc, pid = evse.location.country_code.upper(), evse.location.party_id.upper()
    if operator.key == cc + pid or (cc, pid, operator.key) in aliases:
        return None
    return operator


def foreign_operator(
    evse: Evse, aliases: set[tuple[str, str, str]] | frozenset[tuple[str, str, str]] | None = None
) -> Operator | None:
    """The operator this EVSE's ID names when that is neither the party that published it nor
    an operator an approved alias lets it publish: such an EVSE is not payable here. `aliases`:
    `approved` for its party, when the caller has read them."""
    location = evse.location
    if aliases is None:
        aliases = approved([(location.country_code.upper(), location.party_id.upper())])
    return _foreign(evse, aliases)


@dataclass(frozen=True)
class Found:
    """What a driver's EVSE ID finds. `evse` is the one they mean (None: none, or unclear);
    `twins` holds every candidate its publisher may publish when there is more than one, which
    is never settled by picking one."""

    evse: Evse | None
    twins: tuple[Evse, ...] = ()


def find(evse_id: str) -> Found:
    """The EVSE a driver means, however the ID was printed or typed. EVSEs that were removed
    are gone for drivers (L-03). Among the rest, an EVSE whose ID is its publisher's own (or
    approved) wins over ones published by another party: the sticker opens its operator's
    charger whoever else publishes the ID. With no such EVSE, the newest other one is found
    (so the driver is told why it is not payable); with two or more, none is."""
    key = evse_lookup_key(evse_id)
    if not key:
        return Found(None)
    # Removed ones left out and the newest first here rather than in SQL: an ID has one or two
    # EVSEs, and compiling the query's WHERE NOT and ORDER BY cost more than sorting them.
    live = [
        evse
        for evse in Evse.objects.filter(lookup_key=key).select_related("location__partner")
        if evse.status != Evse.Status.REMOVED
    ]
    live.sort(key=lambda evse: evse.pk)
    candidates = sorted(live, key=lambda evse: evse.last_updated, reverse=True)  # stable
    aliases = approved_now(
        (e.location.country_code.upper(), e.location.party_id.upper()) for e in candidates
    )
    own = [e for e in candidates if _foreign(e, aliases) is None]
    if len(own) > 1:
        return Found(None, twins=tuple(own))
    return Found(own[0] if own else (candidates[0] if candidates else None))


# Told of an EVSE ID that a write has just made find more than one payable charger: the
# chargers (`Found.twins`, newest first). Called after that write commits.
DuplicateListener = Callable[[tuple[Evse, ...]], object]

_DUPLICATE_LISTENERS: list[DuplicateListener] = []


def on_duplicate(listener: DuplicateListener) -> None:
    """An app that wants to hear of an EVSE ID published for two payable chargers as soon as the
    second is published (an operator's queue), before any driver scans it (from `ready()`)."""
    if listener not in _DUPLICATE_LISTENERS:
        _DUPLICATE_LISTENERS.append(listener)


def watch(lookup_keys: Iterable[str]) -> None:
    """EVSEs under these lookup keys were just created, or their ID changed, or they came back
    from REMOVED (in the current transaction): once it commits, any of the keys that now finds
    two or more payable chargers is reported to the listeners. A write that changes none of
    that (a status change, a re-publish) does not call this, so costs nothing."""
    keys = frozenset(key for key in lookup_keys if key)
    if keys and _DUPLICATE_LISTENERS:
        # robust: the CPO's write is committed and answered whatever a listener does
        transaction.on_commit(partial(_report_duplicates, keys), robust=True)


def _report_duplicates(keys: frozenset[str]) -> None:
    """One indexed query for the keys held by two or more live EVSEs; only those (rare) are
    looked at as a driver's scan would (`find`), which leaves out IDs naming another operator."""
    shared = (
        Evse.objects.filter(lookup_key__in=keys)
        .exclude(status=Evse.Status.REMOVED)
        .values("lookup_key")
        .annotate(evses=Count("pk"))
        .filter(evses__gt=1)
        .values_list("lookup_key", flat=True)
    )
    for key in sorted(shared):
        twins = find(key).twins
        if twins:
            for listener in _DUPLICATE_LISTENERS:
                listener(twins)


def foreign_evses(evses: QuerySet[Evse]) -> QuerySet[Evse]:
    """Those of `evses` whose ID names another operator than their publisher, unapproved."""
    approved = EvseIdAlias.objects.filter(
        country_code=OuterRef("location__country_code"),
        party_id=OuterRef("location__party_id"),
        operator_prefix=OuterRef("id_operator"),
    )
    return (
        evses.filter(lookup_key__regex=KEY_FORM)
        .annotate(
            id_operator=Substr("lookup_key", 1, 5),
            publisher=Concat("location__country_code", "location__party_id"),
        )
        .exclude(id_operator=F("publisher"))
        .exclude(Exists(approved))
    )


@transaction.atomic
def approve_alias(
    *, country_code: str, party_id: str, operator: Operator, by: str, note: str = ""
) -> EvseIdAlias:
    """Let the party `country_code`*`party_id` publish EVSE IDs naming `operator`: its EVSEs
    with such IDs become payable at once. Approving again keeps the first approval."""
    alias, created = EvseIdAlias.objects.get_or_create(
        country_code=country_code.upper(),
        party_id=party_id.upper(),
        operator_prefix=operator.key,
        defaults={"approved_by": by, "approved_at": timezone.now(), "note": note},
    )
    if created:  # its EVSEs naming `operator` are payable now: one may share its ID
        watch(
            Evse.objects.filter(
                location__country_code=alias.country_code,
                location__party_id=alias.party_id,
                lookup_key__startswith=operator.key,
            ).values_list("lookup_key", flat=True)
        )
    return alias


@transaction.atomic
def withdraw_alias(*, alias_id: int) -> None:
    """The party may no longer publish those IDs: its EVSEs with them stop being payable."""
    EvseIdAlias.objects.filter(pk=alias_id).delete()
