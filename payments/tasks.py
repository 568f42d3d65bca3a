"""Thin task shells around payments.services: ids in, never model instances."""

from collections.abc import Callable
from datetime import timedelta
from functools import partial

from celery import Task, shared_task
from django.utils import timezone

from ocpi_peer import commands, sync
from ocpi_peer.client import PeerError
from ocpi_peer.models import Partner
from payments import (
    advice,
    charging,
    dispatch,
    gateway,
    receipt_mail,
    refunds,
    services,
    settlement,
    terminals,
)
from payments.models import Cdr, Checkout

RETRY_AFTER = timedelta(minutes=2)


@shared_task
def sweep_deadlines() -> int:
    claimed = services.due_deadlines(timezone.now(), retry_after=RETRY_AFTER)
    for pk in claimed:
        handle_deadline.delay(pk)  # autocommit here, so no on_commit needed
    return len(claimed)


@shared_task
def handle_deadline(deadline_id: int) -> None:
    dispatch.handle_deadline(deadline_id=deadline_id)


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


# A START_SESSION that never reached the CPO (no connection, HTTP 503) is sent again this many
# times, a few seconds apart; one that may have reached it is never sent twice.
START_ATTEMPTS = 3


@shared_task(bind=True, max_retries=START_ATTEMPTS - 1)
def start_charging(self: Task, checkout_id: int) -> None:
    """The hold is confirmed: mint the driver's token, push it where the CPO keeps tokens,
    and send START_SESSION."""
    charging.issue_and_push_token(checkout_id=checkout_id)
    command_id = charging.begin_start(checkout_id=checkout_id)
    if command_id is None:
        return
    sent = commands.send(command_id)
    if sent.outcome == "in_flight":
        return
    last_try = self.request.retries >= START_ATTEMPTS - 1
    charging.record_start_outcome(checkout_id=checkout_id, sent=sent, final=last_try)
    if sent.outcome == "not_received" and not last_try:
        raise self.retry(countdown=2 * (self.request.retries + 1))


@shared_task(bind=True, max_retries=START_ATTEMPTS - 1)
def send_stop(self: Task, checkout_id: int) -> None:
    """STOP_SESSION with the same care as START: re-sent only when it cannot have arrived."""
    command_id = charging.begin_stop(checkout_id=checkout_id)
    if command_id is None:
        return
    sent = commands.send(command_id)
    if sent.outcome == "in_flight":
        return
    if sent.outcome == "not_received" and self.request.retries < START_ATTEMPTS - 1:
        raise self.retry(countdown=2 * (self.request.retries + 1))
    charging.record_stop_outcome(checkout_id=checkout_id, sent=sent)


@shared_task
def send_command(command_id: int) -> str:
    """A command whose outcome nothing waits on (UNLOCK_CONNECTOR): sent once, recorded."""
    return commands.send(command_id).outcome


@shared_task(bind=True, max_retries=12)
def settle_cdr(self: Task, cdr_pk: int) -> str:
    """Capture what the CDR says the driver owes (never more than shown or held) and settle.
    Stripe errors that may pass (429, 5xx, no connection) are retried with backoff; the
    idempotency key and the ledger's unique keys make a retry move no money twice."""
    plan = settlement.plan_capture(cdr_pk=cdr_pk)
    if plan is None:  # a credit CDR, or one for a settled checkout: reconcile
        checkout_id = Cdr.objects.values_list("checkout_id", flat=True).get(pk=cdr_pk)
        if checkout_id is None:
            return "nothing to settle"
        return settlement.reconcile(checkout_id=checkout_id)
    intent = _capture_or_release(
        self,
        plan,
        failed=partial(settlement.capture_failed, checkout_id=plan.checkout_id, cdr_pk=cdr_pk),
    )
    if intent is None:
        return "failed"
    settlement.record_capture(plan=plan, cdr_pk=cdr_pk, intent=intent)
    return f"captured {plan.capture_minor}"


def _capture_or_release(
    task: Task,
    plan: settlement.CapturePlan | settlement.HoldPlan,
    *,
    failed: Callable[..., None],
) -> gateway.Intent | None:
    """Capture the plan's amount, or cancel the hold when it is nothing, under the intent's
    one key for each (so the two settling paths can never both move money). Errors that may
    pass are retried with backoff; anything else is `failed(error=…)`, and None returned."""
    try:
        if plan.capture_minor:
            return gateway.capture(
                plan.intent_id,
                amount_minor=plan.capture_minor,
                idempotency_key=f"capture:{plan.intent_id}",
            )
        return gateway.cancel(plan.intent_id, idempotency_key=f"release:{plan.intent_id}")
    except gateway.GatewayError as exc:
        if exc.transient and task.request.retries < task.max_retries:
            raise task.retry(exc=exc, countdown=_backoff(task.request.retries)) from exc
        failed(error=str(exc))
    except ValueError as exc:  # more than the hold can give: never asked of Stripe
        failed(error=str(exc))
    return None


def _backoff(retries: int) -> int:
    return min(30 * 2**retries, 3600)


@shared_task(bind=True, max_retries=12)
def refund_payment(self: Task, refund_id: int) -> str:
    """Send one refund to Stripe (idempotency key `refund:<key>`) and book it. Errors that may
    pass are retried with backoff (about six hours in all); a refusal, or the last retry
    failing, books FAILED_REFUND and opens a case."""
    refund = refunds.refund_to_send(refund_id)
    if refund is None:
        return "done already"
    try:
        stripe_id = gateway.refund(
            refund.checkout.stripe_payment_intent,
            amount_minor=refund.amount_minor,
            idempotency_key=f"refund:{refund.key}",
            reason=refund.reason[:500],
        )
    except gateway.GatewayError as exc:
        if exc.transient and self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
        refunds.record_refund_failure(refund_id=refund_id, error=str(exc))
        return "failed"
    refunds.record_refund(refund_id=refund_id, stripe_refund_id=stripe_id)
    return f"refunded {refund.amount_minor}"


