"""CPOs publishing EVSE IDs over real HTTP, honestly or not, for the tests of which charger a
sticker opens: a simulated CPO's own location pushed as it serves it, or a copy of it PUT under
another id with the EVSE ID a test chooses."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from cpo_simulator import CpoSimulator
from tests.payments.charging import push_stations

LATER = "2030-01-01T00:00:00Z"  # newer than anything the simulator serves


def publish_as_own(cpo: CpoSimulator, evse_id: str, *, location_id: str = "COPY") -> None:
    """`cpo` PUTs a location of its own party (its first one, with its tariffs pushed) whose
    first EVSE carries `evse_id`, newer than anything stored."""
    push_stations(cpo)
    location: dict[str, Any] = copy.deepcopy(cpo.location(0))
    evse = location["evses"][0]
    evse |= {"uid": f"{location_id}-1", "evse_id": evse_id, "last_updated": LATER}
    location |= {
        "id": location_id,
        "name": f"{location_id} site",
        "evses": [evse],
        "last_updated": LATER,
    }
    url = f"locations/{location['country_code']}/{location['party_id']}/{location_id}"
    answer = cpo.call_us("PUT", url, json=location)
    assert answer.json()["status_code"] == 1000, answer.text


def connected(cpo_simulator, ocpi_base: str, *, partner_name: str, **options: Any) -> CpoSimulator:
    """A CPO simulator registered with us like `connected_cpo`'s, but its business name
    (`name`, sent in its credentials) and its connection's name (`partner_name`, the name an
    operator gave its invitation) both set by the test."""
    from ocpi_peer.registration import invite_partner

    _, token_a = invite_partner(name=partner_name)
    cpo = cpo_simulator(cdr_fault="no_cdr", **options)
    answer = cpo.register_with(f"{ocpi_base}/versions", token_a)
    assert answer.json()["status_code"] == 1000, answer.text
    return cpo


def landing(base_url: str, evse_id: str, language: str = "en") -> httpx.Response:
    return httpx.get(f"{base_url}/charge/{evse_id}/", headers={"Accept-Language": language})


def evse_api(base_url: str, evse_id: str) -> httpx.Response:
    return httpx.get(f"{base_url}/api/v1/evses/{evse_id}", headers={"Accept-Language": "en"})


def start_checkout(base_url: str, evse_id: str) -> httpx.Response:
    return httpx.post(
        f"{base_url}/api/v1/checkouts", json={"evse_id": evse_id, "connector_id": "1"}
    )
