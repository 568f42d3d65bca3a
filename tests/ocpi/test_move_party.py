"""An operator moves a party to another connection in the admin (a CPO that went from a direct
link to a hub): its locations and tariffs go along, the new connection writes under it, the old
one no longer can, and the move is recorded with who, when, from and to."""

import copy

import pytest
from django.contrib.auth.models import User
from django.test import Client

from cpo_simulator import CpoSimulator
from ocpi_peer.models import Partner, PartyEvent, PartyOwnership
from ocpi_peer.registration import invite_partner
from ocpi_peer.transport import dumps
from stations.models import Location, Tariff
from tests.conftest import StartCpo
from tests.ocpi.examples import example

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("operator", "", "secret-pass"))
    return client


def _connect(cpo_simulator: StartCpo, ocpi_base: str, name: str, party: str) -> CpoSimulator:
    _, token_a = invite_partner(name=name)
    cpo = cpo_simulator(country_code="NL", party_id=party)
    assert cpo.register_with(f"{ocpi_base}/versions", token_a).json()["status_code"] == 1000
    return cpo


def _location(last_updated: str) -> dict:
    data = {**copy.deepcopy(example("location_example.json")), "id": "LOC1"}
    return data | {"country_code": "NL", "party_id": "SIM", "last_updated": last_updated}


def test_an_operator_moves_a_party_to_another_connection(
    operator: Client, cpo_simulator: StartCpo, ocpi_base: str
) -> None:
    direct = _connect(cpo_simulator, ocpi_base, "Direct", "SIM")
    hub = _connect(cpo_simulator, ocpi_base, "Hub", "HUB")
    url = "locations/NL/SIM/LOC1"
    assert direct.call_us("PUT", url, json=_location("2026-01-01T00:00:00Z")).status_code == 201
    tariff = {**copy.deepcopy(example("tariff_4_complex.json")), "id": "14"}
    tariff |= {"country_code": "NL", "party_id": "SIM"}
    assert direct.call_us("PUT", "tariffs/NL/SIM/14", content=dumps(tariff)).status_code == 201
    old, new = Partner.objects.get(name="Direct"), Partner.objects.get(name="Hub")
    owned = PartyOwnership.objects.get(party_id="SIM")

    overview = operator.get(f"/admin/ocpi_peer/partner/{old.pk}/change/").content.decode()
    assert (
        "parties it owns" in overview.lower() and f"/partyownership/{owned.pk}/change/" in overview
    )
    same = operator.post(f"/admin/ocpi_peer/partyownership/{owned.pk}/change/", {"partner": old.pk})
    assert same.status_code == 200 and "already belongs" in same.content.decode()
    moved = operator.post(
        f"/admin/ocpi_peer/partyownership/{owned.pk}/change/",
        {"partner": new.pk, "note": "now behind the hub"},
    )
    assert moved.status_code == 302

    owned.refresh_from_db()
    old.refresh_from_db()
    new.refresh_from_db()
    assert owned.partner == new
    assert (old.party_keys, new.party_keys) == ([], ["NL*HUB", "NL*SIM"])
    assert Location.objects.get().partner == new and Tariff.objects.get().partner == new
    event = PartyEvent.objects.get(kind=PartyEvent.Kind.MOVED)
    assert (event.owner, event.partner, event.by) == (old, new, "operator")
    assert event.note == "now behind the hub" and event.at is not None
    assert "now behind the hub" in operator.get("/admin/ocpi_peer/partyevent/").content.decode()

    later = _location("2026-02-01T00:00:00Z") | {"name": "Behind the hub"}
    assert hub.call_us("PUT", url, json=later).status_code == 200  # the new owner updates it
    assert Location.objects.get().name == "Behind the hub"
    refused = direct.call_us("PUT", url, json=_location("2026-03-01T00:00:00Z"))
    assert refused.status_code == 404  # the old connection may no longer write under it
    assert Location.objects.get().name == "Behind the hub"
