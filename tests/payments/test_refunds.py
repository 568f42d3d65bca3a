"""An operator refunds a settled payment, in part or in full: the money goes back through
Stripe once, the ledger says so with the reason, and what cannot be refunded is refused in
words an operator understands."""

from decimal import Decimal

import pytest

from payments import refunds, tasks
from payments.models import Case, Checkout, Refund
from tests.payments.refunding import stripe_refunds
from tests.payments.settling import finished_session, settled
from tests.support.flaky_stripe import flaky

pytestmark = pytest.mark.django_db(transaction=True)


def ask(checkout_id: int, amount: Decimal, reason: str, *, key: str) -> None:
    """An operator's refund, as the admin asks for it."""
    refunds.request_refund(
        checkout_id=checkout_id,
        amount=amount,
        reason=reason,
        requested_by="operator:anna",
        key=key,
        borne_by="platform",
    )


def captured_of(checkout: Checkout) -> Decimal:
    return Decimal(checkout.ledger.get(kind="capture").amount_minor) / 100


def test_a_partial_refund_goes_to_the_card_and_into_the_ledger_with_its_reason(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout = settled(cpo, live_server, stripe_settings)
    ask(checkout.pk, Decimal("0.20"), "cable was faulty", key="operator:1111")
    checkout.refresh_from_db()
    (entry,) = checkout.ledger.filter(kind="refund")
    assert (entry.amount_minor, entry.note) == (20, "cable was faulty")
    assert entry.idempotency_key == "refund:operator:1111"
    assert checkout.payment_status == "partially_refunded"
    (at_stripe,) = stripe_refunds(stripe_settings, checkout)
    assert at_stripe["amount"] == 20 and at_stripe["id"] == entry.stripe_id

    rest = captured_of(checkout) - Decimal("0.20")
    ask(checkout.pk, rest, "goodwill", key="operator:2222")
    checkout.refresh_from_db()
    assert checkout.payment_status == "refunded"
    assert sum(r["amount"] for r in stripe_refunds(stripe_settings, checkout)) == int(
        captured_of(checkout) * 100
    )


def test_a_refund_asked_twice_with_the_same_key_refunds_once(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout = settled(cpo, live_server, stripe_settings)
    for _ in range(2):
        ask(checkout.pk, Decimal("0.10"), "double click", key="operator:3333")
    assert len(stripe_refunds(stripe_settings, checkout)) == 1
    assert checkout.ledger.filter(kind="refund").count() == 1


def test_what_cannot_be_refunded_is_refused_in_words(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout = settled(cpo, live_server, stripe_settings)
    captured = captured_of(checkout)

    def refused(amount: Decimal, key: str) -> str:
        with pytest.raises(refunds.RefundRefused) as refusal:
            ask(checkout.pk, amount, "test", key=key)
        return refusal.value.message

    assert "at most" in refused(captured + Decimal("0.01"), "k1")
    assert "more than zero" in refused(Decimal("0"), "k2")
    assert "more than zero" in refused(Decimal("-1"), "k3")
    assert "decimal places" in refused(Decimal("0.001"), "k4")
    ask(checkout.pk, captured - Decimal("0.30"), "most of it", key="k5")
    assert "at most €0.30" in refused(Decimal("0.31"), "k6")
    assert "another refund" in refused(Decimal("0.10"), "k5")  # a key is one refund
    assert len(stripe_refunds(stripe_settings, checkout)) == 1


def test_a_checkout_still_holding_money_has_nothing_to_refund(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, _ = finished_session(cpo, live_server, stripe_settings)
    with pytest.raises(refunds.RefundRefused, match="nothing was captured"):
        ask(checkout.pk, Decimal("0.10"), "test", key="operator:held")


def test_stripe_failing_then_recovering_refunds_exactly_once(
    connected_cpo, live_server, stripe_settings, eager_tasks, settings
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout = settled(cpo, live_server, stripe_settings)
    with flaky(stripe_settings.base_url) as stripe:
        settings.STRIPE_API_BASE = stripe.url
        stripe.fail_next(4, status=503, path_contains="/v1/refunds")  # > the SDK's own retries
        ask(checkout.pk, Decimal("0.10"), "late start", key="operator:4444")
        assert len(stripe.failed) == 4
        assert stripe.count("POST", "/v1/refunds") == 1
    assert len(stripe_refunds(stripe_settings, checkout)) == 1
    assert checkout.ledger.filter(kind="refund").count() == 1
    assert Refund.objects.get().status == "refunded"


def test_a_refund_stripe_refuses_is_booked_as_failed_and_reaches_an_operator(
    connected_cpo, live_server, stripe_settings, eager_tasks, settings
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout = settled(cpo, live_server, stripe_settings)
    with flaky(stripe_settings.base_url) as stripe:
        settings.STRIPE_API_BASE = stripe.url
        stripe.fail_next(1, status=400, path_contains="/v1/refunds")
        ask(checkout.pk, Decimal("0.10"), "late start", key="operator:5555")
    settings.STRIPE_API_BASE = stripe_settings.base_url
    checkout.refresh_from_db()
    (failed,) = checkout.ledger.filter(kind="failed_refund")
    assert failed.amount_minor == 10 and "simulated 400" in failed.note
    assert not checkout.ledger.filter(kind="refund").exists()
    assert checkout.payment_status == "captured"
    case = Case.objects.get(kind="failed_refund")
    assert "€0.10" in case.summary and case.checkout_id == checkout.pk
    # a failed refund no longer counts against what may be refunded: the operator can retry
    ask(checkout.pk, Decimal("0.10"), "late start, again", key="operator:6666")
    assert checkout.ledger.filter(kind="refund").count() == 1


def test_a_worker_killed_between_the_refund_and_bookkeeping_refunds_exactly_once(
    connected_cpo, live_server, stripe_settings, eager_tasks, monkeypatch
) -> None:
    """localstripe, like Stripe a day after, forgets idempotency keys: the refund made under
    our key is found on the payment instead of being made again."""
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    book = refunds.record_refund

    def killed(**kwargs):
        raise RuntimeError("worker killed after Stripe refunded")

    monkeypatch.setattr(refunds, "record_refund", killed)
    ask(checkout.pk, Decimal("0.10"), "late start", key="operator:5555")
    assert len(stripe_refunds(stripe_settings, checkout)) == 1  # Stripe refunded
    assert not checkout.ledger.filter(kind="refund").exists()  # our books do not know yet
    monkeypatch.setattr(refunds, "record_refund", book)
    refund = Refund.objects.get()
    tasks.refund_payment.delay(refund.pk)  # the broker redelivers, twice for good measure
    tasks.refund_payment.delay(refund.pk)
    assert len(stripe_refunds(stripe_settings, checkout)) == 1
    assert checkout.ledger.filter(kind="refund").get().amount_minor == 10
    assert Refund.objects.get().status == "refunded"
