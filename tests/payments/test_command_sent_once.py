"""A command goes out once even when two workers are woken for it: the driver's stop and the
CPO's next Session update each enqueue a stop, and both find the same unsent STOP_SESSION. The
first takes it to send; the second sends nothing, and the CPO receives one STOP_SESSION."""

import pytest
from django.utils import timezone

from ocpi_peer import commands
from payments import charging
from payments.models import Checkout
from tests.payments.charging import pay, push_stations, reaches

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_workers_woken_for_one_stop_send_it_once(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout = reaches(pay(live_server.url, stripe_settings, push_stations(cpo)), "charging")
    Checkout.objects.filter(pk=checkout.pk).update(
        status=Checkout.Status.STOPPING, stop_requested_at=timezone.now(), stop_reason="driver"
    )

    first = charging.begin_stop(checkout_id=checkout.pk)
    second = charging.begin_stop(checkout_id=checkout.pk)
    assert first is not None and second == first  # both see the one command, not yet sent
    assert commands.send(first).outcome == "accepted"
    assert commands.send(second).outcome == "in_flight"

    assert [c.command for c in cpo.commands] == ["START_SESSION", "STOP_SESSION"]
    reaches(checkout, "finished")
