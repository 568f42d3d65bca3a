"""Writes to what CPOs offer. Pushes (one object) and pulls (a page of objects) end in the same
bulk upsert, so both keep the same rules: an older `last_updated` never overwrites a newer one,
an unchanged object writes nothing, and a child's change moves its parents' `last_updated`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from ocpi_peer.models import Partner
from stations import evse_ids
from stations.models import Connector, Evse, Location, Tariff, evse_lookup_key

LOCATION_FIELDS = [
    f.name
    for f in Location._meta.concrete_fields
    if f.name not in ("id", "partner", "country_code", "party_id", "ocpi_id")
]
EVSE_FIELDS = [
    f.name for f in Evse._meta.concrete_fields if f.name not in ("id", "location", "uid")
]
CONNECTOR_FIELDS = [
    f.name for f in Connector._meta.concrete_fields if f.name not in ("id", "evse", "connector_id")
]
TARIFF_FIELDS = [
    f.name
    for f in Tariff._meta.concrete_fields
    if f.name not in ("id", "partner", "country_code", "party_id", "ocpi_id", "deleted_at")
]


class UnknownLocation(LookupError):
    """An EVSE, connector or patch for a location we do not hold (2003)."""


class UnknownObject(LookupError):
    """A patch or child for an EVSE or connector we do not hold (2001)."""


class HeldByAnother(LookupError):
    """An object another connection holds: a write never moves a row to another partner (only
    an operator's party move does, `move_party_rows`)."""


def _refuse_foreign(foreign: set[Key], skip_foreign: bool) -> None:
    if foreign and not skip_foreign:
        keys = ", ".join(f"{cc}*{pid} {oid}" for cc, pid, oid in sorted(foreign))
        raise HeldByAnother(f"held by another connection: {keys}")


# --- locations --------------------------------------------------------------------------------


@transaction.atomic
def store_locations(
    *,
    partner: Partner,
    country_code: str,
    party_id: str,
    locations: list[dict[str, Any]],
    skip_foreign: bool = False,
) -> tuple[int, int]:
    """Upsert whole locations (with their EVSEs and connectors) in a few bulk statements.
    Returns (created, written): objects not newer than what we hold are skipped. EVSEs and
    connectors missing from a location are kept, never deleted (L-03). A location another
    connection holds raises HeldByAnother, or with `skip_foreign` (a pulled page) is left as it
    is; either way it never changes hands."""
    return _store_locations(
        partner, [(country_code, party_id, data) for data in locations], skip_foreign
    )


@transaction.atomic
def store_owned_locations(
    *, partner: Partner, locations: list[dict[str, Any]], skip_foreign: bool = False
) -> tuple[int, int]:
    """A pulled page: each location names its own owner (T-18)."""
    return _store_locations(
        partner, [(d["country_code"], d["party_id"], d) for d in locations], skip_foreign
    )


def _store_locations(
    partner: Partner, items: list[tuple[str, str, dict[str, Any]]], skip_foreign: bool
) -> tuple[int, int]:
    items = [(cc.upper(), pid.upper(), data) for cc, pid, data in items]
    found = _locations_by_key({(cc, pid, data["ocpi_id"]) for cc, pid, data in items})
    foreign = {key for key, (_, _, owner) in found.items() if owner != partner.pk}
    _refuse_foreign(foreign, skip_foreign)
    items = [item for item in items if (item[0], item[1], item[2]["ocpi_id"]) not in foreign]
    held = {key: updated for key, (_, updated, _) in found.items() if key not in foreign}
    fresh = _newer(items, held)
    if not fresh:
        return 0, 0
    created = sum(1 for key in fresh if key not in held)
    Location.objects.bulk_create(
        [
            Location(
                partner=partner,
                country_code=cc,
                party_id=pid,
                ocpi_id=ocpi_id,
                **{f: data[f] for f in LOCATION_FIELDS if f in data},
            )
            for (cc, pid, ocpi_id), data in fresh.items()
        ],
        update_conflicts=True,
        unique_fields=["country_code", "party_id", "ocpi_id"],
        update_fields=LOCATION_FIELDS,  # never the partner: a row does not change hands
    )
    ids = {key: pk for key, (pk, _, _) in _locations_by_key(set(fresh)).items()}
    _store_evses([(ids[key], evse) for key, data in fresh.items() for evse in data["evses"]])
    return created, len(fresh)


Key = tuple[str, str, str]  # (country_code, party_id, id), upper-cased owner


def _newer(
    items: list[tuple[str, str, dict[str, Any]]], held: dict[Key, datetime]
) -> dict[Key, dict[str, Any]]:
    """The objects newer than what we hold (L-02): an unchanged or older one writes nothing.
    A later duplicate in the same page wins."""
    fresh: dict[Key, dict[str, Any]] = {}
    for cc, pid, data in items:
        key = (cc, pid, data["ocpi_id"])
        known = held.get(key)
        if known is None or data["last_updated"] > known:
            fresh[key] = data
    return fresh


def _locations_by_key(
    keys: set[tuple[str, str, str]],
) -> dict[tuple[str, str, str], tuple[int, datetime, int]]:
    """(pk, last_updated, partner id) of the locations we hold among `keys`: one indexed query
    by id, the owner matched here (a page has one owner or a few, and ids rarely repeat across
    owners)."""
    rows = Location.objects.filter(ocpi_id__in={oid for _, _, oid in keys}).values_list(
        "country_code", "party_id", "ocpi_id", "pk", "last_updated", "partner_id"
    )
    return {
        (cc, pid, oid): (pk, up, owner)
        for cc, pid, oid, pk, up, owner in rows
        if (cc, pid, oid) in keys
    }


def _store_evses(items: list[tuple[int, dict[str, Any]]]) -> None:
    # One row per key: a repeated uid would make the upsert touch a row twice.
    items = list({(loc, data["uid"]): (loc, data) for loc, data in items}.values())
    if not items:
        return
    held = {
        (loc, uid): (key, status)
        for loc, uid, key, status in Evse.objects.filter(
            location_id__in={loc for loc, _ in items}, uid__in={data["uid"] for _, data in items}
        ).values_list("location_id", "uid", "lookup_key", "status")
    }
    evse_ids.watch(_newly_published(items, held))
    Evse.objects.bulk_create(
        [
            Evse(
                location_id=location_id,
                uid=data["uid"],
                lookup_key=evse_lookup_key(data.get("evse_id") or ""),
                **{f: data[f] for f in EVSE_FIELDS if f in data},
            )
            for location_id, data in items
        ],
        update_conflicts=True,
        unique_fields=["location", "uid"],
        update_fields=EVSE_FIELDS,
    )
    rows = Evse.objects.filter(location_id__in={loc for loc, _ in items}).values_list(
        "location_id", "uid", "pk"
    )
    ids = {(loc, uid): pk for loc, uid, pk in rows}
    _store_connectors(
        [(ids[(loc, data["uid"])], c) for loc, data in items for c in data.get("connectors", [])]
    )


def _newly_published(
    items: list[tuple[int, dict[str, Any]]], held: dict[tuple[int, str], tuple[str, str]]
) -> list[str]:
    """The lookup keys an upsert of `items` publishes anew: EVSEs created, whose ID changes,
    or that come back from REMOVED. Only those can make an ID name a second charger."""
    keys = []
    for location_id, data in items:
        before = held.get((location_id, data["uid"]))
        key = evse_lookup_key(data.get("evse_id") or "")
        status = data.get("status", before[1] if before else "")
        if status == Evse.Status.REMOVED:
            continue
        if before is None or before[0] != key or before[1] == Evse.Status.REMOVED:
            keys.append(key)
    return keys


def _store_connectors(items: list[tuple[int, dict[str, Any]]]) -> None:
    items = list({(evse, data["connector_id"]): (evse, data) for evse, data in items}.values())
    if not items:
        return
    Connector.objects.bulk_create(
        [
            Connector(
                evse_id=evse_id,
                connector_id=data["connector_id"],
                **{f: data[f] for f in CONNECTOR_FIELDS if f in data},
            )
            for evse_id, data in items
        ],
        update_conflicts=True,
        unique_fields=["evse", "connector_id"],
        update_fields=CONNECTOR_FIELDS,
    )


def _location(partner: Partner, country_code: str, party_id: str, location_id: str) -> Location:
    """The partner's own location: one another connection holds is not found for it."""
    try:
        return Location.objects.select_for_update().get(
            partner=partner,
            country_code=country_code.upper(),
            party_id=party_id.upper(),
            ocpi_id=location_id,
        )
    except Location.DoesNotExist:
        raise UnknownLocation(f"unknown location {country_code}*{party_id} {location_id}") from None


def _touch(*objects: Location | Evse, at: datetime) -> None:
    """A child changed: its parents' last_updated moves with it (L-01), never backwards."""
    for obj in objects:
        if obj.last_updated < at:
            type(obj).objects.filter(pk=obj.pk, last_updated__lt=at).update(last_updated=at)


@transaction.atomic
def store_evse(
    *, partner: Partner, country_code: str, party_id: str, location_id: str, data: dict[str, Any]
) -> bool:
    """An EVSE PUT. Returns whether it was new; a stale one changes nothing."""
    location = _location(partner, country_code, party_id, location_id)
    held = location.evses.filter(uid=data["uid"]).values_list("last_updated", flat=True).first()
    if held is not None and held >= data["last_updated"]:
        return False
    _store_evses([(location.pk, data)])
    _touch(location, at=data["last_updated"])
    return held is None


@transaction.atomic
def store_connector(
    *,
    partner: Partner,
    country_code: str,
    party_id: str,
    location_id: str,
    evse_uid: str,
    data: dict[str, Any],
) -> bool:
    location = _location(partner, country_code, party_id, location_id)
    evse = _evse(location, evse_uid)
    held = (
        evse.connectors.filter(connector_id=data["connector_id"])
        .values_list("last_updated", flat=True)
        .first()
    )
    if held is not None and held >= data["last_updated"]:
        return False
    _store_connectors([(evse.pk, data)])
    _touch(evse, location, at=data["last_updated"])
    return held is None


def _evse(location: Location, uid: str) -> Evse:
    try:
        return location.evses.get(uid=uid)
    except Evse.DoesNotExist:
        raise UnknownObject(f"unknown EVSE {uid} at location {location.ocpi_id}") from None


@transaction.atomic
def patch_location(
    *,
    partner: Partner,
    country_code: str,
    party_id: str,
    location_id: str,
    evse_uid: str | None = None,
    connector_id: str | None = None,
    changes: dict[str, Any],
) -> None:
    """A PATCH on a location, EVSE or connector: only the fields given change (T-07); lists
    replace the stored list. An older `last_updated` than ours is ignored (L-02)."""
    at: datetime = changes["last_updated"]
    location = _location(partner, country_code, party_id, location_id)
    target: Location | Evse | Connector = location
    parents: list[Location | Evse] = []
    if evse_uid is not None:
        evse = _evse(location, evse_uid)
        target, parents = evse, [location]
        if connector_id is not None:
            try:
                target = evse.connectors.get(connector_id=connector_id)
            except Connector.DoesNotExist:
                raise UnknownObject(
                    f"unknown connector {connector_id} on EVSE {evse_uid}"
                ) from None
            parents = [evse, location]
    if target.last_updated > at:
        return
    nested = changes.pop("evses", None) if isinstance(target, Location) else None
    nested_connectors = changes.pop("connectors", None) if isinstance(target, Evse) else None
    changes["last_updated"] = at
    if "evse_id" in changes and isinstance(target, Evse):
        changes["lookup_key"] = evse_lookup_key(changes["evse_id"] or "")
    type(target).objects.filter(pk=target.pk).update(**changes)
    if isinstance(target, Evse):
        key = changes.get("lookup_key", target.lookup_key)
        removed = changes.get("status", target.status) == Evse.Status.REMOVED
        if not removed and (key != target.lookup_key or target.status == Evse.Status.REMOVED):
            evse_ids.watch([key])
    if nested:
        _store_evses([(location.pk, e) for e in nested])
    if nested_connectors:
        _store_connectors([(target.pk, c) for c in nested_connectors])
    _touch(*parents, at=at)


def _columns(model: type[Any], *names: str) -> list[str]:
    return [model._meta.get_field(name).column for name in names]


# The status PATCH is every CPO's hot path: its two UPDATEs are written out once here, because
# building them with the ORM took longer than running them (about 0.8 of 1.4 ms a request).
_EVSE_TABLE, _LOCATION_TABLE = Evse._meta.db_table, Location._meta.db_table
_E_LOCATION, _E_UID, _E_STATUS, _E_UPDATED = _columns(
    Evse, "location", "uid", "status", "last_updated"
)
_L_ID, _L_PARTNER, _L_CC, _L_PID, _L_OCPI_ID, _L_UPDATED = _columns(
    Location, "id", "partner", "country_code", "party_id", "ocpi_id", "last_updated"
)
_LOCATION_WHERE = f"{_L_PARTNER} = %s AND {_L_CC} = %s AND {_L_PID} = %s AND {_L_OCPI_ID} = %s"
# Names come from the models and every value is a parameter, hence the noqa. The first runs
# on every status PATCH and leaves alone an EVSE that was REMOVED; the second, run only when
# the first wrote nothing, brings one back, which may publish its EVSE ID anew.
_PATCH_EVSE_STATUS, _REVIVE_EVSE_STATUS = (
    f"UPDATE {_EVSE_TABLE} SET {_E_STATUS} = %s, {_E_UPDATED} = %s"  # noqa: S608
    f" WHERE {_E_UID} = %s AND {_E_UPDATED} <= %s AND {_E_STATUS} {test} %s"
    f" AND {_E_LOCATION} = (SELECT {_L_ID} FROM {_LOCATION_TABLE} WHERE {_LOCATION_WHERE})"
    for test in ("<>", "=")
)
_TOUCH_LOCATION = (
    f"UPDATE {_LOCATION_TABLE} SET {_L_UPDATED} = %s"  # noqa: S608
    f" WHERE {_LOCATION_WHERE} AND {_L_UPDATED} < %s"
)
# On PostgreSQL the first UPDATE and the location's timestamp go as one statement (one round
# trip); it answers how many EVSEs it wrote.
_PATCH_EVSE_STATUS_AND_TOUCH = (
    f"WITH e AS ({_PATCH_EVSE_STATUS} RETURNING {_E_LOCATION}),"  # noqa: S608
    f" l AS (UPDATE {_LOCATION_TABLE} SET {_L_UPDATED} = %s"
    f" WHERE {_L_ID} IN (SELECT {_E_LOCATION} FROM e) AND {_L_UPDATED} < %s RETURNING 1)"
    " SELECT (SELECT COUNT(*) FROM e), (SELECT COUNT(*) FROM l)"
)


def patch_evse_status(
    *,
    partner: Partner,
    country_code: str,
    party_id: str,
    location_id: str,
    evse_uid: str,
    status: str,
    at: datetime,
) -> None:
    """The hot path of every CPO: an EVSE status PATCH. One conditional UPDATE (found through
    its location in a subquery) and, when it wrote, the location's timestamp (one statement on
    PostgreSQL, two elsewhere); the lookups that
    explain a miss run only then. A stale update changes nothing and is no error (L-02). An EVSE
    brought back from REMOVED publishes its EVSE ID again (`evse_ids.watch`)."""
    where: list[int | str] = [partner.pk, country_code.upper(), party_id.upper(), location_id]
    stamp = connection.ops.adapt_datetimefield_value(at)  # what the ORM would send
    values = [status, stamp, evse_uid, stamp, Evse.Status.REMOVED.value, *where]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PATCH_EVSE_STATUS_AND_TOUCH, [*values, stamp, stamp])
            written = cursor.fetchone()[0]
        else:
            cursor.execute(_PATCH_EVSE_STATUS, values)
            if written := cursor.rowcount:
                cursor.execute(_TOUCH_LOCATION, [stamp, *where, stamp])
        if written:
            return
        # Removed, or stale, or unknown: the second UPDATE tells.
        cursor.execute(_REVIVE_EVSE_STATUS, values)
        if cursor.rowcount:
            cursor.execute(_TOUCH_LOCATION, [stamp, *where, stamp])
            if status != Evse.Status.REMOVED:
                _published_again(where, evse_uid)
            return
    location = {
        "location__partner": partner,
        "location__country_code": where[1],
        "location__party_id": where[2],
        "location__ocpi_id": location_id,
    }
    if not Evse.objects.filter(**location, uid=evse_uid).exists():
        if not Location.objects.filter(
            partner=partner, country_code=where[1], party_id=where[2], ocpi_id=location_id
        ).exists():
            raise UnknownLocation(f"unknown location {country_code}*{party_id} {location_id}")
        raise UnknownObject(f"unknown EVSE {evse_uid} at location {location_id}")


