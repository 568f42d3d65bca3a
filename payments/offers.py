"""What a charger's page reads of the CPO party behind it that changes only when the CPO pushes
or an operator edits: the party's terms, its tariffs for the charger's connectors, the EVSE ID
aliases approved for it, the operator name shown and what its hub last said of its link. Read
once per page (before: once per connector, about seven queries each), and kept per web process
while the `ACCESS` and `PRICES` generations it was read at stand (`ocpi_peer.generations`:
database triggers raise them with every change to tariffs, CPO terms, aliases, partners, their
parties and hub client info, in the transaction making it), so that what a CPO pushes shows at
the next page view in every process."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q

from ocpi_peer import generations, parties
from ocpi_peer.models import ClientInfo, PartnerParty
from payments.models import CpoTerms
from stations import evse_ids
from stations.models import Connector, Evse, Location, Tariff

MAX_ENTRIES = 10_000  # chargers' parties and tariff sets; past it, the cache starts over


@dataclass(frozen=True)
class PartyOffer:
    """Read-only: shared by the pages a process serves while it stands."""

    terms: CpoTerms | None
    tariffs: tuple[Tariff, ...]  # the party's live tariffs named by the charger's connectors
    approved: frozenset[tuple[str, str, str]]  # (country, party, operator prefix) aliases
    operator_name: str
    client_info: ClientInfo | None  # what the party's hub last said of its link

    @property
    def missing_vat_is_country_rate(self) -> bool:
        return bool(self.terms and self.terms.missing_vat_is_country_rate)


_Key = tuple[int, str, str, frozenset[str]]
_entries: dict[_Key, tuple[tuple[int | None, ...], PartyOffer]] = {}


def for_charger(evse: Evse) -> PartyOffer:
    """The offer behind `evse` (its connectors prefetched or read here), from this process's
    cache while its generations stand. One query when they do."""
    return for_charger_at(evse)[1]


def for_charger_at(
    evse: Evse, connectors: Sequence[Connector] | None = None
) -> tuple[tuple[int | None, ...], PartyOffer]:
    """`for_charger`, with the (`ACCESS`, `PRICES`) generations the offer stands at: what a
    caller keeping something derived from the offer keys it by (None: cache nothing).
    `connectors`: the EVSE's, when the caller has read them."""
    location = evse.location
    key = (
        location.partner_id,
        location.country_code.upper(),
        location.party_id.upper(),
        frozenset(_tariff_ids(evse, connectors)),
    )
    current = generations.read_many([generations.ACCESS, generations.PRICES])
    entry = _entries.get(key)
    if entry is not None and entry[0] == current:
        return entry
    offer = load(evse, connectors)
    if None not in current:  # a generation never raised yet: nothing to compare with later
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[key] = (current, offer)
    return current, offer


def operator_name(evse: Evse) -> str:
    """Who runs this charger, as its page names them (and its QR sticker)."""
    return for_charger(evse).operator_name


def load(evse: Evse, connectors: Sequence[Connector] | None = None) -> PartyOffer:
    """The offer behind `evse`, read now (a few queries); `connectors` as for
    `for_charger_at`."""
    location = evse.location
    country_code, party_id = location.country_code.upper(), location.party_id.upper()
    terms = CpoTerms.objects.filter(
        country_code=location.country_code, party_id=location.party_id
    ).first()
    same_id = Q()
    for tid in set(_tariff_ids(evse, connectors)):
        same_id |= Q(ocpi_id__iexact=tid)  # tariff ids are CiStrings (T-21)
    tariffs = tuple(
        Tariff.objects.filter(
            same_id, country_code=country_code, party_id=party_id, deleted_at=None
        )
        if same_id
        else ()
    )
    return PartyOffer(
        terms=terms,
        tariffs=tariffs,
        approved=frozenset(evse_ids.approved([(country_code, party_id)])),
        operator_name=_operator_name(location, terms),
        client_info=parties.client_info(
            partner=location.partner, country_code=country_code, party_id=party_id
        ),
    )


def _tariff_ids(evse: Evse, connectors: Sequence[Connector] | None = None) -> list[str]:
    return [
        tid
        for connector in (evse.connectors.all() if connectors is None else connectors)
        for tid in connector.tariff_ids
        if isinstance(tid, str) and tid
    ]


def _operator_name(location: Location, terms: CpoTerms | None) -> str:
    """Who runs this charger, as the driver is told before paying: the CPO party's legal name
    from its terms, else the business name it registered with, else its connection's name (a
    party behind a hub: its id and the hub's name, not the hub's name alone).
    Never the location's own `operator` field, which any publisher can fill in."""
    country_code, party_id = location.country_code.upper(), location.party_id.upper()
    if terms is not None and terms.legal_name:
        return terms.legal_name
    business_name = (
        PartnerParty.objects.filter(
            partner=location.partner_id,
            role="CPO",
            country_code__iexact=country_code,
            party_id__iexact=party_id,
        )
        .exclude(business_name="")
        .values_list("business_name", flat=True)
        .first()
    )
    if business_name:
        return business_name
    if parties.is_hub(location.partner):
        # A party behind a hub has no name of its own here until an operator enters its terms.
        return f"{country_code}*{party_id} via {location.partner.name}"
    return location.partner.name


def forget() -> None:
    """Empties this process's cache (tests; never needed for correctness)."""
    _entries.clear()