@shared_task
def reconcile_checkout(checkout_id: int) -> str:
    """A settled checkout brought in line with all its CDRs (credits, corrections)."""
    return settlement.reconcile(checkout_id=checkout_id)


@shared_task(bind=True, max_retries=8)
def withdraw_token(self: Task, checkout_id: int) -> str:
    """After settlement: the driver's token is invalid here at once, and at the CPO's tokens
    receiver as soon as it answers (best effort, retried with backoff)."""
    token = charging.withdraw_token(checkout_id=checkout_id)
    if token is None:
        return "no token"
    checkout = Checkout.objects.select_related("partner", "evse__location").get(pk=checkout_id)
    outcome = commands.withdraw_token(checkout.partner, token, to=charging.party_of(checkout))
    if outcome == "failed" and self.request.retries < self.max_retries:
        raise self.retry(countdown=_backoff(self.request.retries))
    return outcome


@shared_task
def push_token(checkout_id: int) -> bool:
    """The checkout's party moved to another connection: its token is pushed there too (best
    effort, like the first push: the CPO may still ask for it in real time)."""
    return charging.push_token_again(checkout_id=checkout_id)


@shared_task
def pull_missing_cdr(checkout_id: int) -> str:
    """A checkout finished long ago without a CDR: pull its CPO's CDRs from the checkout's
    start (a CDR found settles it as a pushed one would); if still none, flag and re-arm."""
    partner_id, since = settlement.missing_cdr_since(checkout_id)
    try:
        pulled = sync.pull(partner_id=partner_id, module="cdrs", since=since).line()
    except (PeerError, sync.SyncImpossible) as exc:
        pulled = f"failed: {exc}"
    settlement.missing_cdr_checked(checkout_id=checkout_id, pulled=pulled)
    return pulled


@shared_task
def pull_sessions(checkout_id: int) -> str:
    """No Session pushed for a checkout that waits for one or charges: pull its CPO's Sessions
    from the checkout's start (a Session found moves it as a pushed one would). A failure is
    only reported: the next look (`charging.session_pull_due`) is armed already."""
    partner_id, since = charging.session_pull_since(checkout_id)
    try:
        return sync.pull(partner_id=partner_id, module="sessions", since=since).line()
    except (PeerError, sync.SyncImpossible) as exc:
        return f"failed: {exc}"


@shared_task(bind=True, max_retries=12)
def settle_expiring_hold(self: Task, checkout_id: int) -> str:
    """The card's capture deadline is near and no CDR came: capture what the last Session
    supports, or release, by policy; retried like `settle_cdr`, with the same idempotency keys,
    so a CDR settling at the same moment moves no money twice."""
    plan = settlement.plan_expiring_hold(checkout_id=checkout_id)
    if plan is None:
        return "nothing to do"
    intent = _capture_or_release(
        self, plan, failed=partial(settlement.capture_failed, checkout_id=checkout_id)
    )
    if intent is None:
        return "failed"
    settlement.record_expiring_hold(plan=plan, intent=intent)
    return f"captured {plan.capture_minor}"


@shared_task(bind=True, max_retries=6)
def send_receipt(self: Task, checkout_id: int) -> bool:
    """E-mail the receipt once the checkout is settled; a mail server that fails is tried
    again with backoff (the receipt stays on its page whatever happens)."""
    try:
        return receipt_mail.send_receipt(checkout_id=checkout_id)
    except OSError as exc:  # SMTP errors are OSErrors
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(bind=True, max_retries=6)
def send_credit_note(self: Task, credit_note_id: int) -> bool:
    """E-mail a refund's credit note once; a mail server that fails is tried again."""
    try:
        return receipt_mail.send_credit_note(credit_note_id=credit_note_id)
    except OSError as exc:  # SMTP errors are OSErrors
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task
def erase_old_emails() -> int:
    return receipt_mail.erase_old_emails(now=timezone.now())


@shared_task(bind=True, max_retries=6)
def send_link_mail(self: Task, link_mail_id: int) -> bool:
    """E-mail a driver the link to their checkout; a mail server that fails is tried again."""
    try:
        return receipt_mail.send_link_mail(link_mail_id=link_mail_id)
    except OSError as exc:  # SMTP errors are OSErrors
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task
def provide_terminals() -> int:
    """Every registered 2.3.0 connection's CPO parties have a terminal of ours, created at the
    CPO: new ones are made, and those the CPO has not taken yet are pushed again (beat)."""
    queued = 0
    for partner_id in Partner.objects.filter(status=Partner.Status.REGISTERED).values_list(
        "pk", flat=True
    ):
        queued += len(terminals.provide_terminals(partner_id=partner_id))
    return queued


@shared_task
def push_terminal(terminal_id: int) -> bool:
    """Create one of our terminals at the CPO; `provide_terminals` tries again if it fails."""
    return terminals.push_terminal(terminal_id)


@shared_task
def send_advice(advice_id: int) -> str:
    """POST one Financial Advice Confirmation; its ADVICE_PUSH deadline retries a failure."""
    return advice.send_advice(advice_id)
