"""A credit CDR cancels a CDR after the money moved: what we owe the CPO follows it at once;
the driver pays what the corrected CDR supports (min rule) and gets the difference back once,
keyed by the credit CDR; with no corrected CDR within the wait, the credit's amount."""

from decimal import Decimal

import httpx
import pytest

from payments.models import Case, Checkout, Deadline, LedgerEntry
from tests.helpers import wait_until
from tests.payments.charging import fall_due, pay, push_stations, reaches
from tests.payments.settling import cdr_for, finished_session

pytestmark = pytest.mark.django_db(transaction=True)


def credit_for(body: dict, credit_id: str) -> dict:
    total = body["total_cost"]
    return {
        **body,
        "id": credit_id,
        "credit": True,
        "credit_reference_id": body["id"],
        "total_cost": {"excl_vat": -total["excl_vat"], "incl_vat": -total["incl_vat"]},
    }


def ledger(checkout: Checkout, kind: str) -> list[int]:
    return list(checkout.ledger.filter(kind=kind).values_list("amount_minor", flat=True))


def refunds_at_stripe(fake, checkout: Checkout) -> list[int]:
    answer = httpx.get(
        f"{fake.base_url}/v1/refunds",
        params={"payment_intent": checkout.stripe_payment_intent},
        headers={"Authorization": f"Bearer {fake.secret_key}"},
    )
    return [r["amount"] for r in answer.json()["data"] if r.get("metadata")]


def cents(amount: Decimal) -> int:
    return int(amount * 100)


def test_the_simulators_credit_and_corrected_cdr_leave_us_owing_the_corrected_total(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2, cdr_fault="credit_after")
    checkout = reaches(pay(live_server.url, stripe_settings, push_stations(cpo)), "charging")
    cpo.end_session(cpo.wait_for_session("ACTIVE")["id"])
    wait_until(lambda: len(cpo.cdrs) == 3)
    checkout = reaches(checkout, "settled")
    assert [d.http_status for d in cpo.cdrs] == [201, 201, 201]
    corrected = cpo.cdrs[2].body["total_cost"]["incl_vat"]
    original = cpo.cdrs[0].body["total_cost"]["incl_vat"]
    # the driver paid the price shown all along (never the 10 % too much), nothing to refund
    assert ledger(checkout, "capture") == [cents(corrected)]
    assert refunds_at_stripe(stripe_settings, checkout) == []
    # we owe the CPO: original, minus the credit, plus the corrected one
    assert sorted(ledger(checkout, "payable")) == sorted(
        [cents(original), -cents(original), cents(corrected)]
    )
    assert sum(ledger(checkout, "payable")) == cents(corrected)


def test_a_credit_then_a_lower_corrected_cdr_refunds_the_difference_once(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    shown = session.total_cost_incl_vat
    first = cdr_for(cpo, checkout, session, total_incl=shown - Decimal("0.10"), cdr_id="CDR-A")
    cpo.call_us("POST", "cdrs", json=first)
    checkout = reaches(checkout, "settled")
    assert ledger(checkout, "capture") == [cents(shown) - 10]

    credit = credit_for(first, "CDR-A-C")
    assert cpo.call_us("POST", "cdrs", json=credit).status_code == 201
    assert refunds_at_stripe(stripe_settings, checkout) == []  # waiting for the correction
    assert Deadline.objects.filter(checkout=checkout, kind="credit_wait", done_at=None).exists()
    corrected = cdr_for(cpo, checkout, session, total_incl=shown - Decimal("0.25"), cdr_id="CDR-B")
    cpo.call_us("POST", "cdrs", json=corrected)
    cpo.call_us("POST", "cdrs", json=credit)  # the CPO sends the credit again: nothing more
    cpo.call_us("POST", "cdrs", json=corrected)

    assert refunds_at_stripe(stripe_settings, checkout) == [15]
    checkout.refresh_from_db()
    (refund,) = checkout.ledger.filter(kind="refund")
    assert refund.amount_minor == 15 and "credit CDR CDR-A-C" in refund.note
    assert refund.idempotency_key.startswith("refund:credit:")
    assert checkout.payment_status == "partially_refunded"
    assert sum(ledger(checkout, "payable")) == cents(shown) - 25
    assert not Deadline.objects.filter(checkout=checkout, kind="credit_wait", done_at=None).exists()


def test_a_credit_without_a_corrected_cdr_refunds_the_credit_after_the_wait(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    shown = session.total_cost_incl_vat
    first = cdr_for(cpo, checkout, session, total_incl=shown, cdr_id="CDR-A")
    cpo.call_us("POST", "cdrs", json=first)
    reaches(checkout, "settled")
    cpo.call_us("POST", "cdrs", json=credit_for(first, "CDR-A-C"))
    assert refunds_at_stripe(stripe_settings, checkout) == []

    fall_due(checkout, "credit_wait")
    fall_due(checkout, "credit_wait")  # swept again: nothing more
    assert refunds_at_stripe(stripe_settings, checkout) == [cents(shown)]
    checkout.refresh_from_db()
    assert checkout.payment_status == "refunded"
    assert sum(ledger(checkout, "payable")) == 0  # we owe the CPO nothing for a credited CDR

    # a corrected CDR after the wait: the money went back already, an operator decides
    late = cdr_for(cpo, checkout, session, total_incl=shown, cdr_id="CDR-B")
    cpo.call_us("POST", "cdrs", json=late)
    assert refunds_at_stripe(stripe_settings, checkout) == [cents(shown)]
    assert Case.objects.filter(kind="shortfall", checkout=checkout).exists()
    assert sum(ledger(checkout, "payable")) == cents(shown)


def test_a_corrected_cdr_before_its_credit_moves_no_money_until_the_credit_comes(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    shown = session.total_cost_incl_vat
    first = cdr_for(cpo, checkout, session, total_incl=shown, cdr_id="CDR-A")
    cpo.call_us("POST", "cdrs", json=first)
    reaches(checkout, "settled")
    corrected = cdr_for(cpo, checkout, session, total_incl=shown - Decimal("0.20"), cdr_id="CDR-B")
    cpo.call_us("POST", "cdrs", json=corrected)
    assert Case.objects.filter(kind="cdr_conflict", checkout=checkout).exists()
    assert refunds_at_stripe(stripe_settings, checkout) == []

    cpo.call_us("POST", "cdrs", json=credit_for(first, "CDR-A-C"))
    assert refunds_at_stripe(stripe_settings, checkout) == [20]
    assert sum(ledger(checkout, "payable")) == cents(shown) - 20
    held = ledger(checkout, "hold")[0]
    assert sum(ledger(checkout, "capture")) + sum(ledger(checkout, "release")) == held
    refunded = LedgerEntry.objects.filter(checkout=checkout, kind="refund")
    assert sum(r.amount_minor for r in refunded) <= sum(ledger(checkout, "capture"))