def _published_again(where: list[int | str], evse_uid: str) -> None:
    partner_id, country_code, party_id, location_id = where
    evse_ids.watch(
        Evse.objects.filter(
            location__partner_id=partner_id,
            location__country_code=country_code,
            location__party_id=party_id,
            location__ocpi_id=location_id,
            uid=evse_uid,
        ).values_list("lookup_key", flat=True)
    )


# --- tariffs ----------------------------------------------------------------------------------


@transaction.atomic
def store_tariffs(
    *,
    partner: Partner,
    items: Iterable[tuple[str, str, dict[str, Any]]],
    skip_foreign: bool = False,
) -> tuple[int, int]:
    """Upsert tariffs, keyed by (country_code, party_id, id). Stale ones are skipped; a stored
    tariff that was deleted comes back to life when the CPO sends it again. One another
    connection holds raises HeldByAnother, or with `skip_foreign` is left as it is."""
    items = [(cc.upper(), pid.upper(), data) for cc, pid, data in items]
    keys = {(cc, pid, data["ocpi_id"]) for cc, pid, data in items}
    rows = Tariff.objects.filter(ocpi_id__in={oid for _, _, oid in keys}).values_list(
        "country_code", "party_id", "ocpi_id", "last_updated", "partner_id"
    )
    found = {(cc, pid, oid): (up, o) for cc, pid, oid, up, o in rows if (cc, pid, oid) in keys}
    foreign = {key for key, (_, owner) in found.items() if owner != partner.pk}
    _refuse_foreign(foreign, skip_foreign)
    items = [item for item in items if (item[0], item[1], item[2]["ocpi_id"]) not in foreign]
    held = {key: up for key, (up, _) in found.items() if key not in foreign}
    fresh = _newer(items, held)
    if not fresh:
        return 0, 0
    Tariff.objects.bulk_create(
        [
            Tariff(
                partner=partner,
                country_code=cc,
                party_id=pid,
                ocpi_id=oid,
                deleted_at=None,
                **{f: data[f] for f in TARIFF_FIELDS if f in data},
            )
            for (cc, pid, oid), data in fresh.items()
        ],
        update_conflicts=True,
        unique_fields=["country_code", "party_id", "ocpi_id"],
        update_fields=["deleted_at", *TARIFF_FIELDS],  # never the partner
    )
    return sum(1 for key in fresh if key not in held), len(fresh)


