"""Stations and tariffs stored the way CPOs' pushes store them: OCPI JSON read by the version's
serializers, then written by `stations.services`. So tests see what production holds (numbers
as strings, 2.1.1 tariffs excl. VAT), not hand-made rows."""

from __future__ import annotations

import copy
from typing import Any

from ocpi_peer import versions
from ocpi_peer.models import Partner
from stations import services
from stations.models import Connector, Tariff

UPDATED = "2026-01-01T00:00:00Z"


def partner() -> Partner:
    return Partner.objects.get_or_create(name="Test CPO")[0]


def store_location(
    *,
    version: str = "2.2.1",
    location_id: str = "LOC1",
    country_code: str = "DE",
    party_id: str = "ABC",
    country: str = "DEU",
    time_zone: str | None = "Europe/Berlin",
    power_type: str = "AC_3_PHASE",
    voltage: int = 230,
    amperage: int = 16,
    max_electric_power: int | None = None,
    tariff_ids: list[str] | None = None,
) -> Connector:
    """One location with one EVSE and one connector; returns the stored connector."""
    connector: dict[str, Any] = {
        "id": "1",
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": power_type,
        "last_updated": UPDATED,
    }
    location: dict[str, Any] = {
        "id": location_id,
        "address": "Hauptstraße 1",
        "city": "Berlin",
        "postal_code": "10115",
        "country": country,
        "coordinates": {"latitude": "52.520008", "longitude": "13.404954"},
        "evses": [
            {
                "uid": f"{location_id}-E1",
                "evse_id": f"{country_code}*{party_id}*E{location_id}",
                "status": "AVAILABLE",
                "connectors": [connector],
                "last_updated": UPDATED,
            }
        ],
        "last_updated": UPDATED,
    }
    if time_zone is not None:
        location["time_zone"] = time_zone
    if versions.get(version).objects_carry_party:  # 2.2.1 and 2.3.0
        location |= {"country_code": country_code, "party_id": party_id, "publish": True}
        connector |= {"max_voltage": voltage, "max_amperage": amperage}
        connector["tariff_ids"] = tariff_ids or []
        if max_electric_power is not None:
            connector["max_electric_power"] = max_electric_power
    else:  # 2.1.1: a parking type, voltage/amperage, one tariff_id
        location["type"] = "ON_STREET"
        connector |= {"voltage": voltage, "amperage": amperage}
        if tariff_ids:
            (connector["tariff_id"],) = tariff_ids
    spec = versions.get(version)
    parsed = spec.read(spec.location, location)
    parsed.pop("country_code", None)
    parsed.pop("party_id", None)
    services.store_locations(
        partner=partner(), country_code=country_code, party_id=party_id, locations=[parsed]
    )
    return Connector.objects.select_related("evse__location").get(
        evse__location__ocpi_id=location_id, evse__location__country_code=country_code
    )


def store_tariff(
    elements: list[dict[str, Any]],
    *,
    version: str = "2.2.1",
    tariff_id: str = "T1",
    country_code: str = "DE",
    party_id: str = "ABC",
    currency: str = "EUR",
    **fields: Any,
) -> Tariff:
    """A tariff as the CPO would PUT it; `fields` adds type, start_date_time, min_price …"""
    data: dict[str, Any] = {
        "id": tariff_id,
        "currency": currency,
        "elements": copy.deepcopy(elements),
        "last_updated": UPDATED,
        **fields,
    }
    if versions.get(version).objects_carry_party:  # 2.2.1 and 2.3.0
        data |= {"country_code": country_code, "party_id": party_id}
    spec = versions.get(version)
    parsed = spec.read(spec.tariff, data)
    parsed.pop("country_code", None)
    parsed.pop("party_id", None)
    services.store_tariffs(partner=partner(), items=[(country_code, party_id, parsed)])
    return Tariff.objects.get(country_code=country_code, party_id=party_id, ocpi_id=tariff_id)


def energy(price: str, vat: str | None = "19", **restrictions: Any) -> dict[str, Any]:
    """An element with one ENERGY component; numbers as strings, the way JSON keeps them exact."""
    component: dict[str, Any] = {"type": "ENERGY", "price": price, "step_size": 1}
    if vat is not None:
        component["vat"] = vat
    element: dict[str, Any] = {"price_components": [component]}
    if restrictions:
        element["restrictions"] = restrictions
    return element
