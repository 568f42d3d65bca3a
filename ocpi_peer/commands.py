"""Commands we send to CPOs (checklist §9): the request with its unguessable response_url, the
CommandResponse read from the answer, and whether the request can have reached them. Nothing
here re-sends: the caller decides, and may only when `Sent.outcome` is "not_received"."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from ocpi_peer import versions
from ocpi_peer.client import Caller, PeerError
from ocpi_peer.models import CommandRequest, Partner
from ocpi_peer.transport import describe

logger = logging.getLogger(__name__)


# "in_flight": another worker has taken this very command to send (two tasks woken for one stop);
# nothing was sent and nothing recorded, and the caller does nothing more.
Outcome = Literal["accepted", "refused", "not_received", "unknown", "in_flight"]


@dataclass(frozen=True)
class Sent:
    outcome: Outcome
    timeout: int | None = None  # seconds the CPO gives itself to send the result
    reason: str = ""


def response_url(command: CommandRequest) -> str:
    return (
        f"{settings.PUBLIC_BASE_URL}/ocpi/{command.partner.version}/commands/"
        f"{command.command}/{command.callback_id}"
    )


def start_session_body(
    *,
    partner: Partner,
    command: CommandRequest,
    token: Any,
    location_id: str,
    evse_uid: str,
    connector_id: str,
    connector_required: bool,
    authorization_reference: str | None,
) -> dict[str, Any]:
    spec = versions.get(partner.version)
    return spec.start_session(
        response_url=response_url(command),
        token=spec.token().to_representation(token),
        location_id=location_id,
        evse_uid=evse_uid,
        connector_id=connector_id if connector_required else None,
        authorization_reference=authorization_reference,
    )


def send(command_id: int) -> Sent:
    """POST the command once and read the CommandResponse; the outcome is recorded on the row.
    "in_flight" when it is not ours to send (see `Outcome`)."""
    command = CommandRequest.objects.select_related("partner").get(pk=command_id)
    partner = command.partner
    url = partner.endpoint("commands", "RECEIVER")
    if url is None or not partner.is_registered:
        return _record(command, Sent("refused", reason="the operator's system takes no commands"))
    spec = versions.get(partner.version)
    # Taken for sending in one statement: never sent, or known not to have arrived. A second
    # worker holding the same id finds it taken and sends nothing (a command goes out once).
    taken = (
        CommandRequest.objects.filter(pk=command.pk)
        .filter(Q(sent_at=None) | Q(reached=False))
        .update(attempts=F("attempts") + 1, sent_at=timezone.now(), reached=None)
    )
    if not taken:
        return Sent("in_flight", reason="another worker is sending it")
    try:
        reply = Caller.for_partner(partner).call(
            "POST",
            f"{url.rstrip('/')}/{command.command}",
            json=command.request_body,
            functional=True,
            to=_party(command.to_country_code, command.to_party_id),
        )
    except PeerError as exc:
        outcome: Outcome = "not_received" if exc.reached is False else "unknown"
        return _record(command, Sent(outcome, reason=str(exc)), reached=exc.reached)
    if not reply.ok:
        reason = f"OCPI {reply.status_code} {reply.message}".strip()
        return _record(command, Sent("refused", reason=reason), reached=True)
    try:
        answer = spec.read(spec.command_response, reply.data)
    except ValidationError as exc:
        return _record(
            command,
            Sent("unknown", reason=f"unreadable CommandResponse: {describe(exc.detail)}"),
            reached=True,
        )
    message = _text(answer.get("message"))
    if answer["result"] != "ACCEPTED":
        return _record(
            command,
            Sent("refused", reason=message or answer["result"]),
            reached=True,
            result=answer["result"],
        )
    timeout = answer.get("timeout") or spec.command_timeout
    return _record(
        command, Sent("accepted", timeout=timeout), reached=True, result="ACCEPTED", timeout=timeout
    )


def _party(country_code: str, party_id: str) -> tuple[str, str] | None:
    return (country_code, party_id) if country_code and party_id else None


def _record(
    command: CommandRequest,
    sent: Sent,
    *,
    reached: bool | None = None,
    result: str = "",
    timeout: int | None = None,
) -> Sent:
    CommandRequest.objects.filter(pk=command.pk).update(
        reached=reached,
        response_result=result,
        response_timeout=timeout,
        responded_at=timezone.now() if reached else None,
        error="" if sent.outcome == "accepted" else sent.reason[:2000],
    )
    return sent


def read_result(version: str, data: Any) -> tuple[str, str]:
    """(result, message in words) of a CommandResult (2.2.1) or the async CommandResponse
    (2.1.1) that a CPO POSTs to our response_url."""
    spec = versions.get(version)
    answer = spec.read(spec.command_result, data)
    return answer["result"], _text(answer.get("message"))


def _text(messages: Any) -> str:
    """DisplayText list (or one) as one line, English first."""
    if isinstance(messages, dict):
        messages = [messages]
    if not isinstance(messages, list):
        return ""
    texts = [m for m in messages if isinstance(m, dict) and m.get("text")]
    texts.sort(key=lambda m: m.get("language") != "en")
    return str(texts[0]["text"]) if texts else ""


def push_token(partner: Partner, token: Any, *, to: tuple[str, str] | None = None) -> bool:
    """PUT our token to the CPO's tokens receiver, if it has one (TK-01), routed `to` the party
    whose charger it is for (None: the connection's own party). Returns whether it took it;
    failures are in the traffic log."""
    url = partner.endpoint("tokens", "RECEIVER")
    if url is None or not partner.is_registered:
        return False
    spec = versions.get(partner.version)
    body = spec.token().to_representation(token)
    owner = f"{settings.OCPI_COUNTRY_CODE.upper()}/{settings.OCPI_PARTY_ID.upper()}"
    target = f"{url.rstrip('/')}/{owner}/{token.uid}"
    try:
        params = {"type": body["type"]} if spec.token_type_in_url else None
        reply = Caller.for_partner(partner).call(
            "PUT", target, json=body, params=params, functional=True, to=to
        )
    except PeerError as exc:
        logger.warning("%s: token push failed: %s", partner, exc)
        return False
    return reply.ok


def withdraw_token(
    partner: Partner, token: Any, *, to: tuple[str, str] | None = None
) -> Literal["sent", "not_needed", "failed"]:
    """Tell the CPO our token is no longer valid (TK-01: there is no delete, `valid` false).
    A token it holds gets a PATCH with `valid` and `last_updated` (2.2.1 and 2.1.1 alike); one
    whose first PUT never got through gets the whole token again, now invalid. A CPO without a
    tokens receiver asks us in real time, where the token is refused anyway."""
    url = partner.endpoint("tokens", "RECEIVER")
    if url is None or not partner.is_registered:
        return "not_needed"
    spec = versions.get(partner.version)
    full = spec.token().to_representation(token)
    owner = f"{settings.OCPI_COUNTRY_CODE.upper()}/{settings.OCPI_PARTY_ID.upper()}"
    target = f"{url.rstrip('/')}/{owner}/{token.uid}"
    params = {"type": full["type"]} if spec.token_type_in_url else None
    if token.pushed_at is not None:
        method = "PATCH"
        body = {"valid": False, "last_updated": full["last_updated"]}
    else:
        method, body = "PUT", full
    try:
        reply = Caller.for_partner(partner).call(
            method, target, json=body, params=params, functional=True, to=to
        )
    except PeerError as exc:
        logger.warning("%s: token withdrawal failed: %s", partner, exc)
        return "failed"
    return "sent" if reply.ok else "failed"
