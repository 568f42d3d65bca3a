"""A checkout that finished without a CDR is not forgotten: after MISSING_CDR_AFTER we pull
the CPO's CDRs from the checkout's start; a CDR found settles it, and while none exists an
operator sees one case and we look again later."""

from datetime import timedelta

import pytest
from django.utils import timezone

from payments.models import Case, Cdr, Deadline
from tests.payments.charging import fall_due, pay, push_stations, reaches, status_of

pytestmark = pytest.mark.django_db(transaction=True)


def finished_without_cdr(cpo, live_server, fake):
    checkout = reaches(pay(live_server.url, fake, push_stations(cpo)), "charging")
    cpo.end_session(cpo.wait_for_session("ACTIVE")["id"])
    return reaches(checkout, "finished")


def test_a_missing_cdr_is_pulled_when_its_deadline_falls_due_and_settles(
    connected_cpo, live_server, stripe_settings, eager_tasks, settings
) -> None:
    settings.MISSING_CDR_AFTER = timedelta(hours=6)
    cpo = connected_cpo(location_count=1, update_interval=0.2, cdr_fault="late")
    checkout = finished_without_cdr(cpo, live_server, stripe_settings)
    (deadline,) = Deadline.objects.filter(checkout=checkout, kind="missing_cdr")
    assert (
        timezone.now() + timedelta(hours=5) < deadline.due_at <= timezone.now() + timedelta(hours=6)
    )
    assert not Cdr.objects.exists()

    fall_due(checkout, "missing_cdr")
    assert Cdr.objects.get().checkout_id == checkout.pk
    checkout = reaches(checkout, "settled")
    assert checkout.ledger.filter(kind="capture").count() == 1
    assert not Case.objects.filter(kind="missing_cdr").exists()
    pull = [r for r in cpo.requests if "/cdrs" in r.path and r.method == "GET"]
    assert pull and "date_from" in pull[-1].query  # from the checkout's start, not everything


def test_a_cdr_still_missing_is_flagged_once_and_looked_for_again(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2, cdr_fault="late")
    checkout = finished_without_cdr(cpo, live_server, stripe_settings)
    with cpo.lock:  # the CPMS has not made its CDR yet
        made, cpo.cdr_book.created = cpo.cdr_book.created, []

    fall_due(checkout, "missing_cdr")
    case = Case.objects.get(kind="missing_cdr")
    assert case.checkout_id == checkout.pk and "0 received" in case.summary
    assert status_of(checkout) == "finished"
    again = Deadline.objects.get(checkout=checkout, kind="missing_cdr", done_at=None)
    assert again.due_at > timezone.now() + timedelta(minutes=30)  # re-armed, not at once

    fall_due(checkout, "missing_cdr")
    assert Case.objects.filter(kind="missing_cdr").count() == 1  # one case, not one a sweep

    with cpo.lock:  # the CDR exists at last
        cpo.cdr_book.created = made
    fall_due(checkout, "missing_cdr")
    reaches(checkout, "settled")
