"""A `charge.dispute.*` webhook is a hint: we ask Stripe for the dispute it names and book what
Stripe says. A body signed with our secret can still be old (replayed within the tolerance, or
overtaken by later events) or name a dispute Stripe never opened; neither moves money."""

import pytest

from payments import gateway
from payments.models import Case, Dispute, StripeEvent
from tests.payments.disputing import captured, dispute_event, disputed, disputes_of, post_webhook
from tests.payments.settling import settled
from tests.support.flaky_stripe import flaky
from tests.support.localstripe import set_dispute

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_books_the_status_and_amount_stripe_has_not_the_body_s(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    amount = captured(checkout)
    part = amount // 2
    set_dispute(
        stripe_settings.base_url,
        "dp_1",
        payment_intent=checkout.stripe_payment_intent,
        amount=part,
        status="needs_response",
        reason="fraudulent",
    )
    says_lost = dispute_event(
        checkout, "charge.dispute.closed", status="lost", reason="general", amount=amount
    )

    answer = post_webhook(live_server, says_lost, stripe_settings.webhook_secret)

    assert answer.status_code == 200 and answer.json()["replay"] is False
    checkout.refresh_from_db()
    [entry] = disputes_of(checkout)  # opened for Stripe's amount; no "lost" outcome booked
    assert entry.amount_minor == part and entry.idempotency_key == "dispute:dp_1"
    assert "needs_response" in entry.note and "fraudulent" in entry.note
    row = Dispute.objects.get()
    assert (row.status, row.amount_minor, row.reason) == ("needs_response", part, "fraudulent")
    assert row.closed_at is None and checkout.payment_status == "disputed"
    summary = Case.objects.get(kind=Case.Kind.DISPUTE).summary
    assert "needs_response" in summary and "lost" not in summary


def test_a_dispute_stripe_does_not_know_books_nothing(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    ledger_before = list(checkout.ledger.values_list("kind", "amount_minor"))
    forged = dispute_event(checkout, dispute_id="du_never_opened", event_id="evt_forged")

    answer = post_webhook(live_server, forged, stripe_settings.webhook_secret)
    again = post_webhook(live_server, forged, stripe_settings.webhook_secret)

    assert answer.status_code == 200 and answer.json()["replay"] is False
    assert again.status_code == 200 and again.json()["replay"] is True
    checkout.refresh_from_db()
    assert checkout.payment_status == "captured"
    assert list(checkout.ledger.values_list("kind", "amount_minor")) == ledger_before
    assert not Dispute.objects.exists() and not Case.objects.filter(kind="dispute").exists()
    assert StripeEvent.objects.filter(event_id="evt_forged").count() == 1


def test_the_checkout_is_the_one_of_the_intent_stripe_names(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    set_dispute(stripe_settings.base_url, "dp_1", payment_intent=checkout.stripe_payment_intent)
    elsewhere = dispute_event(checkout, intent_id="pi_someone_elses")

    assert post_webhook(live_server, elsewhere, stripe_settings.webhook_secret).status_code == 200

    checkout.refresh_from_db()
    assert checkout.payment_status == "disputed"
    assert [e.amount_minor for e in disputes_of(checkout)] == [captured(checkout)]
    assert StripeEvent.objects.get(event_id="evt_dispute_1").intent_id == (
        checkout.stripe_payment_intent
    )


def test_while_stripe_cannot_answer_the_event_fails_and_its_retry_books_it(
    connected_cpo, live_server, stripe_settings, eager_tasks, settings
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    payload = disputed(stripe_settings, checkout)
    with flaky(stripe_settings.base_url) as stripe:
        settings.STRIPE_API_BASE = stripe.url
        stripe.fail_next(1 + gateway.NETWORK_RETRIES, status=503, path_contains="/v1/disputes/")

        failed = post_webhook(live_server, payload, stripe_settings.webhook_secret)
        assert failed.status_code >= 500  # Stripe sends it again later
        assert not StripeEvent.objects.exists() and not disputes_of(checkout)

        retried = post_webhook(live_server, payload, stripe_settings.webhook_secret)

    assert retried.status_code == 200 and retried.json()["replay"] is False
    assert [e.amount_minor for e in disputes_of(checkout)] == [captured(checkout)]
