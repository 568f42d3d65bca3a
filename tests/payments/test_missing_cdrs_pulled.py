"""A CDR that was never pushed to us is pulled from the CPO's CDRs Sender and settles the
checkout as a pushed one would (T-08)."""

import pytest

from ocpi_peer import sync
from ocpi_peer.models import Partner
from payments.models import Cdr
from tests.payments.charging import pay, push_stations, reaches

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_cdr_held_back_by_the_cpo_is_pulled_and_settles(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2, cdr_fault="late")
    checkout = reaches(pay(live_server.url, stripe_settings, push_stations(cpo)), "charging")
    cpo.end_session(cpo.wait_for_session("ACTIVE")["id"])
    reaches(checkout, "finished")
    assert not Cdr.objects.exists()  # the CPO has not sent it
    partner = Partner.objects.get(pk=checkout.partner_id)
    outcome = sync.pull(partner_id=partner.pk, module="cdrs")
    assert (outcome.received, outcome.written, outcome.rejected) == (1, 1, 0)
    assert Cdr.objects.get().checkout_id == checkout.pk
    reaches(checkout, "settled")
    again = sync.pull(partner_id=partner.pk, module="cdrs", full=True)
    assert again.written == 0  # stored once
