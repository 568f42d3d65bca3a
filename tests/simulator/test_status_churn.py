"""Status churn: random EVSE status PATCHes to the registered eMSP, at a bounded rate."""

import re
import threading

import pytest

from cpo_simulator import CpoSimulator
from tests.helpers import wait_until
from tests.simulator.emsp import RecordingEmsp

PATCH_PATH = re.compile(r"^/2\.2\.1/locations/NL/SIM/(LOC\d{5})/(LOC\d{5})-([1-3])$")


def test_churn_pushes_random_statuses_once_registered_and_stops_with_the_simulator() -> None:
    emsp = RecordingEmsp()
    try:
        sim = CpoSimulator(location_count=30, evses_per_location=3, status_churn=100).start()
        try:
            emsp.connect(sim)
            wait_until(lambda: len(emsp.pushes("PATCH")) >= 10, timeout=20)
        finally:
            sim.stop()
        after_stop = len(emsp.pushes())
        assert not [t for t in threading.enumerate() if t.name.startswith("cpo-simulator-churn")]
    finally:
        emsp.close()
    pushes = emsp.pushes("PATCH")
    assert len(pushes) == after_stop == sim.churn_pushes
    assert sim.churn_failures == 0
    last: dict[tuple[int, int], str] = {}
    for push in pushes:
        match = PATCH_PATH.match(push.path)
        assert match is not None and match.group(1) == match.group(2), push.path
        assert set(push.body) == {"status", "last_updated"}
        assert push.body["status"] in {
            "AVAILABLE",
            "CHARGING",
            "BLOCKED",
            "OUTOFORDER",
            "INOPERATIVE",
            "UNKNOWN",
        }
        last[(int(match.group(1)[3:]) - 1, int(match.group(3)))] = push.body["status"]
    for (index, number), status in last.items():  # the CPO's own data says the same
        assert sim.location(index)["evses"][number - 1]["status"] == status


@pytest.mark.parametrize("rate", [-1.0, 1e6])
def test_an_unbounded_or_negative_churn_is_refused(rate: float) -> None:
    with pytest.raises(ValueError):
        CpoSimulator(status_churn=rate)
