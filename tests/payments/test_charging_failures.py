"""When starting goes wrong, the driver is told why and the hold is released; CPMS that answer
late or start anyway are followed; nothing is delivered unpaid."""

from decimal import Decimal

import pytest

from ocpi_peer.models import CommandRequest
from payments.models import ChargingSession, Checkout, CpoTerms, Deadline
from tests.helpers import wait_until
from tests.payments.charging import fall_due, pay, push_stations, reaches, status_of

pytestmark = pytest.mark.django_db(transaction=True)


def released(checkout: Checkout) -> bool:
    kinds = list(checkout.ledger.values_list("kind", flat=True))
    return kinds == ["hold", "release"]


def test_a_rejected_start_fails_at_once_and_releases_the_hold(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, command_fault="reject")
    checkout = pay(live_server.url, stripe_settings, push_stations(cpo))
    checkout = reaches(checkout, "failed")
    assert "refused" in checkout.failure_reason
    wait_until(lambda: released(checkout))
    assert Checkout.objects.get(pk=checkout.pk).evse_claim is None


def test_a_failed_command_result_fails_the_checkout(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, command_fault="result_failed")
    checkout = reaches(pay(live_server.url, stripe_settings, push_stations(cpo)), "failed")
    assert checkout.failure_reason == "the charger could not start"
    wait_until(lambda: released(checkout))


def test_no_result_tells_the_driver_then_fails_after_the_grace(
    connected_cpo, live_server, stripe_settings, eager_tasks, django_capture_on_commit_callbacks
) -> None:
    cpo = connected_cpo(location_count=1, command_fault="no_result")
    checkout = pay(live_server.url, stripe_settings, push_stations(cpo))
    assert status_of(checkout) == "starting"
    fall_due(checkout, Deadline.Kind.COMMAND_TIMEOUT)
    assert Checkout.objects.get(pk=checkout.pk).start_unconfirmed  # "has not confirmed"
    assert checkout.ledger.filter(kind="release").count() == 0  # the hold stands for the grace
    fall_due(checkout, Deadline.Kind.START_GRACE)
    checkout = Checkout.objects.get(pk=checkout.pk)
    assert checkout.status == "failed" and "did not start" in checkout.failure_reason
    wait_until(lambda: released(checkout))


def test_a_timeout_then_a_late_session_within_the_grace_charges(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, command_fault="timeout_then_start", start_delay=1.0)
    checkout = pay(live_server.url, stripe_settings, push_stations(cpo))
    reaches(checkout, "charging")
    assert CommandRequest.objects.get(checkout=checkout).result == "TIMEOUT"


def test_a_session_after_the_grace_is_stopped_and_flagged(
    connected_cpo, live_server, stripe_settings, eager_tasks, settings
) -> None:
    cpo = connected_cpo(location_count=1, command_fault="no_result", update_interval=0.2)
    checkout = pay(live_server.url, stripe_settings, push_stations(cpo))
    fall_due(checkout, Deadline.Kind.COMMAND_TIMEOUT)
    fall_due(checkout, Deadline.Kind.START_GRACE)
    checkout = reaches(checkout, "failed")
    wait_until(lambda: released(checkout))
    token_uid = checkout.token.uid
    cpo.start_session_unasked(0, 1, token_uid, token_type="AD_HOC_USER")
    wait_until(lambda: ChargingSession.objects.filter(checkout=checkout).exists())
    wait_until(lambda: any(c.command == "STOP_SESSION" for c in cpo.commands))
    assert "stopped at once" in Checkout.objects.get(pk=checkout.pk).flag


def test_a_cpo_that_is_down_gets_the_start_again_then_the_driver_is_told(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, command_fault="down")
    checkout = reaches(pay(live_server.url, stripe_settings, push_stations(cpo)), "failed")
    assert CommandRequest.objects.get(checkout=checkout).attempts == 3  # 503: never processed
    assert len([c for c in cpo.commands if c.command == "START_SESSION"]) == 3
    assert "could not be reached" in checkout.failure_reason
    wait_until(lambda: released(checkout))


def test_a_start_that_may_have_arrived_is_never_sent_twice(
    connected_cpo, live_server, stripe_settings, eager_tasks, settings
) -> None:
    settings.OCPI_READ_TIMEOUT = 1.0
    cpo = connected_cpo(
        location_count=1, command_fault="read_timeout", hold_seconds=2.5, update_interval=0.2
    )
    checkout = pay(live_server.url, stripe_settings, push_stations(cpo))
    assert CommandRequest.objects.get(checkout=checkout).attempts == 1
    reaches(checkout, "charging")  # it started anyway, and we followed
    assert len([c for c in cpo.commands if c.command == "START_SESSION"]) == 1


def test_the_platform_stops_before_the_cost_reaches_the_hold(
    connected_cpo, live_server, stripe_settings, eager_tasks, settings
) -> None:
    CpoTerms.objects.create(country_code="NL", party_id="SIM", default_hold=Decimal("5.00"))
    # The simulator runs 300 times faster than the clock and updates every 0.2 s: a minute of
    # simulated time between updates; a stop may take up to ten (two real seconds, room for a
    # busy machine).
    settings.SESSION_UPDATE_INTERVAL, settings.STOP_LATENCY = 60, 600
    cpo = connected_cpo(location_count=1, update_interval=0.2, time_scale=300, charge_kw=22)
    checkout = pay(live_server.url, stripe_settings, push_stations(cpo))
    checkout = reaches(checkout, "finished", timeout=30)
    assert checkout.stop_reason == "cost limit"
    session = ChargingSession.objects.get(checkout=checkout)
    assert session.total_cost_incl_vat <= Decimal("5.00")


def test_an_invalid_session_bills_nothing(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, session_fault="invalid", update_interval=0.2)
    checkout = pay(live_server.url, stripe_settings, push_stations(cpo))
    session = cpo.wait_for_session("ACTIVE")
    cpo.end_session(session["id"])
    checkout = reaches(checkout, "failed")
    assert "invalid" in checkout.failure_reason and checkout.flag
    wait_until(lambda: released(checkout))


def test_a_session_of_a_token_we_never_issued_is_kept_and_flagged(connected_cpo) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    push_stations(cpo)
    cpo.start_session_unasked(0, 1, "RFID-NOT-OURS")
    wait_until(lambda: ChargingSession.objects.exists())
    session = ChargingSession.objects.get()
    assert session.checkout is None and "no checkout" in session.flag


def test_duplicate_and_out_of_order_pushes_are_harmless(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.1, session_fault="out_of_order")
    checkout = pay(live_server.url, stripe_settings, push_stations(cpo))
    reaches(checkout, "charging")
    cpo.session_fault = "duplicate_pushes"
    session = cpo.wait_for_session("ACTIVE")
    final = cpo.end_session(session["id"])
    checkout = reaches(checkout, "finished")
    stored = ChargingSession.objects.get(checkout=checkout)
    assert stored.status == "COMPLETED"
    assert stored.kwh == Decimal(str(final["kwh"]))
