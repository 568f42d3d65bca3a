"""A CPO pushes its locations, EVSEs and connectors to us (Locations receiver, checklist §4)."""

import copy
from datetime import UTC, datetime

import pytest

from ocpi_peer import versions
from ocpi_peer.models import Partner
from stations import evse_ids, selectors, services
from stations.models import Evse, Location
from tests.ocpi.examples import example, example_names, meaningful

pytestmark = pytest.mark.django_db(transaction=True)


def location(cc: str = "NL", pid: str = "SIM", location_id: str = "LOC1") -> dict:
    data = copy.deepcopy(example("location_example.json"))
    return {**data, "country_code": cc, "party_id": pid, "id": location_id}


def test_a_pushed_location_is_stored_and_read_back_as_pushed(connected_cpo) -> None:
    cpo = connected_cpo()
    pushed = location()
    url = "locations/NL/SIM/LOC1"
    created = cpo.call_us("PUT", url, json=pushed)
    assert created.status_code == 201 and created.json()["status_code"] == 1000
    assert cpo.call_us("PUT", url, json=pushed).status_code == 200  # the same again: an update
    read = cpo.call_us("GET", url).json()
    assert read["status_code"] == 1000
    assert meaningful(read["data"]) == meaningful(pushed)
    evse = cpo.call_us("GET", f"{url}/3256").json()["data"]
    assert evse["evse_id"] == "BE*BEC*E041503001"
    connector = cpo.call_us("GET", f"{url}/3256/1").json()["data"]
    assert connector["standard"] == "IEC_62196_T2"


def test_another_partys_location_is_refused(connected_cpo) -> None:
    cpo = connected_cpo()
    response = cpo.call_us("PUT", "locations/DE/XYZ/LOC1", json=location("DE", "XYZ"))
    assert response.status_code == 404
    assert response.json()["status_code"] == 2001
    assert not Location.objects.exists()


def test_the_body_must_match_the_url(connected_cpo) -> None:
    cpo = connected_cpo()
    response = cpo.call_us("PUT", "locations/NL/SIM/OTHER", json=location())
    assert response.json()["status_code"] == 2001
    assert "differs from the URL" in response.json()["status_message"]


def test_an_evse_for_an_unknown_location_is_2003_and_nothing_is_saved(connected_cpo) -> None:
    cpo = connected_cpo()
    evse = location()["evses"][0]
    response = cpo.call_us("PUT", f"locations/NL/SIM/NOWHERE/{evse['uid']}", json=evse)
    assert response.status_code == 404
    assert response.json()["status_code"] == 2003
    assert not Evse.objects.exists()


def test_a_connector_for_an_unknown_evse_is_refused(connected_cpo) -> None:
    cpo = connected_cpo()
    cpo.call_us("PUT", "locations/NL/SIM/LOC1", json=location())
    connector = location()["evses"][0]["connectors"][0]
    response = cpo.call_us("PUT", "locations/NL/SIM/LOC1/NOPE/1", json=connector)
    assert response.status_code == 404
    assert response.json()["status_code"] == 2001


def test_an_evse_put_adds_it_and_moves_the_location_timestamp(connected_cpo) -> None:
    cpo = connected_cpo()
    cpo.call_us("PUT", "locations/NL/SIM/LOC1", json=location())
    evse = {
        **location()["evses"][0],
        "uid": "9999",
        "evse_id": "NL*SIM*E9999",
        "last_updated": "2030-01-01T00:00:00Z",
    }
    assert cpo.call_us("PUT", "locations/NL/SIM/LOC1/9999", json=evse).status_code == 201
    stored = Location.objects.get()
    assert stored.evses.count() == 3
    assert stored.last_updated == datetime(2030, 1, 1, tzinfo=UTC)


def test_a_status_patch_changes_the_status_and_the_parents_timestamp(connected_cpo) -> None:
    cpo = connected_cpo()
    cpo.call_us("PUT", "locations/NL/SIM/LOC1", json=location())
    patch = {"status": "CHARGING", "last_updated": "2030-06-24T12:39:09Z"}
    response = cpo.call_us("PATCH", "locations/NL/SIM/LOC1/3256", json=patch)
    assert response.json()["status_code"] == 1000
    evse = Evse.objects.get(uid="3256")
    assert evse.status == "CHARGING"
    assert evse.location.last_updated == datetime(2030, 6, 24, 12, 39, 9, tzinfo=UTC)


def test_a_stale_patch_does_not_overwrite_newer_data(connected_cpo) -> None:
    cpo = connected_cpo()
    cpo.call_us("PUT", "locations/NL/SIM/LOC1", json=location())
    cpo.call_us(
        "PATCH",
        "locations/NL/SIM/LOC1/3256",
        json={"status": "CHARGING", "last_updated": "2030-01-01T10:00:00Z"},
    )
    late = cpo.call_us(
        "PATCH",
        "locations/NL/SIM/LOC1/3256",
        json={"status": "AVAILABLE", "last_updated": "2030-01-01T09:00:00Z"},
    )
    assert late.json()["status_code"] == 1000  # accepted, but older than what we hold
    assert Evse.objects.get(uid="3256").status == "CHARGING"


