"""The chargers near a driver (`GET /api/v1/locations?near=lat,lon`, and `/charge/` without an
ID): published locations only, nearest first, within a bounded radius and count, with each
charger's status and price per kWh incl. VAT, in a fixed number of queries however many there
are. Bad input is a 400 with a sentence, never a 500."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from stations.models import Evse, Location
from tests.payments.charger import charger
from tests.stations.station_data import store_location

pytestmark = pytest.mark.django_db

HERE = "52.520000,13.405000"  # Berlin, Alexanderplatz


def site(location_id: str, lat: str, lon: str, **changes: object) -> Location:
    """Another location of the test CPO, with the test tariff, moved to `lat`,`lon`."""
    store_location(location_id=location_id, tariff_ids=["AC"], amperage=32)
    Location.objects.filter(ocpi_id=location_id).update(latitude=lat, longitude=lon, **changes)
    return Location.objects.get(ocpi_id=location_id)


def test_it_lists_published_chargers_nearest_first(client: Client) -> None:
    charger()  # LOC1 at 52.520008,13.404954: a metre away
    site("FAR", "52.600000", "13.405000")  # about 9 km north
    site("NEAR", "52.530000", "13.405000")  # about 1.1 km north
    site("HIDDEN", "52.521000", "13.405000", publish=False)
    site("AWAY", "53.550000", "10.000000")  # Hamburg: beyond the radius
    Evse.objects.filter(location__ocpi_id="NEAR").update(status="CHARGING")
    answer = client.get(f"/api/v1/locations?near={HERE}", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200
    found = answer.json()["locations"]
    assert [loc["id"] for loc in found] == ["LOC1", "NEAR", "FAR"]
    first, near = found[0], found[1]
    assert first["distance_text"] == "10 m" and near["distance_text"] == "1.1 km"
    (evse,) = first["evses"]
    assert evse["status"] == "AVAILABLE" and evse["available"] is True
    assert evse["price_per_kwh"] == ["0.5950"] and evse["price_text"] == "€0.595/kWh"
    assert evse["charge_path"] == "/charge/DE*ABC*ELOC1/"
    assert near["evses"][0]["status"] == "CHARGING" and near["available"] == 0
    assert first["maps_url"].startswith("https://www.google.com/maps/dir/?api=1&destination=52.52")


def test_the_radius_and_count_bound_the_answer(client: Client) -> None:
    charger()
    site("NEAR", "52.530000", "13.405000")
    site("FAR", "52.600000", "13.405000")
    small = client.get(f"/api/v1/locations?near={HERE}&radius_km=5").json()["locations"]
    assert [loc["id"] for loc in small] == ["LOC1", "NEAR"]
    one = client.get(f"/api/v1/locations?near={HERE}&limit=1").json()["locations"]
    assert [loc["id"] for loc in one] == ["LOC1"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "near=",
        "near=Berlin",
        "near=52.5",
        "near=91,13",
        "near=52,181",
        "near=1e5,2",
        "near=52.5,13.4&radius_km=0",
        "near=52.5,13.4&radius_km=51",
        "near=52.5,13.4&radius_km=five",
        "near=52.5,13.4&limit=500",
        "near=52.5,13.4&limit=-1",
        "near=%00",
    ],
)
def test_bad_input_is_a_400_with_a_sentence(client: Client, query: str) -> None:
    answer = client.get(f"/api/v1/locations?{query}")
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == "invalid" and len(body["detail"]) > 10


def test_it_asks_the_same_few_queries_for_many_locations(client: Client) -> None:
    charger()
    with CaptureQueriesContext(connection) as few:
        client.get(f"/api/v1/locations?near={HERE}")
    for n in range(12):
        site(f"L{n}", f"52.5{n:02d}000", "13.410000")
    with CaptureQueriesContext(connection) as many:
        answer = client.get(f"/api/v1/locations?near={HERE}")
    assert len(answer.json()["locations"]) == 13
    assert len(many) == len(few) <= 6, [q["sql"] for q in many.captured_queries]


def test_the_page_finds_chargers_by_position_postal_code_or_city(client: Client) -> None:
    charger()
    site("NEAR", "52.530000", "13.405000")
    by_position = client.get(f"/charge/?near={HERE}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert by_position.index("DE*ABC*ELOC1") < by_position.index("DE*ABC*ENEAR")
    assert '<a href="/charge/DE*ABC*ELOC1/">DE*ABC*ELOC1</a>' in by_position
    assert "€0.595/kWh" in by_position and "Directions" in by_position
    for place in ("10115", "berlin"):
        page = client.get(f"/charge/?place={place}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "DE*ABC*ENEAR" in page, place
    unknown = client.get("/charge/?place=Atlantis", HTTP_ACCEPT_LANGUAGE="en")
    assert unknown.status_code == 404
    assert "we know no charger at “Atlantis”" in unknown.content.decode()
    bad = client.get("/charge/?near=here", HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 400 and "latitude,longitude" in bad.content.decode()