def _tariff(partner: Partner, country_code: str, party_id: str, tariff_id: str) -> Tariff:
    try:
        return Tariff.objects.select_for_update().get(
            partner=partner,
            country_code=country_code.upper(),
            party_id=party_id.upper(),
            ocpi_id=tariff_id,
        )
    except Tariff.DoesNotExist:
        raise UnknownObject(f"unknown tariff {country_code}*{party_id} {tariff_id}") from None


@transaction.atomic
def patch_tariff(
    *, partner: Partner, country_code: str, party_id: str, tariff_id: str, changes: dict[str, Any]
) -> None:
    """2.1.1 only: a partial tariff update."""
    tariff = _tariff(partner, country_code, party_id, tariff_id)
    at = changes.get("last_updated") or timezone.now()
    if tariff.last_updated > at:
        return
    Tariff.objects.filter(pk=tariff.pk).update(**{**changes, "last_updated": at})


@transaction.atomic
def delete_tariff(*, partner: Partner, country_code: str, party_id: str, tariff_id: str) -> None:
    """The CPO retires a tariff. Kept for the sessions and CDRs that name it (TA-01), but no
    longer offered to drivers."""
    tariff = _tariff(partner, country_code, party_id, tariff_id)
    if tariff.deleted_at is None:
        tariff.deleted_at = timezone.now()
        tariff.save(update_fields=["deleted_at"])


# --- ownership --------------------------------------------------------------------------------


def move_party_rows(country_code: str, party_id: str, source: Partner, target: Partner) -> None:
    """An operator moved a party to another connection (`ocpi_peer.parties.move_party`, in its
    transaction): its locations and tariffs go with it, so the new connection keeps them up to
    date. Registered in `StationsConfig.ready()`."""
    party = {"country_code": country_code.upper(), "party_id": party_id.upper()}
    Location.objects.filter(partner=source, **party).update(partner=target)
    Tariff.objects.filter(partner=source, **party).update(partner=target)
