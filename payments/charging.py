"""From held money to energy flowing and back (ARCHITECTURE.md "Checkout states"): START_SESSION
and its outcome, the CPO's Sessions, and stopping. Each function is one write in one
transaction with the checkout locked first; the OCPI calls themselves run in tasks."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import simplejson
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy

from ocpi_peer import commands
from ocpi_peer.models import CommandRequest, Partner
from payments import costs
from payments.cases import open_case
from payments.models import Case, ChargingSession, Checkout, Deadline, DriverToken
from payments.queue import enqueue_on_commit
from payments.services import UnknownCheckout, issue_token
from payments.states import ALLOWED_FROM, let_go, move

Status = Checkout.Status

# A CPO's own command timeout is clamped to this window; a 2.1.1 CPO states none (120 s).
COMMAND_TIMEOUT_BOUNDS = (30, 180)

RESULT_WORDS = {
    "REJECTED": gettext_lazy("the charger refused to start"),
    "EVSE_OCCUPIED": gettext_lazy("the charger is occupied"),
    "EVSE_INOPERATIVE": gettext_lazy("the charger is out of order"),
    "FAILED": gettext_lazy("the charger could not start"),
    "NOT_SUPPORTED": gettext_lazy("the charger cannot be started remotely"),
    "TIMEOUT": gettext_lazy("the charger did not answer its operator"),
    "UNKNOWN_SESSION": gettext_lazy("the operator did not know the session"),
}


def _fail_start(checkout: Checkout, reason: str) -> None:
    """The start failed: the driver is told why and the hold is released at once."""
    move(checkout, Status.FAILED)
    checkout.failure_reason = reason
    let_go(checkout)
    checkout.save()


# --- starting -------------------------------------------------------------------------------


def issue_and_push_token(*, checkout_id: int) -> DriverToken:
    """The driver's token, pushed first where the CPO offers a tokens receiver (many 2.1.1
    CPMS accept only tokens they hold). A failed push is recorded, not fatal: the START that
    follows carries the whole token anyway."""
    token = issue_token(checkout_id=checkout_id)
    if token.pushed_at is None:
        checkout = Checkout.objects.select_related("partner", "evse__location").get(pk=checkout_id)
        if commands.push_token(checkout.partner, token, to=party_of(checkout)):
            DriverToken.objects.filter(pk=token.pk).update(pushed_at=timezone.now())
    return token


def push_token_again(*, checkout_id: int) -> bool:
    """Push the checkout's token to the connection that now carries it (its party moved, see
    `payments.party_moves`), unless it is withdrawn meanwhile or was pushed there already.
    Returns whether that connection took it; a failure is recorded in the traffic log only."""
    token = DriverToken.objects.filter(checkout_id=checkout_id).first()
    if token is None or not token.valid or token.pushed_at is not None:
        return False
    checkout = Checkout.objects.select_related("partner", "evse__location").get(pk=checkout_id)
    if not commands.push_token(checkout.partner, token, to=party_of(checkout)):
        return False
    DriverToken.objects.filter(pk=token.pk, pushed_at=None).update(pushed_at=timezone.now())
    return True


def party_of(checkout: Checkout) -> tuple[str, str]:
    """The CPO party whose charger the checkout is for: the OCPI-to-* routing headers of its
    commands and its token's pushes (a hub or a CPMS hosting several parties routes by it)."""
    location = checkout.evse.location
    return location.country_code, location.party_id


@transaction.atomic(durable=True)
def withdraw_token(*, checkout_id: int) -> DriverToken | None:
    """The checkout is settled: its single-use token may never charge again (TK-05). Returns
    it, now invalid (already invalid on a repeat), or None if none was issued."""
    Checkout.objects.select_for_update().get(pk=checkout_id)
    token = DriverToken.objects.select_for_update().filter(checkout_id=checkout_id).first()
    if token is not None and token.valid:
        token.valid, token.last_updated = False, timezone.now()
        token.save(update_fields=["valid", "last_updated"])
    return token


