"""A driver finds their session again: the browser that paid remembers the checkout's secret
link in a cookie (`views`), and scanning the charger again (or opening `/charge/`) leads back to
the live page rather than to "occupied"; a driver may also have the link e-mailed to them.

Only checkouts whose secret the browser holds are ever looked up, so no driver is led to
another's session. The e-mail address is kept until the message is sent, then blanked."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ocpi_peer import clients
from payments.models import Checkout, LinkMail
from payments.queue import enqueue_on_commit
from payments.services import RateLimited, checkout_by_public_id, well_formed_public_id
from stations.l10n import Locale

# From the payment to the end of charging: the session a driver comes back to.
LIVE = (
    Checkout.Status.AUTHORIZED,
    Checkout.Status.STARTING,
    Checkout.Status.CHARGING,
    Checkout.Status.STOPPING,
)
# Link e-mails one checkout may ask for in the window of CHECKOUT_RATE_LIMIT.
MAILS_PER_CHECKOUT = 3


def live_checkouts(public_ids: list[str]) -> list[Checkout]:
    """Of these secret ids (the browser's own), the checkouts still paid for and charging,
    newest first; ids that are no checkout are skipped."""
    wanted = [pid for pid in public_ids if well_formed_public_id(pid)]
    if not wanted:
        return []
    return list(
        Checkout.objects.filter(public_id__in=wanted, status__in=LIVE)
        .select_related("evse")
        .order_by("-created_at")
    )


@transaction.atomic(durable=True)
def request_link_mail(
    *, public_id: str, email: str, locale: Locale, client_ip: str | None
) -> LinkMail:
    """E-mail the checkout's link to `email` (the task sends it after commit). Limited as the
    checkouts are (CHECKOUT_RATE_LIMIT per client), and to MAILS_PER_CHECKOUT per checkout in
    the same window, so that the form cannot be used to send mail to strangers in bulk."""
    checkout = checkout_by_public_id(public_id)
    limit, window = clients.parse_rate(settings.CHECKOUT_RATE_LIMIT)
    since = timezone.now() - window
    client_net = clients.rate_bucket(client_ip) if client_ip else ""
    recent = LinkMail.objects.filter(requested_at__gte=since)
    if (client_net and recent.filter(client_net=client_net).count() >= limit) or recent.filter(
        checkout=checkout
    ).count() >= min(limit, MAILS_PER_CHECKOUT):
        raise RateLimited(_("too many e-mails asked for: please wait a few minutes"))
    mail = LinkMail.objects.create(
        checkout=checkout, email=email, locale=locale, client_net=client_net
    )
    enqueue_on_commit("payments.tasks.send_link_mail", mail.pk)
    return mail
