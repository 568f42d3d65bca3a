"""The traffic log of the requests we serve is written in batches off the requests' path: a
row lands when its batch is full, when it has waited the flush interval, and when the process
exits; the statuses the requests carried are written before they are answered."""

import copy
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ocpi_peer import traffic
from ocpi_peer.models import TrafficLog
from ocpi_peer.registration import invite_partner
from stations.models import Evse
from tests.ocpi.examples import example

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
URL = "locations/NL/SIM/LOC1/3256"


def pushed(connected_cpo):
    cpo = connected_cpo()
    data = {**copy.deepcopy(example("location_example.json")), "country_code": "NL"}
    data |= {"party_id": "SIM", "id": "LOC1", "last_updated": "2030-01-01T00:00:00Z"}
    for evse in data["evses"]:
        evse["last_updated"] = "2030-01-01T00:00:00Z"
    assert cpo.call_us("PUT", "locations/NL/SIM/LOC1", json=data).status_code == 201
    return cpo


def patch(cpo, second: int) -> None:
    at = f"2030-01-02T00:00:{second:02d}Z"
    answer = cpo.call_us("PATCH", URL, json={"status": "CHARGING", "last_updated": at})
    assert answer.json()["status_code"] == 1000


def patches_logged() -> int:
    return TrafficLog.objects.filter(direction="in", method="PATCH").count()


def eventually(count: int, within: float = 10) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if patches_logged() == count:
            return True
        time.sleep(0.05)
    return False


def test_it_writes_a_batch_when_it_is_full(connected_cpo, settings) -> None:
    cpo = pushed(connected_cpo)
    settings.OCPI_TRAFFIC_LOG_BATCH, settings.OCPI_TRAFFIC_LOG_FLUSH_SECONDS = 3, 60
    patch(cpo, 1)
    patch(cpo, 2)
    assert Evse.objects.get(uid="3256").status == "CHARGING"  # the status did not wait
    time.sleep(0.3)
    assert patches_logged() == 0  # waiting in the batch
    patch(cpo, 3)
    assert eventually(3)


def test_it_writes_what_waits_after_the_flush_interval(connected_cpo, settings) -> None:
    cpo = pushed(connected_cpo)
    settings.OCPI_TRAFFIC_LOG_BATCH, settings.OCPI_TRAFFIC_LOG_FLUSH_SECONDS = 100, 0.2
    patch(cpo, 1)
    assert eventually(1, within=5)
    row = TrafficLog.objects.get(direction="in", method="PATCH")
    assert row.http_status == 200 and row.ocpi_status == 1000 and row.partner is not None


def test_it_writes_what_waits_when_the_process_exits(tmp_path: Path) -> None:
    """In a process of its own, on a database file of its own: rows recorded for later, the
    process ends before any flush is due, and the rows are there."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'exit.sqlite3'}",
        "OCPI_TRAFFIC_LOG_BATCH": "100",
        "OCPI_TRAFFIC_LOG_FLUSH_SECONDS": "600",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, cwd=ROOT, check=True, timeout=300)
    script = (
        "import django; django.setup()\n"
        "from ocpi_peer import traffic\n"
        "from ocpi_peer.models import TrafficLog\n"
        "for n in range(3):\n"
        "    traffic.record_traffic(direction='in', partner=None, method='PATCH', url=f'/{n}',"
        " http_status=200, ocpi_status=1000, duration_ms=1, request_id=str(n),"
        " correlation=str(n), request_body=b'{}', response_body=b'{}', later=True)\n"
        "print(TrafficLog.objects.count())\n"
    )
    waiting = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=ROOT,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    )
    assert waiting.stdout.strip() == "0"  # none written while the process ran
    with sqlite3.connect(tmp_path / "exit.sqlite3") as db:
        rows = db.execute("SELECT url FROM ocpi_peer_trafficlog ORDER BY url").fetchall()
    assert rows == [("/0",), ("/1",), ("/2",)]


AWKWARD = (
    b'{"note": "tab\there, back\\\\slash \\\\N, new\nline, \xc3\xa9\xe2\x82\xac, \\"quoted\\""}'
)


def _record(partner, number: int, *, later: bool) -> None:
    traffic.record_traffic(
        direction="in",
        partner=partner,
        method="PUT",
        url=f"/ocpi/2.2.1/locations/NL/SIM/LOC{number}?x=\t\\",
        http_status=None if number % 2 else 400,
        ocpi_status=None if number % 2 else 2001,
        duration_ms=number,
        request_id=f"req-{number}",
        correlation=f"corr-{number}",
        request_body=AWKWARD,
        response_body=None,
        error="line one\nline two\\" if number % 2 else "",
        later=later,
    )


# Every column but the key and the time, which differ between any two rows.
FIELDS = [
    f.attname for f in TrafficLog._meta.concrete_fields if f.attname not in ("id", "created_at")
]


def test_a_batch_keeps_every_field_as_a_single_write_does(settings) -> None:
    """Bodies with tabs, backslashes, line breaks and non-ASCII, empty statuses: the rows a
    batch writes read back as the ones written one at a time."""
    partner, _ = invite_partner(name="Logged CPO")
    for number in (1, 2):
        _record(partner, number, later=False)
    settings.OCPI_TRAFFIC_LOG_BATCH, settings.OCPI_TRAFFIC_LOG_FLUSH_SECONDS = 100, 60
    for number in (1, 2):
        _record(partner, number, later=True)
    assert traffic.buffer.flush() == 2

    rows = list(TrafficLog.objects.filter(method="PUT").order_by("id").values(*FIELDS))
    assert len(rows) == 4
    assert rows[2:] == rows[:2]
    assert rows[0]["request_body"] == AWKWARD.decode()
    assert rows[0]["partner_id"] == partner.pk and rows[0]["http_status"] is None
    assert rows[1]["http_status"] == 400 and rows[1]["error"] == ""
    times = list(TrafficLog.objects.filter(method="PUT").order_by("id").values_list("created_at"))
    assert all(t[0].tzinfo is not None for t in times) and times == sorted(times)