@transaction.atomic(durable=True)
def begin_start(*, checkout_id: int) -> int | None:
    """AUTHORIZED → STARTING with a START_SESSION to send; returns its id. A redelivered task
    gets the same command back only if it was never sent or never reached the CPO."""
    checkout = (
        Checkout.objects.select_for_update()
        .select_related("evse__location", "connector")
        .get(pk=checkout_id)
    )
    if checkout.status == Status.STARTING:
        command = checkout.commands.filter(command="START_SESSION").order_by("-created_at").first()
        if command is not None and (command.sent_at is None or command.reached is False):
            return command.pk
        return None
    if checkout.status != Status.AUTHORIZED:
        return None
    move(checkout, Status.STARTING)
    checkout.save(update_fields=["status"])
    command = CommandRequest.objects.create(
        partner=checkout.partner,
        checkout=checkout,
        command="START_SESSION",
        **_routed_to(checkout),
    )
    evse = checkout.evse
    command.request_body = commands.start_session_body(
        partner=checkout.partner,
        command=command,
        token=DriverToken.objects.get(checkout=checkout),
        location_id=evse.location.ocpi_id,
        evse_uid=evse.uid,
        connector_id=checkout.connector.connector_id,
        connector_required="START_SESSION_CONNECTOR_REQUIRED" in evse.capabilities,
        authorization_reference=checkout.authorization_reference,
    )
    command.save(update_fields=["request_body"])
    return command.pk


def _routed_to(checkout: Checkout) -> dict[str, str]:
    country_code, party_id = party_of(checkout)
    return {"to_country_code": country_code, "to_party_id": party_id}


@transaction.atomic(durable=True)
def record_start_outcome(*, checkout_id: int, sent: commands.Sent, final: bool) -> None:
    """After the START_SESSION POST: wait for the result (accepted, or it may have arrived),
    fail at once (refused, or never reached after the last try), else the task tries again."""
    checkout = Checkout.objects.select_for_update().get(pk=checkout_id)
    if checkout.status != Status.STARTING:
        return
    if sent.outcome in ("accepted", "unknown"):
        low, high = COMMAND_TIMEOUT_BOUNDS
        wait = min(max(sent.timeout or 120, low), high)
        Deadline.objects.create(
            checkout=checkout,
            kind=Deadline.Kind.COMMAND_TIMEOUT,
            due_at=timezone.now() + timedelta(seconds=wait),
        )
        Deadline.objects.create(
            checkout=checkout,
            kind=Deadline.Kind.SESSION_PULL,
            due_at=timezone.now() + settings.SESSION_PULL_AFTER,
        )
    elif sent.outcome == "refused" or final:
        reason = RESULT_WORDS.get(sent.reason) or gettext_lazy(
            "the charger's operator could not be reached"
            if sent.outcome == "not_received"
            else "the charger's operator refused to start it"
        )
        _fail_start(checkout, str(reason))


class UnknownCommand(LookupError):
    pass


class UnknownSession(LookupError):
    pass


class SessionOfAnother(LookupError):
    """A session id another connection holds under this party: never taken over."""


