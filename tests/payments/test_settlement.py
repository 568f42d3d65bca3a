"""A CDR settles the checkout: we capture min(CDR total, the price shown applied to the CDR's
quantities, hold), book it once, release the rest, and record what we owe the CPO."""

from decimal import Decimal

import pytest

from payments import gateway
from payments.models import Case, Cdr, ChargingSession
from tests.helpers import wait_until
from tests.payments.charging import pay, push_stations, reaches
from tests.payments.settling import cdr_for, finished_session, minor

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_cdr_matching_the_price_shown_is_captured_exactly(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    total = session.total_cost_incl_vat
    answer = cpo.call_us("POST", "cdrs", json=cdr_for(cpo, checkout, session, total_incl=total))
    assert answer.status_code == 201
    checkout = reaches(checkout, "settled")
    ledger = minor(checkout)
    assert ledger["capture"] == int(total * 100)
    assert ledger["release"] == 5000 - ledger["capture"]
    assert ledger["payable"] == ledger["capture"]
    assert checkout.payment_status == "captured" and not checkout.flag
    assert gateway.retrieve(checkout.stripe_payment_intent).status == "succeeded"


def test_a_cdr_above_the_price_shown_captures_the_price_shown_and_is_flagged(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    shown = session.total_cost_incl_vat
    cpo.call_us(
        "POST", "cdrs", json=cdr_for(cpo, checkout, session, total_incl=shown + Decimal("3.00"))
    )
    checkout = reaches(checkout, "settled")
    ledger = minor(checkout)
    assert ledger["capture"] == int(shown * 100)  # never more than the price shown
    assert ledger["payable"] == int((shown + 3) * 100)  # what the CPO billed is recorded as owed
    assert "took the lower" in checkout.flag
    said = f"the CPO's last Session said €{shown:.2f}"
    kinds = [(c.kind, said in c.summary) for c in Case.objects.filter(checkout=checkout)]
    assert sorted(kinds) == [("price_difference", False), ("price_difference", True)]


def test_a_cdr_below_the_price_shown_captures_the_cdr(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    lower = session.total_cost_incl_vat - Decimal("0.20")
    cpo.call_us("POST", "cdrs", json=cdr_for(cpo, checkout, session, total_incl=lower))
    assert minor(reaches(checkout, "settled"))["capture"] == int(lower * 100)


def test_a_zero_cost_cdr_cancels_the_hold(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    cpo.call_us("POST", "cdrs", json=cdr_for(cpo, checkout, session, total_incl=Decimal("0.00")))
    checkout = reaches(checkout, "settled")
    assert checkout.payment_status == "released" and "capture" not in minor(checkout)
    wait_until(lambda: gateway.retrieve(checkout.stripe_payment_intent).status == "canceled")


def test_a_duplicate_cdr_moves_no_money_twice(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    body = cdr_for(cpo, checkout, session, total_incl=session.total_cost_incl_vat)
    cpo.call_us("POST", "cdrs", json=body)
    cpo.call_us("POST", "cdrs", json=body)
    checkout = reaches(checkout, "settled")
    assert checkout.ledger.filter(kind="capture").count() == 1


def test_the_cpos_own_cdr_settles_the_checkout(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    """The simulator sends its CDR (with OCMF signed data) when the session ends."""
    cpo = connected_cpo(location_count=1, update_interval=0.2, cdr_fault=None)
    checkout = reaches(pay(live_server.url, stripe_settings, push_stations(cpo)), "charging")
    session = cpo.wait_for_session("ACTIVE")
    cpo.end_session(session["id"])
    checkout = reaches(checkout, "settled")
    stored = ChargingSession.objects.get(checkout=checkout)
    assert minor(checkout)["capture"] == int(stored.total_cost_incl_vat * 100)
    assert not checkout.flag


def test_a_cdr_for_a_checkout_whose_hold_is_gone_is_flagged_not_captured(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2, session_fault="invalid")
    checkout = reaches(pay(live_server.url, stripe_settings, push_stations(cpo)), "charging")
    cpo.end_session(cpo.wait_for_session("ACTIVE")["id"])
    checkout = reaches(checkout, "failed")  # INVALID: nothing billed, hold released
    session = ChargingSession.objects.get(checkout=checkout)
    total = session.total_cost_incl_vat or Decimal("1.00")
    cpo.call_us("POST", "cdrs", json=cdr_for(cpo, checkout, session, total_incl=total))
    stored = Cdr.objects.get()
    assert "no hold to capture" in stored.flag
    assert not checkout.ledger.filter(kind="capture").exists()
