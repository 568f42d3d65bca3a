"""A CDR whose settlement task was lost (a broker restarted, a worker vanished) is not left to
let the hold expire: the checkout's deadlines settle it from that CDR, once."""

import pytest

from payments import tasks
from payments.models import Case, Deadline
from tests.payments.charging import fall_due, reaches, status_of
from tests.payments.settling import cdr_for, finished_session, minor

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("deadline", [Deadline.Kind.MISSING_CDR, Deadline.Kind.HOLD_EXPIRING])
def test_a_cdr_whose_settlement_was_lost_is_settled_by_the_next_deadline(
    connected_cpo, live_server, stripe_settings, eager_tasks, monkeypatch, deadline
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    total = session.total_cost_incl_vat
    with monkeypatch.context() as lost:
        lost.setattr(tasks.settle_cdr, "delay", lambda *args: None)  # enqueued into nowhere
        body = cdr_for(cpo, checkout, session, total_incl=total)
        assert cpo.call_us("POST", "cdrs", json=body).status_code == 201
    assert status_of(checkout) == "finished" and not minor(checkout).get("capture")

    fall_due(checkout, deadline)
    checkout = reaches(checkout, "settled")
    assert minor(checkout)["capture"] == int(total * 100)  # the CDR's bill, not a guess
    assert not Case.objects.filter(kind=Case.Kind.EXPIRING_HOLD).exists()
    fall_due(checkout, deadline)  # and a later look changes nothing
    assert checkout.ledger.filter(kind="capture").count() == 1
