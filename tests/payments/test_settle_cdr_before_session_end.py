"""A CDR that arrives before the session's COMPLETED push settles the checkout at once; the
push that follows changes nothing, and the charger is free for the next driver."""

import pytest

from payments.models import ChargingSession, Checkout
from tests.helpers import wait_until
from tests.payments.charging import pay, push_stations, reaches
from tests.payments.settling import cdr_for, minor

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_cdr_before_the_completed_session_settles_once_and_frees_the_charger(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    evse_id = push_stations(cpo)
    checkout = reaches(pay(live_server.url, stripe_settings, evse_id), "charging")
    pushed = cpo.wait_for_session("ACTIVE")
    session = wait_until(  # metered for a while: the CPMS bills from its meter, not our copy
        lambda: (
            ChargingSession.objects.filter(checkout=checkout, total_cost_incl_vat__gt=0)
            .exclude(charging_periods=[])
            .first()
        )
    )
    total = session.total_cost_incl_vat
    answer = cpo.call_us("POST", "cdrs", json=cdr_for(cpo, checkout, session, total_incl=total))
    assert answer.status_code == 201, answer.text
    checkout = reaches(checkout, "settled")
    assert minor(checkout)["capture"] == int(total * 100)
    assert checkout.evse_claim_id is None  # the next driver may pay here

    cpo.end_session(pushed["id"])
    wait_until(
        lambda: ChargingSession.objects.filter(checkout=checkout, status="COMPLETED").exists()
    )
    checkout = Checkout.objects.get(pk=checkout.pk)
    assert checkout.status == "settled" and checkout.payment_status == "captured"
    assert checkout.ledger.filter(kind="capture").count() == 1
