"""A connection that has unregistered holds no party: the CPO coming back on a new connection
takes its parties over, with their locations and tariffs, and the takeover is recorded."""

import copy

import pytest

from ocpi_peer.models import Partner, PartyEvent, PartyOwnership
from ocpi_peer.registration import invite_partner, unregister_partner
from stations.models import Location
from tests.conftest import StartCpo
from tests.ocpi.examples import example

pytestmark = pytest.mark.django_db(transaction=True)


def _location(last_updated: str, name: str) -> dict:
    data = {**copy.deepcopy(example("location_example.json")), "id": "LOC1", "name": name}
    return data | {"country_code": "NL", "party_id": "SIM", "last_updated": last_updated}


def test_a_cpo_that_comes_back_after_unregistering_takes_its_party_over(
    cpo_simulator: StartCpo, ocpi_base: str
) -> None:
    old, token_a = invite_partner(name="Before")
    cpo = cpo_simulator(country_code="NL", party_id="SIM")
    assert cpo.register_with(f"{ocpi_base}/versions", token_a).json()["status_code"] == 1000
    url = "locations/NL/SIM/LOC1"
    assert cpo.call_us("PUT", url, json=_location("2026-01-01T00:00:00Z", "A")).status_code == 201
    old.refresh_from_db()
    unregister_partner(partner=old)

    new, token_a = invite_partner(name="After")
    back = cpo_simulator(country_code="NL", party_id="SIM")
    assert back.register_with(f"{ocpi_base}/versions", token_a).json()["status_code"] == 1000
    assert PartyOwnership.objects.get().partner == new
    assert Location.objects.get().partner == new
    assert back.call_us("PUT", url, json=_location("2026-02-01T00:00:00Z", "B")).status_code == 200
    assert Location.objects.get().name == "B"
    event = PartyEvent.objects.get(kind=PartyEvent.Kind.CLAIMED, partner=new)
    assert event.owner == old and "had unregistered" in event.note
    assert Partner.objects.get(pk=old.pk).party_keys == []


def test_a_party_of_a_live_connection_is_not_taken_over(
    cpo_simulator: StartCpo, ocpi_base: str
) -> None:
    _, token_a = invite_partner(name="Live")
    cpo = cpo_simulator(country_code="NL", party_id="SIM")
    assert cpo.register_with(f"{ocpi_base}/versions", token_a).json()["status_code"] == 1000
    _, token_a = invite_partner(name="Claimant")
    other = cpo_simulator(country_code="NL", party_id="SIM")
    assert other.register_with(f"{ocpi_base}/versions", token_a).json()["status_code"] == 2001
    assert PartyOwnership.objects.get().partner.name == "Live"
