"""Financial Advice Confirmations when things fail: a capture Stripe refuses is reported as
FAILED, and a FAC the CPO does not take is sent again by its deadline, the same one, until it
does (never a second one)."""

import pytest

from payments.models import Case, FinancialAdvice
from tests.helpers import wait_until
from tests.payments.charging import fall_due, pay, reaches, status_of
from tests.payments.ptp import terminal_at
from tests.support.flaky_stripe import flaky

pytestmark = pytest.mark.django_db(transaction=True)

FACS = "financial-advice-confirmations"


def test_it_reports_a_capture_stripe_refuses_as_failed(
    connected_cpo, live_server, stripe_settings, eager_tasks, settings
) -> None:
    cpo = connected_cpo(version="2.3.0", location_count=1, update_interval=0.2, cdr_fault=None)
    _, evse_id = terminal_at(cpo)
    checkout = reaches(pay(live_server.url, stripe_settings, evse_id), "charging")
    with flaky(stripe_settings.base_url) as stripe:
        settings.STRIPE_API_BASE = stripe.url
        stripe.fail_next(1, status=400, path_contains="/capture")
        cpo.end_session(cpo.wait_for_session("ACTIVE")["id"])
        (advice,) = cpo.wait_for_advices(1)
    settings.STRIPE_API_BASE = stripe_settings.base_url
    assert Case.objects.filter(kind="failed_capture", checkout=checkout).exists()
    assert status_of(checkout) == "finished"  # the money is still held
    assert advice["capture_status_code"] == "FAILED"
    assert advice["authorization_reference"] == checkout.authorization_reference
    assert advice["total_costs"] == {"before_taxes": 0, "taxes": []}
    assert "capture failed at the PSP" in advice["capture_status_message"]
    assert advice["eft_data"]  # still the card's lines: the CPO's invoice needs them


def test_an_advice_the_cpo_refused_is_sent_again_and_taken_once(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(version="2.3.0", location_count=1, update_interval=0.2, cdr_fault=None)
    cpo.advice_fault = "refuse_once"
    _, evse_id = terminal_at(cpo)
    checkout = reaches(pay(live_server.url, stripe_settings, evse_id), "charging")
    cpo.end_session(cpo.wait_for_session("ACTIVE")["id"])
    checkout = reaches(checkout, "settled")
    # The attempt is counted before the POST and its answer written after it: wait for both.
    refused = FinancialAdvice.objects.filter(attempts=1).exclude(last_error="")
    wait_until(refused.exists, timeout=10)
    advice = FinancialAdvice.objects.get()
    assert advice.sent_at is None and "3000" in advice.last_error
    assert cpo.advices == {}

    fall_due(checkout, "advice_push")  # beat's sweep finds the deadline due: sent again
    (taken,) = cpo.wait_for_advices(1)
    assert taken["id"] == advice.advice_id
    wait_until(lambda: FinancialAdvice.objects.get().sent_at is not None, timeout=10)
    fall_due(checkout, "advice_push")  # nothing left to send
    attempts = [status for name, _, status in cpo.payment_posts if name == FACS]
    assert attempts == [500, 201]
    assert FinancialAdvice.objects.count() == 1 and len(cpo.advices) == 1
