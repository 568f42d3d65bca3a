"""From the hold to energy flowing and back, with a simulated CPO over real HTTP (2.2.1 and
2.1.1): START_SESSION, its result, the Session pushes, and the driver's stop."""

import httpx
import pytest

from payments.models import ChargingSession, LedgerEntry
from tests.helpers import wait_until
from tests.payments.charging import pay, push_stations, reaches, status_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("version", ["2.2.1", "2.1.1"])
def test_the_whole_path_from_authorized_to_finished(
    connected_cpo, live_server, stripe_settings, eager_tasks, version: str
) -> None:
    cpo = connected_cpo(version=version, location_count=1, update_interval=0.2, time_scale=600)
    checkout = pay(live_server.url, stripe_settings, push_stations(cpo))
    (start,) = [c for c in cpo.commands if c.command == "START_SESSION"]
    if version == "2.2.1":
        assert start.body["authorization_reference"] == checkout.authorization_reference
        assert start.body["token"]["type"] == "AD_HOC_USER"
        assert any(key[3] == "AD_HOC_USER" for key in cpo.tokens)  # pushed before the start
    else:
        assert (
            start.body["token"]["type"] == "OTHER" and "authorization_reference" not in start.body
        )
    checkout = reaches(checkout, "charging")
    session = ChargingSession.objects.get(checkout=checkout)
    wait_until(lambda: ChargingSession.objects.get(pk=session.pk).kwh > 0, timeout=10)
    live = httpx.get(f"{live_server.url}/api/v1/checkouts/{checkout.public_id}").json()
    assert live["status"] == "charging" and live["session"]["energy_kwh"] != "0.0000"
    stopped = httpx.post(f"{live_server.url}/api/v1/checkouts/{checkout.public_id}/stop")
    assert stopped.status_code == 202 and stopped.json()["status"] == "stopping"
    checkout = reaches(checkout, "finished")
    assert [c.command for c in cpo.commands] == ["START_SESSION", "STOP_SESSION"]
    assert LedgerEntry.objects.filter(checkout=checkout, kind="hold").count() == 1
    assert checkout.evse_claim is None  # the EVSE is free for the next driver


def test_a_session_ending_at_the_car_finishes_the_checkout(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout = pay(live_server.url, stripe_settings, push_stations(cpo))
    reaches(checkout, "charging")
    session = cpo.wait_for_session("ACTIVE")
    cpo.end_session(session["id"])
    assert reaches(checkout, "finished").ended_at is not None


def test_stop_before_the_session_id_is_known_is_sent_when_it_arrives(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2, start_delay=4)
    checkout = pay(live_server.url, stripe_settings, push_stations(cpo))
    assert status_of(checkout) == "starting"
    stopped = httpx.post(f"{live_server.url}/api/v1/checkouts/{checkout.public_id}/stop")
    assert stopped.status_code == 202 and stopped.json()["status"] == "stopping"
    assert [c.command for c in cpo.commands] == ["START_SESSION"]  # nothing to stop yet
    reaches(checkout, "finished")
    assert [c.command for c in cpo.commands] == ["START_SESSION", "STOP_SESSION"]