def record_command_result(*, partner: Partner, callback_id: str, result: str, message: str) -> None:
    """A CommandResult on our response_url. A repeat changes nothing; a late one is recorded.
    A refused start fails the checkout unless a session already turned up."""
    command = CommandRequest.objects.filter(callback_id=callback_id, partner=partner).first()
    if command is None:
        raise UnknownCommand("no such command")
    with transaction.atomic(durable=True):
        checkout = (
            Checkout.objects.select_for_update().get(pk=command.checkout_id)
            if command.checkout_id
            else None
        )
        command = CommandRequest.objects.select_for_update().get(pk=command.pk)
        if command.result:
            return
        command.result, command.message, command.result_at = result, message[:2000], timezone.now()
        if checkout is not None:
            waiting = checkout.deadlines.filter(kind=Deadline.Kind.COMMAND_TIMEOUT, done_at=None)
            command.late = command.command == "START_SESSION" and not waiting.exists()
        command.save(update_fields=["result", "message", "result_at", "late"])
        if checkout is None:
            return
        if command.command == "START_SESSION" and result == "TIMEOUT":
            # The charger did not answer its CPO: it may still start (CPMS often do). Like no
            # result at all: the driver is told, the hold stands through the grace period.
            checkout.deadlines.filter(kind=Deadline.Kind.COMMAND_TIMEOUT, done_at=None).update(
                done_at=timezone.now()
            )
            command_timed_out(checkout)
        elif command.command == "START_SESSION" and result != "ACCEPTED":
            if checkout.status == Status.STARTING and not checkout.sessions.exists():
                _fail_start(checkout, str(RESULT_WORDS.get(result, result)))
        elif command.command == "STOP_SESSION" and result != "ACCEPTED":
            open_case(
                Case.Kind.STOP_FAILED,
                f"STOP_SESSION answered {result}: {message}".strip(": "),
                key=f"stop-result:{command.pk}",
                checkout=checkout,
            )


def command_timed_out(checkout: Checkout) -> None:
    """No result and no session within the CPO's timeout: tell the driver, keep the hold for
    START_GRACE_SECONDS (CPMS often answer late, or report a timeout and start anyway)."""
    if checkout.status != Status.STARTING or checkout.sessions.exists():
        return
    checkout.start_unconfirmed = True
    checkout.save(update_fields=["start_unconfirmed"])
    Deadline.objects.create(
        checkout=checkout,
        kind=Deadline.Kind.START_GRACE,
        due_at=timezone.now() + timedelta(seconds=settings.START_GRACE_SECONDS),
    )


# While a checkout is in one of these its Session is still to come or to change.
_SESSION_AWAITED = (Status.STARTING, Status.CHARGING, Status.STOPPING)


def session_pull_due(checkout: Checkout) -> None:
    """Its Session may not be pushed to us (a CPMS that does not push, a push lost): while the
    checkout waits for it or charges, look again in SESSION_PULL_EVERY, and pull the CPO's
    Sessions now (after commit) unless the CPO pushed this one within that time. A pulled
    Session moves the checkout as a pushed one does. Called with the checkout locked."""
    if checkout.status not in _SESSION_AWAITED:
        return
    if checkout.partner.endpoint("sessions", "SENDER") is None:
        return  # nothing to pull from: its pushes are all we can have
    now = timezone.now()
    Deadline.objects.create(
        checkout=checkout, kind=Deadline.Kind.SESSION_PULL, due_at=now + settings.SESSION_PULL_EVERY
    )
    pushed = checkout.sessions.aggregate(last=Max("pushed_at"))["last"]
    if pushed is None or now - pushed >= settings.SESSION_PULL_EVERY:
        enqueue_on_commit("payments.tasks.pull_sessions", checkout.pk)


def session_pull_since(checkout_id: int) -> tuple[int, datetime]:
    """Whom to pull a checkout's Session from, and from when: its CPO connection, from the
    moment it was paid (the pull subtracts the clock skew)."""
    checkout = Checkout.objects.get(pk=checkout_id)
    return checkout.partner_id, checkout.authorized_at or checkout.created_at


def start_grace_over(checkout: Checkout) -> None:
    if checkout.status == Status.STARTING and not checkout.sessions.exists():
        _fail_start(checkout, str(gettext_lazy("the charger did not start")))


# --- sessions -------------------------------------------------------------------------------

_SESSION_FIELDS = [
    "status",
    "start",
    "end",
    "kwh",
    "currency",
    "total_cost_excl_vat",
    "total_cost_incl_vat",
    "authorization_reference",
    "token_uid",
    "auth_id",
    "location_id",
    "evse_uid",
    "connector_id",
    "last_updated",
]


# What a Session PUT that leaves an optional field out stores for it: the PUT replaces the
# whole object (mod_sessions, PUT), so what it omits is gone.
_CLEARED: dict[str, Any] = {
    "end": None,
    "total_cost_excl_vat": None,
    "total_cost_incl_vat": None,
    "authorization_reference": "",
    "token_uid": "",
    "auth_id": "",
    "location_id": "",
    "evse_uid": "",
    "connector_id": "",
}


