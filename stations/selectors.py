"""Reads of station data that several callers share."""

from __future__ import annotations

from django.db import router

from ocpi_peer.models import Partner
from stations.models import Connector, Evse, Location, Tariff

# The statement reading an EVSE's connectors, compiled once per database alias: compiling it
# cost a charger's page more than running it.
_CONNECTORS_SQL: dict[str, str] = {}


def location_object(
    partner: Partner,
    country_code: str,
    party_id: str,
    location_id: str,
    evse_uid: str | None,
    connector_id: str | None,
) -> Location | Evse | Connector | None:
    """The partner's location, EVSE or connector at an OCPI receiver URL, or None."""
    key = {
        "partner": partner,
        "country_code": country_code.upper(),
        "party_id": party_id.upper(),
        "ocpi_id": location_id,
    }
    if evse_uid is None:
        return Location.objects.filter(**key).prefetch_related("evses__connectors").first()
    evses = Evse.objects.filter(uid=evse_uid, **{f"location__{k}": v for k, v in key.items()})
    if connector_id is None:
        return evses.prefetch_related("connectors").first()
    return Connector.objects.filter(connector_id=connector_id, evse__in=evses).first()


def tariff(partner: Partner, country_code: str, party_id: str, tariff_id: str) -> Tariff | None:
    """A tariff of the partner's that the CPO has not retired."""
    return Tariff.objects.filter(
        partner=partner,
        country_code=country_code.upper(),
        party_id=party_id.upper(),
        ocpi_id=tariff_id,
        deleted_at=None,
    ).first()


def connectors_of(evse: Evse) -> list[Connector]:
    """The EVSE's connectors, read now in one statement, each knowing `evse` as its EVSE (so
    that nothing reads the EVSE or its location again)."""
    alias = router.db_for_read(Connector)
    sql = _CONNECTORS_SQL.get(alias)
    if sql is None:
        query = Connector.objects.filter(evse_id=0).query
        sql = _CONNECTORS_SQL[alias] = query.get_compiler(alias).as_sql()[0]
    connectors = list(Connector.objects.raw(sql, [evse.pk]).using(alias))
    for connector in connectors:
        connector.evse = evse
    return connectors
