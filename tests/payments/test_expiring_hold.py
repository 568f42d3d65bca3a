"""A hold the card would drop before any CDR came is settled a day early: by the CPO's policy
(else the platform's), what the last Session supports is captured, or the hold is released;
an operator sees a case either way, and a CDR that comes later is reconciled."""

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from payments import gateway
from payments.models import Case, CpoTerms, Deadline
from tests.payments.charging import fall_due, reaches
from tests.payments.settling import cdr_for, finished_session, minor

pytestmark = pytest.mark.django_db(transaction=True)


def refunds_at_stripe(fake, checkout) -> list[int]:
    answer = httpx.get(
        f"{fake.base_url}/v1/refunds",
        params={"payment_intent": checkout.stripe_payment_intent},
        headers={"Authorization": f"Bearer {fake.secret_key}"},
    )
    return [r["amount"] for r in answer.json()["data"] if r.get("metadata")]


def test_a_confirmed_hold_knows_when_it_expires_and_is_watched_a_day_earlier(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, _ = finished_session(cpo, live_server, stripe_settings)
    # localstripe states no capture_before: the card's usual seven days
    assert checkout.capture_before == checkout.authorized_at + timedelta(days=7)
    deadline = Deadline.objects.get(checkout=checkout, kind="hold_expiring")
    assert deadline.due_at == checkout.capture_before - timedelta(days=1)


def test_an_expiring_hold_captures_what_the_session_supports_and_a_later_cdr_refunds_excess(
    connected_cpo, live_server, stripe_settings, eager_tasks, settings
) -> None:
    settings.EXPIRING_HOLD_POLICY = "capture"
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    shown = session.total_cost_incl_vat

    fall_due(checkout, "hold_expiring")
    checkout = reaches(checkout, "settled")
    assert minor(checkout)["capture"] == int(shown * 100)
    assert "payable" not in minor(checkout)  # the CPO has billed nothing yet
    assert gateway.retrieve(checkout.stripe_payment_intent).status == "succeeded"
    case = Case.objects.get(kind="expiring_hold")
    assert "captured" in case.summary and case.checkout_id == checkout.pk
    assert "could not be applied" not in case.summary  # the price shown was applied to it
    receipt = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt/")
    assert receipt.status_code == 200 and f"€{shown:.2f}" in receipt.text  # from the session

    lower = shown - Decimal("0.20")
    cpo.call_us("POST", "cdrs", json=cdr_for(cpo, checkout, session, total_incl=lower))
    assert refunds_at_stripe(stripe_settings, checkout) == [20]
    checkout.refresh_from_db()
    assert minor(checkout)["payable"] == int(lower * 100)
    assert checkout.payment_status == "partially_refunded"
    assert checkout.ledger.filter(kind="capture").count() == 1


def test_the_cpos_release_policy_releases_the_hold_and_a_later_cdr_is_a_shortfall(
    connected_cpo, live_server, stripe_settings, eager_tasks, settings
) -> None:
    settings.EXPIRING_HOLD_POLICY = "capture"
    CpoTerms.objects.create(
        country_code="NL",
        party_id="SIM",
        default_hold=Decimal("50.00"),
        expiring_hold_policy="release",
    )
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)

    fall_due(checkout, "hold_expiring")
    checkout = reaches(checkout, "settled")
    assert checkout.payment_status == "released" and "capture" not in minor(checkout)
    assert gateway.retrieve(checkout.stripe_payment_intent).status == "canceled"
    assert "released (policy release)" in Case.objects.get(kind="expiring_hold").summary

    total = session.total_cost_incl_vat
    cpo.call_us("POST", "cdrs", json=cdr_for(cpo, checkout, session, total_incl=total))
    checkout.refresh_from_db()
    assert minor(checkout)["payable"] == int(total * 100)  # we still owe the CPO
    assert Case.objects.filter(kind="shortfall", checkout=checkout).exists()
    assert refunds_at_stripe(stripe_settings, checkout) == []


def test_a_cdr_before_the_deadline_leaves_nothing_for_it_to_do(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    total = session.total_cost_incl_vat
    cpo.call_us("POST", "cdrs", json=cdr_for(cpo, checkout, session, total_incl=total))
    reaches(checkout, "settled")
    fall_due(checkout, "hold_expiring")
    assert not Case.objects.filter(kind="expiring_hold").exists()
    assert checkout.ledger.filter(kind="capture").count() == 1


def test_a_2_1_1_session_supports_its_total_with_the_countrys_vat(
    connected_cpo, live_server, stripe_settings, eager_tasks, settings
) -> None:
    from tests.payments.charging import pay, push_stations

    settings.EXPIRING_HOLD_POLICY = "capture"
    cpo = connected_cpo("2.1.1", location_count=1, update_interval=0.2)
    checkout = reaches(pay(live_server.url, stripe_settings, push_stations(cpo)), "charging")
    cpo.end_session(cpo.wait_for_session("ACTIVE")["id"])
    checkout = reaches(checkout, "finished")
    fall_due(checkout, "hold_expiring")
    checkout = reaches(checkout, "settled")
    case = Case.objects.get(kind="expiring_hold")
    assert "could not be applied" not in case.summary, case.summary
    assert 0 < minor(checkout)["capture"] < minor(checkout)["hold"]