def record_session(
    *,
    partner: Partner,
    country_code: str,
    party_id: str,
    session_id: str,
    data: dict[str, Any],
    patch: bool,
    raw: dict[str, Any] | None = None,
    append_periods: bool = True,
    pushed: bool = True,
) -> str:
    """A Session PUT (or pulled Session) or PATCH (checklist §6). A PUT replaces the whole
    Session: optional fields it omits are cleared. A PATCH changes the fields it names; its
    `charging_periods` are added to ours where the version says so (`append_periods`), else
    replace them (a PATCH delivered twice adds them once). `raw` is the body as received,
    kept (merged for a PATCH) for our GET.
    Out-of-order and repeated updates are safe (`last_updated`; a pulled one, not `pushed`, is
    also skipped when it is only as new as ours); a session we cannot link is stored and
    flagged. Returns "created", "updated" or "older" (nothing written)."""
    country_code, party_id = country_code.upper(), party_id.upper()
    with transaction.atomic(durable=True):
        session, checkout = _locked(country_code, party_id, session_id)
        if session is not None and session.partner_id != partner.pk:
            raise SessionOfAnother(f"session {session_id} is held by another connection")
        if session is None or checkout is None:
            checkout_id = session.checkout_id if session else link_checkout(partner, data)
            # With what the running cost reads (`costs.session_quantities`), in one query.
            checkout = (
                Checkout.objects.select_for_update(of=("self",))
                .select_related("evse__location")
                .get(pk=checkout_id)
                if checkout_id
                else None
            )
        # Its partner is the one at hand (read again only if it is another).
        if checkout is not None and checkout.partner_id == partner.pk:
            checkout.partner = partner
        # The session as locked above is the latest committed one: no second read.
        if session is not None and (
            session.last_updated > data["last_updated"]
            or (not pushed and session.last_updated == data["last_updated"])
        ):
            return "older"  # older than what we hold
        created = session is None
        if session is None:
            if patch:
                raise UnknownSession(f"unknown session {session_id}: PUT it first")
            session = ChargingSession(
                partner=partner, country_code=country_code, party_id=party_id, session_id=session_id
            )
        periods = data.pop("charging_periods", None)
        if (
            patch
            and append_periods
            and periods
            and session.last_updated == data["last_updated"]
            and session.charging_periods[-len(periods) :] == periods
        ):  # the same PATCH delivered again: its periods are ours already, not added twice
            periods = None
            raw = {k: v for k, v in (raw or {}).items() if k != "charging_periods"} or None
        changed = ["checkout"]  # what this update writes of a stored session
        for field in _SESSION_FIELDS:
            if field in data:
                setattr(session, field, data[field])
                changed.append(field)
            elif not patch and field in _CLEARED:
                setattr(session, field, _CLEARED[field])
                changed.append(field)
        if not patch:
            session.charging_periods = periods or []
            changed.append("charging_periods")
        elif periods is not None:
            session.charging_periods = (
                session.charging_periods + periods if append_periods else periods
            )
            changed.append("charging_periods")
        if raw is not None:
            session.body = _body_after(session.body, raw, patch=patch, append=append_periods)
            changed.append("body")
        session.checkout = checkout
        if pushed:
            session.pushed_at = timezone.now()
            changed.append("pushed_at")
        session.save(update_fields=None if created else changed)
        if checkout is None:
            open_case(
                Case.Kind.UNMATCHED_SESSION,
                "no checkout of ours carries this session's token or reference",
                key=f"unmatched-session:{session.pk}",
                session=session,
            )
        if checkout is not None:
            _follow(checkout, session)
    return "created" if created else "updated"


