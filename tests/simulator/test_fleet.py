"""The fleet's shape: EVSEs per location and connectors per EVSE, generated from numbers."""

import httpx

from cpo_simulator import CpoSimulator
from tests.simulator.pulling import headers_for


def test_the_default_location_has_an_ac_and_a_dc_evse_with_two_connectors_each() -> None:
    with CpoSimulator(location_count=1) as sim:
        location = sim.location(0)
    ac, dc = location["evses"]
    assert [c["standard"] for c in ac["connectors"]] == ["IEC_62196_T2", "DOMESTIC_F"]
    assert [c["standard"] for c in dc["connectors"]] == ["IEC_62196_T2_COMBO", "CHADEMO"]
    assert (ac["uid"], dc["uid"]) == ("LOC00001-1", "LOC00001-2")


def test_more_evses_alternate_ac_and_dc_and_more_connectors_repeat_the_kinds() -> None:
    with CpoSimulator(location_count=2, evses_per_location=5, connectors_per_evse=3) as sim:
        response = httpx.get(f"{sim.base_url}/ocpi/2.2.1/locations", headers=headers_for(sim))
    location = response.json()["data"][1]
    evses = location["evses"]
    assert [e["uid"] for e in evses] == [f"LOC00002-{n}" for n in range(1, 6)]
    assert len({e["evse_id"] for e in evses}) == 5
    kinds = ["DC" if e["connectors"][0]["power_type"] == "DC" else "AC" for e in evses]
    assert kinds == ["AC", "DC", "AC", "DC", "AC"]
    for evse in evses:
        assert [c["id"] for c in evse["connectors"]] == ["1", "2", "3"]
        assert evse["connectors"][2]["standard"] == evse["connectors"][0]["standard"]


def test_a_location_without_evses_is_still_a_location() -> None:
    with CpoSimulator(versions=("2.1.1",), location_count=1, evses_per_location=0) as sim:
        response = httpx.get(
            f"{sim.base_url}/ocpi/2.1.1/locations/LOC00001", headers=headers_for(sim, "2.1.1")
        )
    assert response.json()["data"]["evses"] == []


def test_the_fleet_shape_reaches_single_object_gets() -> None:
    with CpoSimulator(location_count=3, evses_per_location=3, connectors_per_evse=1) as sim:
        headers = headers_for(sim)
        base = f"{sim.base_url}/ocpi/2.2.1/locations"
        evse = httpx.get(f"{base}/LOC00003/LOC00003-3", headers=headers).json()["data"]
        missing = httpx.get(f"{base}/LOC00003/LOC00003-4", headers=headers)
        connector = httpx.get(f"{base}/LOC00003/LOC00003-3/2", headers=headers)
    assert evse == sim.location(2)["evses"][2]
    assert missing.status_code == 404
    assert connector.status_code == 404
