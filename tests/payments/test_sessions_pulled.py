"""A CPMS that does not push its Sessions (or lost a push) is pulled: after an accepted
START_SESSION with no Session, and then every minute while the checkout charges, we read the
CPO's Sessions Sender from the checkout's start, and a pulled Session moves the checkout as a
pushed one would. `ocpi_sync --module sessions` and the hourly pulls read it too."""

import io
import json
from datetime import datetime

import pytest
from django.core.management import call_command

from ocpi_peer.models import SyncState
from ocpi_peer.tasks import schedule_pulls
from payments.models import ChargingSession
from tests.payments.charging import fall_due, pay, push_stations, reaches, status_of

pytestmark = pytest.mark.django_db(transaction=True)


def _session_pulls(cpo) -> list[dict[str, str]]:
    return [r.query for r in cpo.requests if r.method == "GET" and r.path.endswith("/sessions")]


@pytest.mark.parametrize("version", ["2.2.1", "2.1.1"])
def test_it_charges_finishes_and_settles_by_pulls_alone_when_the_cpo_never_pushes_sessions(
    connected_cpo, live_server, stripe_settings, eager_tasks, version: str
) -> None:
    cpo = connected_cpo(
        version=version,
        location_count=1,
        update_interval=0.2,
        time_scale=600,
        session_fault="no_push",
        cdr_fault="late",
    )
    checkout = pay(live_server.url, stripe_settings, push_stations(cpo))
    running = cpo.wait_for_session("ACTIVE")
    assert status_of(checkout) == "starting" and not ChargingSession.objects.exists()

    fall_due(checkout, "session_pull")  # no Session within SESSION_PULL_AFTER: pulled
    checkout = reaches(checkout, "charging")
    (query,) = _session_pulls(cpo)
    assert datetime.fromisoformat(query["date_from"]) < checkout.authorized_at

    final = cpo.end_session(running["id"])
    assert status_of(checkout) == "charging"  # the CPO told nobody
    fall_due(checkout, "session_pull")  # the next minute's look
    checkout = reaches(checkout, "finished")
    session = ChargingSession.objects.get(checkout=checkout)
    assert session.status == "COMPLETED" and session.kwh == final["kwh"]
    assert len(session.charging_periods) == len(final["charging_periods"])

    cpo.release_cdrs()
    checkout = reaches(checkout, "settled")
    captured = checkout.ledger.get(kind="capture").amount_minor
    assert 0 < captured <= checkout.ledger.get(kind="hold").amount_minor
    fall_due(checkout, "session_pull")
    assert len(_session_pulls(cpo)) == 2  # over: no more looks


def test_a_cpo_that_pushes_its_sessions_is_not_pulled(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout = reaches(pay(live_server.url, stripe_settings, push_stations(cpo)), "charging")
    fall_due(checkout, "session_pull")
    assert _session_pulls(cpo) == []


def test_the_sync_command_pulls_sessions_and_moves_the_checkout(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(
        location_count=1, update_interval=0.2, time_scale=600, session_fault="no_push"
    )
    checkout = pay(live_server.url, stripe_settings, push_stations(cpo))
    cpo.wait_for_session("ACTIVE")

    out = io.StringIO()
    call_command("ocpi_sync", "--module", "sessions", stdout=out)
    (pulled,) = json.loads(out.getvalue())
    assert (pulled["module"], pulled["ok"], pulled["received"], pulled["written"]) == (
        "sessions",
        True,
        1,
        1,
    )
    assert reaches(checkout, "charging").pk == checkout.pk
    assert "date_from" in _session_pulls(cpo)[0]  # the Sender requires it, a full pull too


def test_the_hourly_pulls_read_the_sessions_sender_too(connected_cpo, eager_tasks) -> None:
    cpo = connected_cpo()
    schedule_pulls()
    state = SyncState.objects.get(module="sessions")
    assert state.last_ok, state.last_result  # the Sender refuses a list without date_from
    assert "date_from" in _session_pulls(cpo)[0]