def _locked(
    country_code: str, party_id: str, session_id: str
) -> tuple[ChargingSession | None, Checkout | None]:
    """The stored session and its checkout, both locked, in one statement (with the checkout's
    EVSE and location, which the running cost reads); a session without a checkout comes
    alone, and an unknown one as (None, None). Read under the lock, so the latest committed."""
    where = {"country_code": country_code, "party_id": party_id, "session_id": session_id}
    linked = (
        ChargingSession.objects.select_for_update(of=("self", "checkout"))
        .select_related("checkout__evse__location")
        .filter(checkout__isnull=False, **where)
    )
    session = next(iter(linked), None)  # one at most (unique_session): no ORDER BY needed
    if session is not None:
        return session, session.checkout
    return next(iter(ChargingSession.objects.select_for_update().filter(**where)), None), None


def _body_after(stored: str, raw: dict[str, Any], *, patch: bool, append: bool) -> str:
    """The Session's JSON after this PUT (the body itself) or PATCH (its fields over ours, the
    periods added or replaced as the version says). A PATCH to a session whose body we never
    kept leaves it unkept: half a Session is not one.

    The text is exactly `simplejson.dumps` of the merged object, but written field by field:
    the fields of the body we wrote last (`_written`) are reused when the stored text is that
    body, so a PATCH adding one period to a long Session writes out only what it brings."""
    if not patch:
        return _write_body({key: _dumps(value) for key, value in raw.items()})
    if not stored:
        return ""
    fields = _fields_of(stored)
    merged = dict(fields)
    for key, value in raw.items():
        merged[key] = _dumps(value)
    if append and "charging_periods" in raw:
        kept, new = fields.get("charging_periods", "null"), raw["charging_periods"]
        if kept.startswith("[") and kept != "[]" and isinstance(new, list):
            added = "".join(", " + _dumps(period) for period in new)
            merged["charging_periods"] = kept[:-1] + added + "]"
        else:  # nothing kept before them: the list is theirs
            merged["charging_periods"] = _dumps(
                (simplejson.loads(kept, use_decimal=True) or []) + (new or [])
            )
    return _write_body(merged)


def _dumps(value: Any) -> str:
    return simplejson.dumps(value, use_decimal=True)


# The last body written in this process, with its fields' JSON texts: the next PATCH of the
# same Session usually finds it stored as it was. One entry: a miss costs one parse.
_written: tuple[str, dict[str, str]] | None = None


def _write_body(fields: dict[str, str]) -> str:
    """`simplejson.dumps` of an object whose fields are written already (its default
    separators, keys in order)."""
    global _written
    text = "{" + ", ".join(f"{_dumps(key)}: {value}" for key, value in fields.items()) + "}"
    _written = (text, fields)
    return text


def _fields_of(stored: str) -> dict[str, str]:
    """The stored body's fields, each as JSON text (as `simplejson.dumps` writes it)."""
    written = _written
    if written is not None and written[0] == stored:
        return written[1]
    body = simplejson.loads(stored, use_decimal=True)
    return {key: _dumps(value) for key, value in body.items()}


def session_body(session: ChargingSession) -> dict[str, Any] | None:
    """The Session as the CPO last stated it (exact numbers), or None if it was never kept."""
    if not session.body:
        return None
    body: dict[str, Any] = simplejson.loads(session.body, use_decimal=True)
    return body


def link_checkout(partner: Partner, data: dict[str, Any]) -> int | None:
    """The checkout a Session or CDR belongs to (LNK-02): `authorization_reference` first
    (2.2.1), then the token uid, then 2.1.1's `auth_id`; only among this partner's."""
    checkouts = Checkout.objects.filter(partner=partner)
    if data.get("authorization_reference"):
        found = checkouts.filter(authorization_reference__iexact=data["authorization_reference"])
        if found.exists():
            return found.values_list("pk", flat=True).first()
    tokens = DriverToken.objects.filter(checkout__partner=partner)
    for field, lookup in (("token_uid", "uid__iexact"), ("auth_id", "auth_id__iexact")):
        if data.get(field):
            found_token = tokens.filter(**{lookup: data[field]}).values_list(
                "checkout_id", flat=True
            )
            if found_token.exists():
                return found_token.first()
    return None


