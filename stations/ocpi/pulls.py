"""How a pulled page of locations or tariffs is stored: by the same services as a push, so a
page seen twice writes nothing. Registered with `ocpi_peer.sync` in `StationsConfig.ready()`."""

from typing import Any

from ocpi_peer.models import Partner
from ocpi_peer.sync import Pulled
from stations import services


def store_locations(partner: Partner, objects: list[Pulled]) -> int:
    by_owner: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for each in objects:
        by_owner.setdefault((each.country_code, each.party_id), []).append(each.fields)
    written = 0
    for (country_code, party_id), locations in by_owner.items():
        _, stored = services.store_locations(
            partner=partner,
            country_code=country_code,
            party_id=party_id,
            locations=locations,
            skip_foreign=True,  # another connection's location stays with it
        )
        written += stored
    return written


def store_tariffs(partner: Partner, objects: list[Pulled]) -> int:
    _, written = services.store_tariffs(
        partner=partner,
        items=[(each.country_code, each.party_id, each.fields) for each in objects],
        skip_foreign=True,
    )
    return written
