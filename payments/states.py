"""The checkout's state machine (ARCHITECTURE.md "Checkout states"), at the bottom of
`payments`: every module that moves a checkout imports it, and it imports no other of them.

`move` only checks and sets the status; the caller holds the checkout's lock and saves it."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from payments.models import Checkout
from payments.queue import enqueue_on_commit

Status = Checkout.Status


class CheckoutError(Exception):
    """Something the driver must be told; the message is meant for them (or the API client)."""

    code = "checkout_error"


class TransitionRefused(CheckoutError):
    code = "transition_refused"


ALLOWED_FROM: dict[str, set[str]] = {  # the state machine, one line a target
    Status.AUTHORIZED: {Status.CREATED},
    Status.STARTING: {Status.AUTHORIZED},
    Status.CHARGING: {Status.AUTHORIZED, Status.STARTING},
    Status.STOPPING: {Status.STARTING, Status.CHARGING},
    Status.FINISHED: {Status.STARTING, Status.CHARGING, Status.STOPPING},
    Status.FAILED: {
        Status.CREATED,
        Status.AUTHORIZED,
        Status.STARTING,
        Status.CHARGING,
        Status.STOPPING,
    },
    Status.EXPIRED: {Status.CREATED},
}


def move(checkout: Checkout, to: str) -> None:
    """Set the status, or raise TransitionRefused when the machine has no such move."""
    if checkout.status not in ALLOWED_FROM[to]:
        raise TransitionRefused(
            _("checkout is %(status)s, it cannot become %(to)s")
            % {"status": checkout.status, "to": to}
        )
    checkout.status = to


def let_go(checkout: Checkout) -> None:
    """The checkout no longer holds its EVSE; any hold is released by a task after commit."""
    checkout.evse_claim = None
    checkout.ended_at = timezone.now()
    if checkout.stripe_payment_intent and checkout.payment_status in (
        Checkout.PaymentStatus.NONE,
        Checkout.PaymentStatus.HELD,
    ):
        enqueue_on_commit("payments.tasks.release_hold", checkout.pk)