# What an INVALID session fails: a checkout that was paid for and has not ended (the state
# machine also lets an unpaid checkout fail, on declines, which is not a session's business).
_SESSION_MAY_FAIL = {Status.AUTHORIZED, Status.STARTING, Status.CHARGING, Status.STOPPING}


def _follow(checkout: Checkout, session: ChargingSession) -> None:
    """The checkout follows its session: ACTIVE → charging, COMPLETED → finished, INVALID →
    nothing billed. A session for a checkout whose hold is gone is stopped and flagged."""
    if session.status == "ACTIVE":
        if checkout.status in (Status.AUTHORIZED, Status.STARTING):
            move(checkout, Status.CHARGING)
            checkout.start_unconfirmed = False
            checkout.save(update_fields=["status", "start_unconfirmed"])
            if checkout.stop_requested_at:
                _send_stop_later(checkout)
        elif checkout.status in (Status.FAILED, Status.EXPIRED) and not checkout.stop_requested_at:
            checkout.stop_requested_at, checkout.stop_reason = timezone.now(), "unpaid session"
            checkout.save(update_fields=["stop_requested_at", "stop_reason"])
            open_case(
                Case.Kind.LATE_SESSION,
                "a session turned up after the checkout ended: stopped at once",
                key=f"late-session:{session.pk}",
                checkout=checkout,
                session=session,
            )
            _send_stop_later(checkout)
        elif checkout.status == Status.STOPPING:
            if not checkout.commands.filter(command="STOP_SESSION").exists():
                _send_stop_later(checkout)  # the stop pressed before the session id was known
        elif checkout.status == Status.CHARGING:
            _stop_if_near_hold(checkout, session)
    elif session.status == "COMPLETED" and checkout.status in ALLOWED_FROM[Status.FINISHED]:
        move(checkout, Status.FINISHED)
        checkout.ended_at = session.end or timezone.now()
        checkout.evse_claim = None
        checkout.save(update_fields=["status", "ended_at", "evse_claim"])
        if not checkout.cdrs.filter(credit=False).exists():  # the CDR is pulled if it never comes
            Deadline.objects.create(
                checkout=checkout,
                kind=Deadline.Kind.MISSING_CDR,
                due_at=timezone.now() + settings.MISSING_CDR_AFTER,
            )
    elif session.status == "INVALID" and checkout.status in _SESSION_MAY_FAIL:
        move(checkout, Status.FAILED)
        checkout.failure_reason = str(
            gettext_lazy("the charger's operator reported the session as invalid")
        )
        let_go(checkout)
        checkout.save()
        open_case(
            Case.Kind.INVALID_SESSION,
            "INVALID session: nothing billed",
            key=f"invalid-session:{session.pk}",
            checkout=checkout,
            session=session,
        )


def _stop_if_near_hold(checkout: Checkout, session: ChargingSession) -> None:
    """Stop before the cost reaches the hold (compared incl. VAT), so that what the CPO bills
    stays within what was authorised: at hold − max power × price × (update interval + stop
    latency), or at STOP_AT_SHARE of the hold when that is lower. The cost is the Session's
    `total_cost` when the CPO sends it, else the price shown applied to the Session
    (`payments.costs`, as settlement applies it). A tariff whose max_price is the hold caps the
    session there: cost never stops it."""
    if checkout.status != Status.CHARGING or costs.hold_is_the_cap(checkout):
        return
    cost = costs.operator_figure(checkout, session)
    if cost is None:
        cost = costs.shown_for_session(checkout, session)
    if cost is None:
        return
    threshold = min(
        checkout.hold_amount * Decimal(settings.STOP_AT_SHARE),
        checkout.hold_amount - _margin(checkout),
    )
    if cost >= threshold:
        checkout.stop_requested_at, checkout.stop_reason = timezone.now(), "cost limit"
        move(checkout, Status.STOPPING)
        checkout.save(update_fields=["status", "stop_requested_at", "stop_reason"])
        _send_stop_later(checkout)


