"""Thin task shells around payments.services: ids in, never model instances."""

from datetime import timedelta

from celery import Task, shared_task
from django.utils import timezone

from payments import gateway, services
from payments.models import Checkout

RETRY_AFTER = timedelta(minutes=2)


@shared_task
def sweep_deadlines() -> int:
    claimed = services.due_deadlines(timezone.now(), retry_after=RETRY_AFTER)
    for pk in claimed:
        handle_deadline.delay(pk)  # autocommit here, so no on_commit needed
    return len(claimed)


@shared_task
def handle_deadline(deadline_id: int) -> None:
    services.handle_deadline(deadline_id=deadline_id)


@shared_task(bind=True, max_retries=12)
def release_hold(self: Task, checkout_id: int) -> None:
    """Cancel the PaymentIntent so the driver's money is free again; retried with backoff while
    Stripe is unreachable (a cancel is idempotent)."""
    intent_id = Checkout.objects.values_list("stripe_payment_intent", flat=True).get(pk=checkout_id)
    if not intent_id:
        return
    try:
        intent = gateway.cancel(intent_id, idempotency_key=f"release:{intent_id}")
    except gateway.GatewayError as exc:
        if not exc.transient:
            raise
        raise self.retry(exc=exc, countdown=min(30 * 2**self.request.retries, 3600)) from exc
    services.record_release(checkout_id=checkout_id, intent=intent)
