"""Our web checkout as OCPI 2.3.0 Payment Terminals (Payments module, checklist §14).

Over a 2.3.0 connection we are the PTP: each CPO party sees our checkout as a Terminal (one per
party by default, or one per group of locations an operator defines), which we create at the
CPO's Payments Receiver (POST, repeated until it takes it: the same `terminal_id` each time, so
a repeat creates nothing twice). The CPO assigns its locations and EVSEs to it (PATCH to our
Payments Sender), may change its data (PUT), activate a terminal of its own (POST activate,
PAY-02) and deactivate one. Only an EVSE assigned to one of our active terminals is payable
over a 2.3.0 connection (`serves`); 2.2.1 and 2.1.1 connections have no terminals.

Every write is one function here; the OCPI views, the admin and the tasks call them."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ocpi_peer import versions
from ocpi_peer.client import Caller, PeerError
from ocpi_peer.models import Partner
from payments.models import Cdr, Checkout, Terminal
from payments.queue import enqueue_on_commit
from stations.models import Evse

logger = logging.getLogger(__name__)


class UnknownTerminal(LookupError):
    """No terminal of this connection has that id: another connection's is not found either."""


class TerminalRefused(ValueError):
    """A change the terminal cannot take (a party the connection does not own)."""


def has_payments(partner: Partner) -> bool:
    """Whether the connection speaks a version with the Payments module (2.3.0 on)."""
    try:
        return versions.get(partner.version).terminal is not None
    except versions.UnsupportedVersion:
        return False


# --- which EVSEs our terminals serve ----------------------------------------------------------


def terminals_of(evse: Evse) -> list[Terminal]:
    """Our active terminals the CPO assigned this EVSE to, by its location or by itself (the
    union of both lists, as the PATCH method says); ids compare as CiStrings."""
    location = evse.location
    candidates = Terminal.objects.filter(
        partner_id=location.partner_id,
        active=True,
        country_code__iexact=location.country_code,
        party_id__iexact=location.party_id,
    )
    location_id, evse_uid = location.ocpi_id.upper(), evse.uid.upper()
    return [
        t
        for t in candidates
        if location_id in {i.upper() for i in t.location_ids}
        or evse_uid in {u.upper() for u in t.evse_uids}
    ]


def serves(evse: Evse) -> bool:
    """May a driver pay for this EVSE with our checkout? Over a 2.3.0 connection only when the
    CPO assigned it to one of our terminals; over older versions always (they have none)."""
    if not has_payments(evse.location.partner):
        return True
    return bool(terminals_of(evse))


def terminal_for(checkout: Checkout) -> Terminal | None:
    """The terminal a checkout was paid at: the first one serving its EVSE."""
    found = terminals_of(checkout.evse)
    return found[0] if found else None


def invoice_url(terminal: Terminal | None, authorization_reference: str) -> str:
    """Where the CPO's invoice is (`invoice_base_url` + `authorization_reference`), when the
    terminal gives an absolute http(s) base; "" otherwise."""
    if terminal is None or not authorization_reference:
        return ""
    base = terminal.invoice_base_url
    if not base.startswith(("https://", "http://")) or " " in base:
        return ""
    return f"{base}{'' if base.endswith('/') else '/'}{authorization_reference}"


def cpo_invoice_url(checkout: Checkout, cdr: Cdr | None) -> str:
    """The CPO's invoice for this checkout, when the CPO invoices: its CDR carries an
    `invoice_reference_id` (2.3.0, checklist PAY-03 step 8) and the terminal the driver paid
    at gives an `invoice_base_url`; "" when we issue the receipt ourselves."""
    if cdr is None or not has_payments(checkout.partner):
        return ""
    try:
        body = json.loads(cdr.body)
    except ValueError:
        return ""
    if not isinstance(body, dict) or not body.get("invoice_reference_id"):
        return ""
    return invoice_url(terminal_for(checkout), checkout.authorization_reference or "")


# --- our terminals, created and pushed --------------------------------------------------------


def _cpo_parties(partner: Partner) -> list[tuple[str, str]]:
    return sorted(
        {(p.country_code.upper(), p.party_id.upper()) for p in partner.parties.filter(role="CPO")}
    )