def _margin(checkout: Checkout) -> Decimal:
    """What can still be added between our decision and the charger stopping."""
    power_kw = Decimal(checkout.tariff_snapshot.get("max_power_kw") or 0)
    price = Decimal(checkout.tariff_snapshot.get("max_energy_price_incl_vat") or 0)
    hours = Decimal(settings.SESSION_UPDATE_INTERVAL + settings.STOP_LATENCY) / 3600
    return power_kw * price * hours


def _send_stop_later(checkout: Checkout) -> None:
    enqueue_on_commit("payments.tasks.send_stop", checkout.pk)


# --- stopping -------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def request_stop(*, public_id: str, reason: str = "driver") -> Checkout:
    """The driver presses stop. Before the CPO has told us the session id the request is kept
    and sent as soon as the session arrives."""
    checkout = Checkout.objects.select_for_update().filter(public_id=public_id).first()
    if checkout is None:
        raise UnknownCheckout("no such checkout")
    if checkout.status in (Status.STOPPING, Status.FINISHED, Status.SETTLED):
        return checkout  # pressed twice: one stop
    move(checkout, Status.STOPPING)
    checkout.stop_requested_at, checkout.stop_reason = timezone.now(), reason
    checkout.save(update_fields=["status", "stop_requested_at", "stop_reason"])
    if checkout.sessions.exists():
        _send_stop_later(checkout)
    return checkout


@transaction.atomic(durable=True)
def begin_stop(*, checkout_id: int) -> int | None:
    """A STOP_SESSION to send for this checkout's session, once; None if there is nothing to
    stop yet (no session id) or it was sent already."""
    checkout = Checkout.objects.select_for_update().get(pk=checkout_id)
    session = checkout.sessions.order_by("-last_updated").first()
    if session is None or not checkout.stop_requested_at or session.status != "ACTIVE":
        return None
    existing = checkout.commands.filter(command="STOP_SESSION").order_by("-created_at").first()
    if existing is not None:
        return existing.pk if existing.sent_at is None or existing.reached is False else None
    command = CommandRequest.objects.create(
        partner=checkout.partner,
        checkout=checkout,
        command="STOP_SESSION",
        **_routed_to(checkout),
    )
    command.request_body = {
        "response_url": commands.response_url(command),
        "session_id": session.session_id,
    }
    command.save(update_fields=["request_body"])
    return command.pk


@transaction.atomic(durable=True)
def record_stop_outcome(*, checkout_id: int, sent: commands.Sent) -> None:
    """A refused or lost STOP_SESSION reaches an operator: the car may still be charging."""
    if sent.outcome in ("refused", "not_received"):
        checkout = Checkout.objects.select_for_update().get(pk=checkout_id)
        open_case(
            Case.Kind.STOP_FAILED,
            f"STOP_SESSION failed: {sent.reason}"[:2000],
            key=f"stop-failed:{checkout.pk}:{_last_stop_id(checkout)}",
            checkout=checkout,
        )


def _last_stop_id(checkout: Checkout) -> int | None:
    return (
        checkout.commands.filter(command="STOP_SESSION")
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )


@transaction.atomic(durable=True)
def begin_unlock(*, checkout_id: int) -> int:
    """UNLOCK_CONNECTOR for support staff (CMD-07: never offered to drivers), when a cable
    stays locked after a session."""
    checkout = (
        Checkout.objects.select_for_update()
        .select_related("evse__location", "connector")
        .get(pk=checkout_id)
    )
    command = CommandRequest.objects.create(
        partner=checkout.partner,
        checkout=checkout,
        command="UNLOCK_CONNECTOR",
        **_routed_to(checkout),
    )
    command.request_body = {
        "response_url": commands.response_url(command),
        "location_id": checkout.evse.location.ocpi_id,
        "evse_uid": checkout.evse.uid,
        "connector_id": checkout.connector.connector_id,
    }
    command.save(update_fields=["request_body"])
    return command.pk
