"""Stripe failing, and a worker dying mid-way, never move money twice: the capture is retried
with backoff until Stripe answers, and a capture Stripe made but we never booked is found on
the intent and booked once."""

import pytest

from payments import gateway, settlement, tasks
from payments.models import Cdr
from tests.payments.charging import reaches, status_of
from tests.payments.settling import cdr_for, finished_session, minor
from tests.support.flaky_stripe import flaky

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(("status", "failures"), [(503, 4), (429, 2)])
def test_stripe_failing_then_recovering_captures_exactly_once(
    connected_cpo, live_server, stripe_settings, eager_tasks, settings, status, failures
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    total = session.total_cost_incl_vat
    with flaky(stripe_settings.base_url) as stripe:
        settings.STRIPE_API_BASE = stripe.url
        stripe.fail_next(failures, status=status, path_contains="/capture")
        answer = cpo.call_us("POST", "cdrs", json=cdr_for(cpo, checkout, session, total_incl=total))
        assert answer.status_code == 201
        checkout = reaches(checkout, "settled")
        assert len(stripe.failed) == failures  # Stripe really was down for a while
        assert stripe.count("POST", "/capture") == 1
    settings.STRIPE_API_BASE = stripe_settings.base_url
    assert minor(checkout)["capture"] == int(total * 100)
    assert checkout.ledger.filter(kind="capture").count() == 1
    assert gateway.retrieve(checkout.stripe_payment_intent).status == "succeeded"


def test_a_worker_killed_between_capture_and_bookkeeping_captures_exactly_once(
    connected_cpo, live_server, stripe_settings, eager_tasks, settings, monkeypatch
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    total = session.total_cost_incl_vat
    book = settlement.record_capture

    def killed(**kwargs):
        raise RuntimeError("worker killed after Stripe captured")  # no bookkeeping happens

    with flaky(stripe_settings.base_url) as stripe:
        settings.STRIPE_API_BASE = stripe.url
        monkeypatch.setattr(settlement, "record_capture", killed)
        cpo.call_us("POST", "cdrs", json=cdr_for(cpo, checkout, session, total_incl=total))
        # Stripe took the money, our books do not know yet
        assert gateway.retrieve(checkout.stripe_payment_intent).status == "succeeded"
        assert status_of(checkout) == "finished" and not checkout.ledger.filter(kind="capture")
        monkeypatch.setattr(settlement, "record_capture", book)
        # the broker redelivers the unacknowledged task (acks_late), twice for good measure
        cdr = Cdr.objects.get()
        tasks.settle_cdr.delay(cdr.pk)
        tasks.settle_cdr.delay(cdr.pk)
        assert stripe.count("POST", "/capture") == 1
    settings.STRIPE_API_BASE = stripe_settings.base_url
    checkout = reaches(checkout, "settled")
    ledger = minor(checkout)
    assert ledger["capture"] == int(total * 100)
    assert ledger["capture"] + ledger["release"] == ledger["hold"]
    assert checkout.ledger.filter(kind="capture").count() == 1


def test_a_capture_stripe_refuses_reaches_an_operator_with_the_money_still_held(
    connected_cpo, live_server, stripe_settings, eager_tasks, settings
) -> None:
    from payments.models import Case

    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    with flaky(stripe_settings.base_url) as stripe:
        settings.STRIPE_API_BASE = stripe.url
        stripe.fail_next(1, status=400, path_contains="/capture")
        cpo.call_us(
            "POST",
            "cdrs",
            json=cdr_for(cpo, checkout, session, total_incl=session.total_cost_incl_vat),
        )
    settings.STRIPE_API_BASE = stripe_settings.base_url
    case = Case.objects.get(kind="failed_capture")
    assert "simulated 400" in case.summary and case.checkout_id == checkout.pk
    assert status_of(checkout) == "finished"
    assert gateway.retrieve(checkout.stripe_payment_intent).status == "requires_capture"
