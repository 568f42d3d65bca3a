"""A dispute closes: won, the money comes back in the ledger and the payment is what the ledger
says again; lost, the ledger says the money is gone. Either way the case gets a line and stays
for an operator to resolve, and closing is final."""

import pytest

from payments import refunds
from payments.models import Case, Dispute
from stations.money import Money
from tests.payments.disputing import (
    captured,
    dispute_event,
    disputed,
    disputes_of,
    kept,
    post_webhook,
)
from tests.payments.settling import settled

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_dispute_won_gives_the_money_back_and_the_payment_is_captured_again(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    amount, secret = captured(checkout), stripe_settings.webhook_secret
    post_webhook(live_server, disputed(stripe_settings, checkout), secret)
    won = disputed(
        stripe_settings, checkout, "charge.dispute.closed", event_id="evt_dispute_2", status="won"
    )

    assert post_webhook(live_server, won, secret).status_code == 200

    checkout.refresh_from_db()
    assert checkout.payment_status == "captured"
    assert [e.amount_minor for e in disputes_of(checkout)] == [amount, -amount]
    assert "won" in disputes_of(checkout)[1].note
    assert kept(checkout) == amount
    case = Case.objects.get(kind=Case.Kind.DISPUTE)
    assert "Dispute dp_1 won" in case.summary and case.resolved_at is None
    assert Dispute.objects.get().closed_at is not None


def test_a_dispute_lost_says_the_money_is_gone(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    amount, secret = captured(checkout), stripe_settings.webhook_secret
    post_webhook(live_server, disputed(stripe_settings, checkout), secret)
    lost = disputed(
        stripe_settings, checkout, "charge.dispute.closed", event_id="evt_dispute_2", status="lost"
    )

    assert post_webhook(live_server, lost, secret).status_code == 200
    assert post_webhook(live_server, lost, secret).json()["replay"] is True

    checkout.refresh_from_db()
    assert checkout.payment_status == "disputed"
    opened, closed = disputes_of(checkout)
    assert (opened.amount_minor, closed.amount_minor) == (amount, 0)
    assert "lost" in closed.note and "gone for good" in closed.note
    assert kept(checkout) == 0
    case = Case.objects.get(kind=Case.Kind.DISPUTE)
    assert "Dispute dp_1 lost" in case.summary and case.resolved_at is None


def test_a_close_before_the_open_books_both_and_later_events_change_nothing(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    amount, secret = captured(checkout), stripe_settings.webhook_secret
    won = disputed(
        stripe_settings, checkout, "charge.dispute.closed", event_id="evt_dispute_2", status="won"
    )
    assert post_webhook(live_server, won, secret).status_code == 200
    late = [  # Stripe does not promise order: the older events come after the close
        dispute_event(checkout, "charge.dispute.created"),
        dispute_event(checkout, "charge.dispute.updated", event_id="evt_3", status="under_review"),
        dispute_event(checkout, "charge.dispute.closed", event_id="evt_4", status="lost"),
    ]
    for payload in late:
        assert post_webhook(live_server, payload, secret).status_code == 200

    checkout.refresh_from_db()
    assert [e.amount_minor for e in disputes_of(checkout)] == [amount, -amount]
    assert checkout.payment_status == "captured" and kept(checkout) == amount
    assert Dispute.objects.get().status == "won"
    assert "lost" not in Case.objects.get(kind=Case.Kind.DISPUTE).summary


def test_what_a_chargeback_took_back_cannot_be_refunded_again(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    amount, secret = captured(checkout), stripe_settings.webhook_secret
    part = amount // 2
    post_webhook(live_server, disputed(stripe_settings, checkout, amount=part), secret)

    with pytest.raises(refunds.RefundRefused, match="taken back by a dispute"):
        refunds.request_refund(
            checkout_id=checkout.pk,
            amount=Money.from_minor(amount - part + 1, checkout.currency).amount,
            reason="goodwill",
            requested_by="operator",
            key="operator:too-much",
            borne_by="platform",
        )
    refunds.request_refund(
        checkout_id=checkout.pk,
        amount=Money.from_minor(amount - part, checkout.currency).amount,
        reason="goodwill",
        requested_by="operator",
        key="operator:the-rest",
        borne_by="platform",
    )
    checkout.refresh_from_db()
    assert checkout.ledger.get(kind="refund").amount_minor == amount - part
    assert checkout.payment_status == "disputed"  # the dispute's outcome decides, not a refund
