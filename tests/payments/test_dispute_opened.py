"""A driver's bank disputes a settled payment: Stripe's `charge.dispute.*` webhook, signed as
Stripe signs it and POSTed over HTTP to our live server, books the dispute once, marks the
payment disputed and opens a case for an operator.

localstripe sends no dispute events, so the tests build them as Stripe documents them (an
event whose `data.object` is a dispute), after the fake Stripe was given the dispute (what a
bank does); the events are the one part that is not Stripe's own."""

from datetime import UTC, datetime, timedelta

import pytest
import requests

from payments import gateway
from payments.models import Case, Dispute, StripeEvent
from tests.payments.disputing import (
    captured,
    dispute_event,
    disputed,
    disputes_of,
    kept,
    post_webhook,
)
from tests.payments.settling import settled
from tests.support.localstripe import card_payment_method, set_dispute, stripe_signature

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_dispute_is_booked_marks_the_payment_and_opens_a_case(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    amount = captured(checkout)

    answer = post_webhook(
        live_server, disputed(stripe_settings, checkout), stripe_settings.webhook_secret
    )

    assert answer.status_code == 200 and answer.json() == {"received": True, "replay": False}
    checkout.refresh_from_db()
    assert checkout.payment_status == "disputed"
    [entry] = disputes_of(checkout)
    assert entry.amount_minor == amount and entry.currency == checkout.currency
    assert entry.idempotency_key == "dispute:dp_1"
    assert entry.stripe_id == "dp_1"
    assert "fraudulent" in entry.note and "needs_response" in entry.note
    assert kept(checkout) == 0
    case = Case.objects.get(kind=Case.Kind.DISPUTE)
    assert case.checkout == checkout and case.partner_id == checkout.partner_id
    assert case.resolved_at is None
    shown = f"€{amount // 100}.{amount % 100:02d}"
    for figure in (shown, "fraudulent", "needs_response", "2030-01-15 23:59 UTC"):
        assert figure in case.summary
    assert "dp_1" in checkout.flag
    assert Dispute.objects.get().status == "needs_response"


def test_a_replayed_or_repeated_dispute_event_books_nothing_twice(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    secret = stripe_settings.webhook_secret
    created = disputed(stripe_settings, checkout)
    assert post_webhook(live_server, created, secret).json()["replay"] is False
    assert post_webhook(live_server, created, secret).json() == {"received": True, "replay": True}
    # the same state again under other events: funds withdrawn, then an update that changes nothing
    for n, kind in enumerate(("charge.dispute.funds_withdrawn", "charge.dispute.updated")):
        same = dispute_event(checkout, kind, event_id=f"evt_dispute_again_{n}")
        assert post_webhook(live_server, same, secret).status_code == 200

    checkout.refresh_from_db()
    assert len(disputes_of(checkout)) == 1 and kept(checkout) == 0
    assert Case.objects.filter(kind=Case.Kind.DISPUTE).count() == 1
    assert Case.objects.get(kind=Case.Kind.DISPUTE).summary.count("\n") == 0  # no line added
    assert StripeEvent.objects.filter(event_id__startswith="evt_dispute").count() == 3
    assert checkout.payment_status == "disputed"


def test_a_status_change_adds_a_line_to_the_case_and_moves_no_money(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    secret = stripe_settings.webhook_secret
    post_webhook(live_server, disputed(stripe_settings, checkout), secret)
    update = disputed(
        stripe_settings,
        checkout,
        "charge.dispute.updated",
        event_id="evt_dispute_2",
        status="under_review",
    )
    assert post_webhook(live_server, update, secret).status_code == 200

    checkout.refresh_from_db()
    assert len(disputes_of(checkout)) == 1
    assert "status under_review (was needs_response)" in Case.objects.get().summary
    assert Dispute.objects.get().status == "under_review"
    assert checkout.payment_status == "disputed"


def test_an_inquiry_moves_no_money_until_it_closes(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    secret = stripe_settings.webhook_secret
    inquiry = disputed(stripe_settings, checkout, status="warning_needs_response", reason="general")
    assert post_webhook(live_server, inquiry, secret).status_code == 200
    checkout.refresh_from_db()
    assert checkout.payment_status == "disputed" and not disputes_of(checkout)
    assert Case.objects.get().summary.startswith("Inquiry dp_1")

    closed = disputed(
        stripe_settings,
        checkout,
        "charge.dispute.closed",
        event_id="evt_dispute_2",
        status="warning_closed",
        reason="general",
    )
    assert post_webhook(live_server, closed, secret).status_code == 200
    checkout.refresh_from_db()
    assert checkout.payment_status == "captured" and not disputes_of(checkout)
    assert "closed without a chargeback" in Case.objects.get().summary


def test_a_dispute_about_an_unknown_intent_is_stored_and_touches_nothing(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    ledger_before = list(checkout.ledger.values_list("kind", "amount_minor"))
    not_ours = gateway.place_hold(  # a payment on the same Stripe account, not a checkout's
        amount_minor=1000,
        currency="EUR",
        payment_method=card_payment_method(stripe_settings.base_url, "4242424242424242"),
        checkout_ref="elsewhere",
        idempotency_key="hold:elsewhere",
    )
    set_dispute(stripe_settings.base_url, "dp_1", payment_intent=not_ours.id)
    payload = dispute_event(checkout, intent_id=not_ours.id)

    answer = post_webhook(live_server, payload, stripe_settings.webhook_secret)

    assert answer.status_code == 200
    assert StripeEvent.objects.get(event_id="evt_dispute_1").intent_id == not_ours.id
    checkout.refresh_from_db()
    assert checkout.payment_status == "captured"
    assert list(checkout.ledger.values_list("kind", "amount_minor")) == ledger_before
    assert not Dispute.objects.exists() and not Case.objects.filter(kind="dispute").exists()


def test_a_dispute_event_with_a_bad_signature_is_a_400_and_changes_nothing(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    payload = dispute_event(checkout)

    forged = post_webhook(live_server, payload, "whsec_someone_else")
    unsigned = requests.post(
        f"{live_server.url}/stripe/webhook/",
        data=payload,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    stale = requests.post(  # signed correctly, but an hour ago: outside Stripe's tolerance
        f"{live_server.url}/stripe/webhook/",
        data=payload,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": stripe_signature(
                payload,
                stripe_settings.webhook_secret,
                int((datetime.now(UTC) - timedelta(hours=1)).timestamp()),
            ),
        },
        timeout=10,
    )

    assert (forged.status_code, unsigned.status_code, stale.status_code) == (400, 400, 400)
    checkout.refresh_from_db()
    assert checkout.payment_status == "captured" and not disputes_of(checkout)
    assert not StripeEvent.objects.filter(event_id="evt_dispute_1").exists()
    assert not Dispute.objects.exists() and not Case.objects.filter(kind="dispute").exists()
