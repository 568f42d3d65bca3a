"""What of a party's payments business goes along when an operator moves the party to another
connection (`ocpi_peer.parties.move_party`, e.g. a CPO going from a direct link to a hub).

Every inbound Session, CDR and CommandResult is looked up among the rows of the connection it
arrives over. After a move the CPO sends over the new connection, so whatever it still has to
tell us about must be held by that connection, or the driver's session goes blind and the hold
is never captured. Only that moves; what is over stays with the connection that carried it, so
the admin and the settlement export (per connection and day) keep showing, and adding up, what
each connection carried. The rule, per row:

- A checkout moves while the CPO still owes us something for it: it is not over yet (created up
  to finished: a session to start, run or end, or its CDR to come), or it was settled early from
  its last Session because the hold was about to expire (its CDR is still to come), or it waits
  for a corrected CDR after a credit (CREDIT_WAIT), or one of its sessions has not ended (a late
  session on a failed checkout, being stopped). Settled, failed and expired checkouts otherwise
  stay.
- Its sessions and CDRs go with it (the next PATCH, a repeated CDR or a credit naming one is
  looked up there); so do the party's sessions that match no checkout and have not ended (an
  operator's case, which the CPO keeps updating).
- Commands still waiting for the CPO (never sent, or accepted and without a CommandResult yet)
  move, so a result arriving over the new connection is recorded and a command not sent yet
  goes out over it; answered ones stay, as the history of what was sent where.
- The driver's token follows its checkout (real-time authorization and token pulls are per
  connection). A still-valid token is pushed again to the new connection after the move
  commits (task `push_token`), so the CPO's new route knows it before it must accept the
  session's updates or the CDR, and the withdrawal at settlement reaches the same place. The old
  connection is not told anything: behind it is often the same CPO backend, where withdrawing
  the token could stop the session it is paying for.

A credit or corrected CDR the CPO sends later for a checkout that stayed arrives over the new
connection, matches nothing there (lookups stay per connection) and waits in the exception
queue as an unmatched CDR; an operator links it to that checkout (`settlement.link_cdr` takes a
CDR of the checkout's own party from another connection).

Cases stay filed under the connection they were opened for: they are the operator's record of
what happened there. A moved checkout's ledger rows, its hold placed before the move included,
count for the new connection in the settlement export: what the driver pays and what we owe
the CPO for it are booked when its CDR comes, over the new connection.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from ocpi_peer.models import CommandRequest, Partner
from payments.models import Cdr, ChargingSession, Checkout, Deadline, DriverToken
from payments.queue import enqueue_on_commit

Status = Checkout.Status

# A checkout in one of these still expects a Session or its CDR from the CPO.
_UNDER_WAY = [
    Status.CREATED,
    Status.AUTHORIZED,
    Status.STARTING,
    Status.CHARGING,
    Status.STOPPING,
    Status.FINISHED,
]
# A session in one of these has ended: the CPO sends no more updates for it.
_SESSION_ENDED = ["COMPLETED", "INVALID"]


def open_checkouts(country_code: str, party_id: str, partner: Partner) -> list[int]:
    """Ids of the checkouts at `partner` for chargers of the party that are not over for the
    CPO yet (the module's rule), locked."""
    regular_cdr = Cdr.objects.filter(checkout=OuterRef("pk"), credit=False)
    credit_wait = Deadline.objects.filter(
        checkout=OuterRef("pk"), kind=Deadline.Kind.CREDIT_WAIT, done_at=None
    )
    running = ChargingSession.objects.filter(checkout=OuterRef("pk")).exclude(
        status__in=_SESSION_ENDED
    )
    rows = (
        Checkout.objects.select_for_update(of=("self",))
        .filter(
            partner=partner,
            evse__location__country_code=country_code,
            evse__location__party_id=party_id,
        )
        .filter(
            Q(status__in=_UNDER_WAY)
            | (Q(status=Status.SETTLED) & ~Exists(regular_cdr))
            | Exists(credit_wait)
            | Exists(running)
        )
        .order_by("pk")
    )
    return list(rows.values_list("pk", flat=True))


def move_open_business(country_code: str, party_id: str, source: Partner, target: Partner) -> None:
    """An operator moved the party from `source` to `target` (in the move's transaction): its
    open checkouts, with their sessions and CDRs, its unmatched running sessions and its
    commands still waiting for the CPO go to `target`; valid tokens are pushed there after
    commit. Registered in `PaymentsConfig.ready()`."""
    cc, pid = country_code.upper(), party_id.upper()
    moving = open_checkouts(cc, pid, source)
    Checkout.objects.filter(pk__in=moving).update(partner=target)
    ChargingSession.objects.filter(partner=source, country_code=cc, party_id=pid).filter(
        Q(checkout_id__in=moving) | (Q(checkout=None) & ~Q(status__in=_SESSION_ENDED))
    ).update(partner=target)
    Cdr.objects.filter(partner=source, checkout_id__in=moving).update(partner=target)
    of_party = Q(to_country_code=cc, to_party_id=pid) | Q(
        to_country_code="",
        checkout__evse__location__country_code=cc,
        checkout__evse__location__party_id=pid,
    )
    waiting = Q(result="", response_result__in=["", "ACCEPTED"])
    CommandRequest.objects.filter(Q(partner=source) & of_party & waiting).update(partner=target)
    tokens = DriverToken.objects.filter(checkout_id__in=moving, valid=True)
    to_push = list(tokens.order_by("checkout_id").values_list("checkout_id", flat=True))
    tokens.update(pushed_at=None)  # `target` does not hold them yet
    for checkout_id in to_push:
        enqueue_on_commit("payments.tasks.push_token", checkout_id)