@transaction.atomic(durable=True)
def provide_terminals(*, partner_id: int) -> list[int]:
    """Every CPO party of a registered 2.3.0 connection has a terminal (one per party unless
    an operator defined groups); those the CPO has not taken yet are pushed again. Returns the
    ids of the terminals to push."""
    if not has_payments(Partner.objects.get(pk=partner_id)):
        return []  # no lock taken on the connections without terminals (most of them)
    partner = Partner.objects.select_for_update().get(pk=partner_id)
    if not partner.is_registered or not has_payments(partner):
        return []
    held = set(Terminal.objects.filter(partner=partner).values_list("country_code", "party_id"))
    for country_code, party_id in _cpo_parties(partner):
        if (country_code, party_id) not in held:
            Terminal.objects.create(
                partner=partner,
                country_code=country_code,
                party_id=party_id,
                reference=f"{settings.OCPI_PARTY_ID.upper()}-WEB-{country_code}{party_id}",
                invoice_creator=Terminal.InvoiceCreator.PTP,
            )
    if partner.endpoint("payments", "RECEIVER") is None:
        return []  # the CPO pulls them from our Sender instead
    unpushed = list(
        Terminal.objects.filter(partner=partner, pushed_at=None, active=True).values_list(
            "pk", flat=True
        )
    )
    for pk in unpushed:
        enqueue_on_commit("payments.tasks.push_terminal", pk)
    return unpushed


@transaction.atomic  # the admin's save runs it inside its own transaction
def define_terminal(
    *,
    partner: Partner,
    country_code: str,
    party_id: str,
    label: str = "",
    location_ids: list[str] | None = None,
    invoice_creator: str = Terminal.InvoiceCreator.PTP,
    invoice_base_url: str = "",
) -> Terminal:
    """An operator's terminal for a group of one party's locations (the admin): created here,
    then at the CPO."""
    key = f"{country_code.upper()}*{party_id.upper()}"
    if key not in partner.party_keys:
        raise TerminalRefused(f"{partner} does not own the party {key}")
    terminal = Terminal.objects.create(
        partner=partner,
        country_code=country_code.upper(),
        party_id=party_id.upper(),
        label=label,
        location_ids=list(location_ids or []),
        invoice_creator=invoice_creator,
        invoice_base_url=invoice_base_url,
    )
    terminal.reference = f"{settings.OCPI_PARTY_ID.upper()}-WEB-{terminal.pk}"
    terminal.save(update_fields=["reference"])
    enqueue_on_commit("payments.tasks.push_terminal", terminal.pk)
    return terminal


def push_terminal(terminal_id: int) -> bool:
    """POST the terminal to the CPO's Payments Receiver (`{payments}/terminals`), routed to its
    party; True once the CPO took it. A repeat sends the same `terminal_id`: the CPO's POST
    creates it once (a CPO that answers a repeat with an error keeps it as it has it). Called
    by a task, outside any transaction."""
    terminal = Terminal.objects.select_related("partner").get(pk=terminal_id)
    partner = terminal.partner
    url = partner.endpoint("payments", "RECEIVER")
    if terminal.pushed_at is not None or not partner.is_registered or not has_payments(partner):
        return terminal.pushed_at is not None
    if url is None:
        _push_outcome(terminal, error="the CPO offers no Payments Receiver")
        return False
    spec = versions.get(partner.version)
    assert spec.terminal is not None
    body = spec.terminal().to_representation(terminal)
    try:
        reply = Caller.for_partner(partner).call(
            "POST",
            f"{url.rstrip('/')}/terminals",
            json=body,
            functional=True,
            to=(terminal.country_code, terminal.party_id),
        )
    except PeerError as exc:
        _push_outcome(terminal, error=str(exc))
        return False
    if not reply.ok:
        _push_outcome(terminal, error=f"OCPI {reply.status_code} {reply.message}".strip())
        return False
    _push_outcome(terminal, error=None)
    return True


def _push_outcome(terminal: Terminal, *, error: str | None) -> None:
    if error is None:
        Terminal.objects.filter(pk=terminal.pk).update(pushed_at=timezone.now(), push_error="")
    else:
        logger.warning("terminal %s not created at the CPO: %s", terminal.terminal_id, error)
        Terminal.objects.filter(pk=terminal.pk).update(push_error=error[:2000])


# --- what the CPO does to our terminals (our Payments Sender) ---------------------------------


