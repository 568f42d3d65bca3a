"""A charger a driver can pay at: a registered CPO with one location, one AC EVSE with a
Type 2 connector and a 2.2.1 tariff, stored as a CPO's push stores it."""

from __future__ import annotations

from decimal import Decimal

from ocpi_peer import versions
from ocpi_peer.models import Partner, PartnerEndpoint, PartnerParty
from stations import services
from stations.models import Evse
from tests.stations import station_data

EVSE_ID = "DE*ABC*ELOC1"
TARIFF = {
    "id": "AC",
    "currency": "EUR",
    "type": "AD_HOC_PAYMENT",
    "elements": [
        {
            "price_components": [
                {"type": "FLAT", "price": Decimal("1.00"), "vat": Decimal("19"), "step_size": 1}
            ]
        },
        {
            "price_components": [
                {"type": "ENERGY", "price": Decimal("0.50"), "vat": Decimal("19"), "step_size": 1}
            ]
        },
    ],
    "last_updated": "2026-01-01T00:00:00Z",
}


def registered_cpo() -> Partner:
    partner = station_data.partner()
    partner.status = Partner.Status.REGISTERED
    partner.version = "2.2.1"
    partner.save()
    PartnerParty.objects.get_or_create(
        partner=partner, role="CPO", country_code="DE", party_id="ABC"
    )
    PartnerEndpoint.objects.get_or_create(
        partner=partner,
        module="commands",
        role="RECEIVER",
        url="http://127.0.0.1:9/ocpi/2.2.1/commands",
    )
    return partner


def charger(
    *, status: str = "AVAILABLE", tariff: dict | None = None, version: str = "2.2.1"
) -> Evse:
    """`tariff` as the CPO pushes it in `version` (2.2.1 or 2.3.0: objects carry their party)."""
    partner = registered_cpo()
    station_data.store_location(tariff_ids=["AC"], amperage=32)
    spec = versions.get(version)
    data = spec.read(spec.tariff, {**(tariff or TARIFF), "country_code": "DE", "party_id": "ABC"})
    services.store_tariffs(
        partner=partner, items=[(data.pop("country_code"), data.pop("party_id"), data)]
    )
    evse = Evse.objects.get(evse_id=EVSE_ID)
    if status != "AVAILABLE":
        Evse.objects.filter(pk=evse.pk).update(status=status)
        evse.refresh_from_db()
    return evse