def test_a_stale_put_does_not_overwrite_newer_data(connected_cpo) -> None:
    cpo = connected_cpo()
    cpo.call_us(
        "PUT",
        "locations/NL/SIM/LOC1",
        json={**location(), "name": "New", "last_updated": "2030-01-01T00:00:00Z"},
    )
    cpo.call_us(
        "PUT",
        "locations/NL/SIM/LOC1",
        json={**location(), "name": "Old", "last_updated": "2029-01-01T00:00:00Z"},
    )
    assert Location.objects.get().name == "New"


def test_a_221_patch_needs_last_updated(connected_cpo) -> None:
    cpo = connected_cpo()
    cpo.call_us("PUT", "locations/NL/SIM/LOC1", json=location())
    response = cpo.call_us("PATCH", "locations/NL/SIM/LOC1/3256", json={"status": "CHARGING"})
    assert response.status_code == 200
    assert response.json()["status_code"] == 2001
    assert "last_updated" in response.json()["status_message"]


def test_patches_of_location_fields_and_connector_tariffs(connected_cpo) -> None:
    cpo = connected_cpo()
    cpo.call_us("PUT", "locations/NL/SIM/LOC1", json=location())
    cpo.call_us(
        "PATCH",
        "locations/NL/SIM/LOC1",
        json={"name": "Gent Noord", "last_updated": "2030-01-01T00:00:00Z"},
    )
    cpo.call_us(
        "PATCH",
        "locations/NL/SIM/LOC1/3256/1",
        json={"tariff_ids": ["A", "B"], "last_updated": "2030-01-02T00:00:00Z"},
    )
    stored = Location.objects.get()
    assert stored.name == "Gent Noord"
    connector = stored.evses.get(uid="3256").connectors.get(connector_id="1")
    assert connector.tariff_ids == ["A", "B"]
    assert stored.address == "F.Rooseveltlaan 3A"  # untouched by the patches


def test_a_patch_for_an_unknown_object_is_404(connected_cpo) -> None:
    cpo = connected_cpo()
    response = cpo.call_us(
        "PATCH",
        "locations/NL/SIM/NOPE/1",
        json={"status": "CHARGING", "last_updated": "2030-01-01T00:00:00Z"},
    )
    assert response.status_code == 404
    assert response.json()["status_code"] == 2003


def test_removed_evses_vanish_from_drivers_view(connected_cpo) -> None:
    cpo = connected_cpo()
    cpo.call_us("PUT", "locations/NL/SIM/LOC1", json=location())
    assert evse_ids.find("be*bec*e041503001").evse is not None  # as a sticker might print it
    cpo.call_us(
        "PATCH",
        "locations/NL/SIM/LOC1/3256",
        json={"status": "REMOVED", "last_updated": "2030-01-01T00:00:00Z"},
    )
    assert evse_ids.find("BE*BEC*E041503001").evse is None
    assert evse_ids.find("BEBECE041503002").evse is not None


def test_211_locations_come_without_party_fields_and_patches_need_no_timestamp(
    connected_cpo,
) -> None:
    cpo = connected_cpo(version="2.1.1")
    data = location()
    for key in ("country_code", "party_id", "publish", "parking_type"):
        data.pop(key)
    data["type"] = "ON_STREET"
    for evse in data["evses"]:
        for connector in evse["evses"] if "evses" in evse else evse["connectors"]:
            connector["voltage"] = connector.pop("max_voltage")
            connector["amperage"] = connector.pop("max_amperage")
            connector["tariff_id"] = connector.pop("tariff_ids")[0]
    assert cpo.call_us("PUT", "locations/NL/SIM/LOC1", json=data).status_code == 201
    read = cpo.call_us("GET", "locations/NL/SIM/LOC1").json()["data"]
    assert "country_code" not in read and read["type"] == "ON_STREET"
    assert read["evses"][0]["connectors"][0]["voltage"] == 220
    assert (
        cpo.call_us("PATCH", "locations/NL/SIM/LOC1/3256", json={"status": "BLOCKED"}).json()[
            "status_code"
        ]
        == 1000
    )
    assert Evse.objects.get(uid="3256").status == "BLOCKED"


@pytest.mark.parametrize("name", example_names("location_example*.json"))
def test_every_official_location_example_round_trips(name: str) -> None:
    data = example(name)
    spec = versions.get("2.2.1")
    partner = Partner.objects.create(name="Examples")
    parsed = spec.read(spec.location, copy.deepcopy(data))
    services.store_locations(
        partner=partner,
        country_code=parsed.pop("country_code"),
        party_id=parsed.pop("party_id"),
        locations=[parsed],
    )
    stored = selectors.location_object(
        partner, data["country_code"], data["party_id"], data["id"], None, None
    )
    assert meaningful(spec.location().to_representation(stored)) == meaningful(data)