def terminal_of(partner: Partner, terminal_id: str, *, lock: bool = False) -> Terminal:
    """This connection's terminal `terminal_id` (case-insensitive); another connection's is
    unknown to it. `lock`: held for update until the transaction ends."""
    rows = Terminal.objects.filter(partner=partner, terminal_id__iexact=terminal_id)
    terminal = (rows.select_for_update() if lock else rows).first()
    if terminal is None:
        raise UnknownTerminal(f"we have no terminal {terminal_id} for this connection")
    return terminal


# What the CPO may set on our terminal: its data, never our id or our mapping reference.
_CPO_FIELDS = (
    "customer_reference",
    "address",
    "city",
    "postal_code",
    "state",
    "country",
    "latitude",
    "longitude",
    "invoice_base_url",
    "invoice_creator",
    "location_ids",
    "evse_uids",
)


def _apply(terminal: Terminal, changes: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if name in changes:
            setattr(terminal, name, changes[name])
    terminal.last_updated = timezone.now()
    terminal.save()


@transaction.atomic(durable=True)
def assign_terminal(*, partner: Partner, terminal_id: str, changes: dict[str, Any]) -> Terminal:
    """PATCH: the CPO assigns `location_ids` and/or `evse_uids` (each list given replaces the
    one held; both together serve the union of their EVSEs)."""
    terminal = terminal_of(partner, terminal_id, lock=True)
    _apply(terminal, changes, ("location_ids", "evse_uids"))
    return terminal


@transaction.atomic(durable=True)
def update_terminal(*, partner: Partner, terminal_id: str, changes: dict[str, Any]) -> Terminal:
    """PUT: the CPO updates the terminal's data, e.g. `customer_reference` or
    `invoice_base_url`. The spec's example is partial (B-26): the fields given are set."""
    terminal = terminal_of(partner, terminal_id, lock=True)
    _apply(terminal, changes, _CPO_FIELDS)
    return terminal


@transaction.atomic(durable=True)
def deactivate_terminal(*, partner: Partner, terminal_id: str) -> Terminal:
    """The CPO deactivates a terminal (defect, relocation): its EVSEs are no longer payable
    through it. A repeat changes nothing."""
    terminal = terminal_of(partner, terminal_id, lock=True)
    if terminal.active:
        terminal.active = False
        terminal.last_updated = timezone.now()
        terminal.save(update_fields=["active", "last_updated"])
    return terminal


@transaction.atomic(durable=True)
def activate_terminal(*, partner: Partner, fields: dict[str, Any]) -> Terminal:
    """POST activate (PAY-02): the CPO tells us which locations or EVSEs a terminal of its
    order serves, identified by `reference`. We map it to a terminal of ours (the one with that
    reference or id, if this connection has it already: a repeated activation changes it, never
    makes a second) and then create it at the CPO."""
    terminal = None
    reference = fields.get("reference") or ""
    if reference:
        terminal = (
            Terminal.objects.select_for_update()
            .filter(partner=partner, reference__iexact=reference)
            .first()
        )
    if terminal is None and fields.get("terminal_id"):
        terminal = (
            Terminal.objects.select_for_update()
            .filter(partner=partner, terminal_id__iexact=fields["terminal_id"])
            .first()
        )
    if terminal is None:
        country_code, party_id = _party_for(partner, fields)
        terminal = Terminal(partner=partner, country_code=country_code, party_id=party_id)
        wanted = fields.get("terminal_id")
        if wanted and not Terminal.objects.filter(terminal_id__iexact=wanted).exists():
            terminal.terminal_id = wanted
    terminal.reference = reference or terminal.reference
    terminal.active = True
    terminal.pushed_at = None  # created (again) at the CPO with what it now serves
    _apply(terminal, fields, _CPO_FIELDS)
    enqueue_on_commit("payments.tasks.push_terminal", terminal.pk)
    return terminal


def _party_for(partner: Partner, fields: dict[str, Any]) -> tuple[str, str]:
    """The activation's party when it names one of the connection's; else its first CPO party."""
    named = (fields.get("country_code") or "", fields.get("party_id") or "")
    if all(named):
        key = f"{named[0]}*{named[1]}".upper()
        if key not in partner.party_keys:
            raise TerminalRefused(f"the party {key} is not one of this connection's")
        return named[0].upper(), named[1].upper()
    parties = _cpo_parties(partner)
    if not parties:
        raise TerminalRefused("this connection has no CPO party a terminal could serve")
    return parties[0]
