"""What arrives from outside the flow (a due deadline, a Stripe event) handed to the module
whose business it is. It sits on top of `services`, `charging`, `settlement` and `disputes`,
which know nothing of it, so that none of them has to import another upwards; the tasks and
the webhook view call it."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from payments import advice, charging, disputes, gateway, services, settlement
from payments.models import Checkout, Deadline

logger = logging.getLogger(__name__)

_SETTLEMENT_DEADLINES = {
    Deadline.Kind.CREDIT_WAIT,
    Deadline.Kind.MISSING_CDR,
    Deadline.Kind.HOLD_EXPIRING,
}


@transaction.atomic(durable=True)
def handle_deadline(*, deadline_id: int) -> None:
    """Re-checks under the checkout's lock: a twin task, or a payment or session that came in
    meanwhile, makes this a no-op."""
    checkout_id = Deadline.objects.values_list("checkout_id", flat=True).get(pk=deadline_id)
    checkout = Checkout.objects.select_for_update().get(pk=checkout_id)
    deadline = Deadline.objects.get(pk=deadline_id)
    if deadline.done_at is not None:
        return
    if deadline.kind == Deadline.Kind.UNPAID:
        if not services.unpaid_deadline_due(checkout, deadline):
            return
    elif deadline.kind == Deadline.Kind.COMMAND_TIMEOUT:
        charging.command_timed_out(checkout)
    elif deadline.kind == Deadline.Kind.START_GRACE:
        charging.start_grace_over(checkout)
    elif deadline.kind == Deadline.Kind.SESSION_PULL:
        charging.session_pull_due(checkout)
    elif deadline.kind == Deadline.Kind.ADVICE_PUSH:
        advice.advice_due(checkout)
    elif deadline.kind in _SETTLEMENT_DEADLINES:
        settlement.deadline_due(checkout, deadline.kind)
    deadline.done_at = timezone.now()
    deadline.save(update_fields=["done_at"])


def record_stripe_event(event: gateway.WebhookEvent) -> bool:
    """Store each event once and act on it as `confirm` would: read the intent (or the
    dispute) from Stripe and apply that, never the event's body. Returns False for a replay,
    which changes nothing."""
    if event.dispute_id is not None:
        # Read before anything is stored: if Stripe cannot answer now, the event fails and
        # Stripe sends it again.
        dispute = gateway.retrieve_dispute(event.dispute_id)
        if dispute is None:  # Stripe knows no such dispute: stored, and nothing booked
            logger.warning(
                "event %s names dispute %s, which Stripe does not know", event.id, event.dispute_id
            )
            return services.stored_stripe_event(event)
        # stored with what it books, in one transaction
        return disputes.record_dispute_event(event=event, dispute=dispute)
    if not services.stored_stripe_event(event):
        return False
    if event.intent_id:
        checkout = Checkout.objects.filter(stripe_payment_intent=event.intent_id).first()
        if checkout is not None:
            services.apply_intent(checkout_id=checkout.pk, intent=gateway.retrieve(event.intent_id))
    return True
