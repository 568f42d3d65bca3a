"""Changes at the CPO: a touched location shows up in a `date_from` pull, and pushes (PATCH of an
EVSE status, PUT of a location or tariff) reach the eMSP's Receivers and stay in the CPO's data."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from cpo_simulator import CpoSimulator, SimulatorError
from cpo_simulator.transport import authorization, load_json
from tests.simulator.emsp import RecordingEmsp
from tests.simulator.pulling import EPOCH, crawl, headers_for, stamp


@pytest.fixture(params=["2.2.1", "2.1.1"])
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def emsp(version: str) -> Iterator[RecordingEmsp]:
    receiver = RecordingEmsp(version)
    yield receiver
    receiver.close()


@pytest.fixture
def sim(version: str, emsp: RecordingEmsp) -> Iterator[CpoSimulator]:
    with CpoSimulator(versions=(version,), location_count=20, ad_hoc_tariffs=True) as simulator:
        emsp.connect(simulator)
        yield simulator


def pull(sim: CpoSimulator, query: str) -> list[dict]:
    version = sim.emsp_version or "2.2.1"
    headers = {
        "Authorization": authorization(sim.current_token or "", base64_form=sim.base64_for(version))
    }
    url = f"{sim.base_url}/ocpi/{version}/locations{query}"
    return [item for page in crawl(url, headers) for item in load_json(page.content)["data"]]


def test_a_touched_location_joins_a_date_from_pull_in_its_place() -> None:
    with CpoSimulator(location_count=100, page_size=7) as sim:
        moment = sim.touch(5, at=EPOCH + timedelta(seconds=1000, microseconds=5))
        headers = headers_for(sim)
        base = f"{sim.base_url}/ocpi/2.2.1/locations"
        after = [
            item
            for page in crawl(f"{base}?date_from={stamp(50)}", headers)
            for item in page.json()["data"]
        ]
        before = [
            item
            for page in crawl(f"{base}?date_from={stamp(50)}&date_to={stamp(60)}", headers)
            for item in page.json()["data"]
        ]
        total = httpx.get(f"{base}?date_from={stamp(50)}", headers=headers)
    assert moment == EPOCH + timedelta(seconds=1000)
    assert [item["id"] for item in after] == ["LOC00006"] + [f"LOC{n:05d}" for n in range(51, 101)]
    assert after[0]["last_updated"] == stamp(1000)
    assert {evse["last_updated"] for evse in after[0]["evses"]} == {stamp(1000)}
    assert total.headers["X-Total-Count"] == "51"
    assert [item["id"] for item in before] == [f"LOC{n:05d}" for n in range(51, 61)]


def test_touch_defaults_to_now() -> None:
    with CpoSimulator(location_count=3) as sim:
        before = datetime.now(UTC).replace(microsecond=0)
        moment = sim.touch(2)
    assert moment >= before and moment.tzinfo is not None
    assert sim.location(2)["last_updated"] == moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert sim.location(1)["last_updated"] == stamp(1)


def test_an_evse_status_push_is_a_patch_with_the_current_token(
    sim: CpoSimulator, emsp: RecordingEmsp, version: str
) -> None:
    at = datetime(2026, 3, 1, 12, 0, 7, 900, tzinfo=UTC)
    response = sim.push_evse_status(3, 2, "CHARGING", at=at)

    assert response.status_code == 200 and response.json()["status_code"] == 1000
    (push,) = emsp.pushes("PATCH")
    assert push.path == f"/{version}/locations/NL/SIM/LOC00004/LOC00004-2"
    assert push.body == {"status": "CHARGING", "last_updated": "2026-03-01T12:00:07Z"}
    assert push.token == RecordingEmsp.token_c
    location = sim.location(3)
    assert location["evses"][1]["status"] == "CHARGING"
    assert location["evses"][1]["last_updated"] == "2026-03-01T12:00:07Z"
    assert location["last_updated"] == "2026-03-01T12:00:07Z"  # the parent moves too (L-01)
    assert location["evses"][0]["last_updated"] == stamp(3)
    pulled = pull(sim, "?date_from=2026-03-01T00:00:00Z")
    assert [item["id"] for item in pulled] == ["LOC00004"]
    assert pulled[0]["evses"][1]["status"] == "CHARGING"


def test_a_later_push_wins_and_an_earlier_one_does_not_move_the_location_back(
    sim: CpoSimulator,
) -> None:
    later = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    sim.push_evse_status(0, 1, "CHARGING", at=later)
    sim.push_evse_status(0, 2, "OUTOFORDER", at=later - timedelta(hours=1))
    sim.push_evse_status(0, 1, "AVAILABLE", at=later + timedelta(minutes=1))
    location = sim.location(0)
    assert [evse["status"] for evse in location["evses"]] == ["AVAILABLE", "OUTOFORDER"]
    assert location["last_updated"] == "2026-03-01T12:01:00Z"


def test_a_location_and_a_tariff_are_pushed_whole(
    sim: CpoSimulator, emsp: RecordingEmsp, version: str
) -> None:
    sim.push_evse_status(2, 1, "BLOCKED")
    location = sim.push_location(2)
    tariff = sim.push_tariff("TARIFF-DC")

    assert location.status_code == tariff.status_code == 200
    put_location, put_tariff = emsp.pushes("PUT")
    assert put_location.path == f"/{version}/locations/NL/SIM/LOC00003"
    assert put_location.body == sim.location(2) and put_location.body["evses"][0]["status"] == (
        "BLOCKED"
    )
    assert put_tariff.path == f"/{version}/tariffs/NL/SIM/TARIFF-DC"
    assert put_tariff.body == sim.tariff("TARIFF-DC")
    assert put_tariff.token == RecordingEmsp.token_c


def test_pushes_need_an_emsp_and_valid_arguments() -> None:
    with CpoSimulator(location_count=2) as sim:
        with pytest.raises(SimulatorError, match="locations"):
            sim.push_evse_status(0, 1, "CHARGING")
        assert sim.location(0)["evses"][0]["status"] == "AVAILABLE"  # nothing recorded
        with pytest.raises(ValueError):
            sim.push_evse_status(2, 1, "CHARGING")
        with pytest.raises(ValueError):
            sim.push_evse_status(0, 3, "CHARGING")
        with pytest.raises(ValueError):
            sim.push_evse_status(0, 1, "BROKEN")
        with pytest.raises(ValueError):
            sim.push_tariff("TARIFF-XX")
        with pytest.raises(ValueError):
            sim.touch(-1)


def test_only_changed_locations_are_kept(sim: CpoSimulator) -> None:
    sim.touch(1)
    sim.push_evse_status(1, 2, "UNKNOWN")
    sim.push_evse_status(7, 1, "CHARGING")
    assert set(sim.changed_locations()) == {1, 7}
