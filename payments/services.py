"""Every write to a checkout, one verb each (ARCHITECTURE.md "Checkout states"). Each runs in one
transaction and locks the checkout first; a move the state does not allow is refused. Calls to
Stripe happen outside transactions: the few the driver waits for (`pay`, `confirm`, the
SetupIntent at the start) here, the rest in tasks enqueued on commit."""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ocpi_peer import clients
from ocpi_peer.models import ClientInfo, Partner
from payments import cases, declines, gateway, offers, terminals
from payments.ledger import book
from payments.models import Checkout, Deadline, DriverToken, LedgerEntry, StripeEvent
from payments.queue import enqueue_on_commit
from payments.states import CheckoutError, TransitionRefused, let_go, move
from stations import evse_ids, l10n, opening, tariffs
from stations.l10n import Locale
from stations.models import Connector, Evse
from stations.money import Money

logger = logging.getLogger(__name__)
Status = Checkout.Status


class UnknownEvse(CheckoutError):
    code = "unknown_evse"


class UnknownConnector(CheckoutError):
    code = "unknown_connector"


class UnknownCheckout(CheckoutError):
    code = "unknown_checkout"


class AmbiguousEvse(CheckoutError):
    """More than one charger is published under the ID the driver gave: none is picked."""

    code = "ambiguous_evse"


class NotPayable(CheckoutError):
    code = "not_payable"


class EvseBusy(NotPayable):
    code = "evse_busy"


class RateLimited(CheckoutError):
    code = "rate_limited"


class PaymentInProgress(CheckoutError):
    code = "payment_in_progress"


class PaymentFailed(CheckoutError):
    code = "payment_failed"


class CardNotSetUp(CheckoutError):
    """`pay` came before the card entry of the page (the checkout's SetupIntent) succeeded."""

    code = "card_not_set_up"


class CardTokenUnusable(CheckoutError):
    """Stripe refused the ConfirmationToken `pay` sent: unknown, spent or expired (a replayed
    request, a page left open for hours). The driver enters the card again."""

    code = "card_token_unusable"


class NotTheCardEntered(CheckoutError):
    """`pay` named another payment method than the one the checkout's SetupIntent collected
    (another customer's, or one obtained elsewhere): it is never held."""

    code = "payment_method_mismatch"


# --- can this EVSE be paid for now? -----------------------------------------------------------

_STATUS_WORDS: dict[str, str | Promise] = {
    Evse.Status.CHARGING: gettext_lazy("another vehicle is charging there"),
    Evse.Status.BLOCKED: gettext_lazy("the parking space is blocked"),
    Evse.Status.RESERVED: gettext_lazy("reserved for someone else"),
    Evse.Status.INOPERATIVE: gettext_lazy("temporarily out of service"),
    Evse.Status.OUTOFORDER: gettext_lazy("out of order"),
    Evse.Status.PLANNED: gettext_lazy("not in operation yet"),
    Evse.Status.REMOVED: gettext_lazy("no longer in operation"),
    Evse.Status.UNKNOWN: gettext_lazy("not reachable right now (status unknown)"),
}


def find_evse(evse_id: str) -> Evse:
    """The charger a driver's EVSE ID means (`stations.evse_ids.find`). When it names more
    than one that may be paid for, none is picked: an operator gets a case and the driver a
    refusal."""
    found = evse_ids.find(evse_id)
    if found.twins:
        cases.open_duplicate_evse_id_case(found.twins)
        raise AmbiguousEvse(
            _(
                "more than one charger is listed under %(id)s, so we cannot tell which one you "
                "are at: please use another charger"
            )
            % {"id": found.twins[0].evse_id}
        )
    if found.evse is None:
        raise UnknownEvse(_("no charger is known as %(id)s") % {"id": evse_id})
    return found.evse


# What a party's hub says of its link (ClientInfo), in words; CONNECTED is payable.
_HUB_STATUS_WORDS: dict[str, Promise] = {
    ClientInfo.Status.OFFLINE: gettext_lazy("its operator's system is offline at the moment"),
    ClientInfo.Status.SUSPENDED: gettext_lazy("its operator's connection is suspended"),
    ClientInfo.Status.PLANNED: gettext_lazy("its operator is not connected yet"),
}


def why_not_payable(evse: Evse, *, offer: offers.PartyOffer | None = None) -> str | None:
    """Why a driver cannot pay for this EVSE now, in words; None when they can. `offer`: its
    party's, when the caller has it."""
    partner: Partner = evse.location.partner
    offer = offer or offers.load(evse)
    foreign = evse_ids.foreign_operator(evse, offer.approved)
    if foreign is not None:
        return _(
            "its ID belongs to the operator %(operator)s, but another operator told us about "
            "it, so it is not payable here"
        ) % {"operator": foreign}
    if evse.status != Evse.Status.AVAILABLE:
        return str(_STATUS_WORDS.get(evse.status, _("not available (%(s)s)") % {"s": evse.status}))
    if not partner.is_registered:
        return _("its operator is not connected to us")
    shut = _why_closed(evse)
    if shut is not None:
        return shut
    info = offer.client_info
    if info is not None and not info.connected:
        return str(_HUB_STATUS_WORDS.get(info.status, _("its operator cannot be reached now")))
    if "commands" in partner.missing_modules:
        return _("it cannot be started remotely by its operator's system")
    if evse.capabilities and "REMOTE_START_STOP_CAPABLE" not in evse.capabilities:
        return _("it cannot be started remotely")
    if not terminals.serves(evse):
        return _(
            "its operator has not assigned it to our payment terminal, so it cannot be paid "
            "for here"
        )
    return None


def _why_closed(evse: Evse) -> str | None:
    """A location closed now by its opening times that takes no charging while closed
    (`charging_when_closed` false; absent means it charges, as OCPI's default) is not payable:
    the driver could pay and not charge. Its opening hours are read in its own time zone."""
    location = evse.location
    if location.charging_when_closed is not False:
        return None
    shut = opening.closed(location, timezone.now())
    if shut is None:
        return None
    if shut.clock_unknown:
        return _(
            "it does not charge while closed, and its opening hours cannot be read in its time zone"
        )
    if shut.opens is None:
        return _("it is closed now and does not charge while closed")
    return _("it is closed now and does not charge while closed; it opens at %(moment)s") % {
        "moment": l10n.moment(shut.opens)
    }


def price_shown(
    connector: Connector,
    *,
    at: datetime,
    locale: Locale,
    offer: offers.PartyOffer,
    estimate_kwh: tuple[Decimal, ...] = tariffs.ESTIMATE_KWH,
) -> tariffs.PriceShown | None:
    """The price a driver is shown at this connector, with its CPO party's VAT rule."""
    return tariffs.shown_price(
        connector,
        at=at,
        locale=locale,
        missing_vat_is_country_rate=offer.missing_vat_is_country_rate,
        held=offer.tariffs,
        estimate_kwh=estimate_kwh,
    )


def hold_for(shown: tariffs.PriceShown, *, offer: offers.PartyOffer) -> Money:
    """ARCHITECTURE.md "The hold": the tariff's `preauthorize_amount` (2.3.0) when the CPO
    states one, else the CPO party's setting, else the platform default; never above the
    tariff's max_price incl. tax (2.2.1 `incl_vat`, 2.3.0 `after_taxes`) when that is lower."""
    tariff = shown.tariff
    if tariff.preauthorize_amount is not None and tariff.preauthorize_amount > 0:
        amount = tariff.preauthorize_amount
    else:
        terms = offer.terms
        amount = terms.default_hold if terms else Decimal(settings.DEFAULT_HOLD_AMOUNT)
    cap = tariff.max_price_incl_vat
    if cap is not None and cap > 0:
        amount = min(amount, cap)
    return Money(amount, shown.currency).rounded()


# --- starting a checkout ----------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    checkout: Checkout
    setup_secret: str  # for Stripe.js to collect the card (confirmCardSetup)


def start_checkout(
    *,
    evse_id: str,
    connector_id: str,
    email: str = "",
    locale: Locale = "en",
    client_ip: str | None,
    replaces: str = "",
) -> Started:
    """A driver wants to pay for this connector: check it can be paid for now, claim the EVSE
    (one driver at a time, lapsing after CHECKOUT_CLAIM_SECONDS unpaid), keep the price shown,
    and open a SetupIntent so the browser can collect a card.

    `client_ip` is the driver's address as `ocpi_peer.clients.client_address` finds it behind
    our proxies; `replaces` is the id of the unpaid checkout this browser started here before
    (a reloaded page), which it may take over at once: holding its secret id proves it is
    theirs, where an address shared behind a NAT or a proxy would not."""
    since = timezone.now()
    client_net = clients.rate_bucket(client_ip) if client_ip else ""
    limit, window = clients.parse_rate(settings.CHECKOUT_RATE_LIMIT)
    if (
        client_net
        and Checkout.objects.filter(client_net=client_net, created_at__gte=since - window).count()
        >= limit
    ):
        raise RateLimited(
            _(
                "Too many payment attempts from your connection. Please wait a few minutes and "
                "try again."
            )
        )
    evse = find_evse(evse_id)
    limit, window = clients.parse_rate(settings.CHECKOUT_RATE_LIMIT_PER_EVSE)
    if Checkout.objects.filter(evse=evse, created_at__gte=since - window).count() >= limit:
        raise RateLimited(
            _("Too many payment attempts at this charger. Please wait a few minutes and try again.")
        )
    connector = evse.connectors.filter(connector_id=connector_id).first()
    if connector is None:
        raise UnknownConnector(_("this charger has no connector %(id)s") % {"id": connector_id})
    offer = offers.load(evse)  # read now, not from a page's cache: this is what is charged
    reason = why_not_payable(evse, offer=offer)
    if reason is not None:
        raise NotPayable(_("This charger cannot be paid for now: %(why)s.") % {"why": reason})
    now = timezone.now()
    shown = price_shown(connector, at=now, locale=locale, offer=offer)
    if shown is None or shown.not_payable_reason:
        why = shown.not_payable_reason if shown else _("its operator has sent us no price for it")
        raise NotPayable(_("This charger cannot be paid for now: %(why)s.") % {"why": why})
    checkout = _claim(
        evse,
        connector,
        shown,
        hold=hold_for(shown, offer=offer),
        email=email,
        locale=locale,
        client_ip=client_ip,
        client_net=client_net,
        replaces=replaces,
    )
    setup_id, secret = gateway.create_setup_intent(checkout_ref=checkout.public_id)
    Checkout.objects.filter(pk=checkout.pk).update(stripe_setup_intent=setup_id)
    checkout.stripe_setup_intent = setup_id
    return Started(checkout, secret)


@transaction.atomic(durable=True)
def _claim(
    evse: Evse,
    connector: Connector,
    shown: tariffs.PriceShown,
    *,
    hold: Money,
    email: str,
    locale: str,
    client_ip: str | None,
    client_net: str,
    replaces: str,
) -> Checkout:
    now = timezone.now()
    lapse = now - timedelta(seconds=settings.CHECKOUT_CLAIM_SECONDS)
    # An unpaid claim lapses after CHECKOUT_CLAIM_SECONDS; the driver who started it (the
    # browser that holds its secret id, e.g. after reloading the page) may take it over at
    # once, as long as no payment is under way for it. Not by address: drivers behind one NAT
    # or proxy share it, and one could expire another's claim.
    lapsed = Q(created_at__lt=lapse)
    own = Q(public_id=replaces, stripe_payment_intent="") if replaces else Q(pk__in=[])
    for stale in (
        Checkout.objects.select_for_update()
        .filter(evse_claim=evse, status=Status.CREATED, pay_pending_since=None)
        .filter(lapsed | own)
    ):
        _expire(stale, reason=_("not paid in time") if stale.created_at < lapse else _("replaced"))
    try:
        with transaction.atomic():
            checkout = Checkout.objects.create(
                partner=evse.location.partner,
                evse=evse,
                connector=connector,
                evse_claim=evse,
                email=email,
                locale=locale,
                client_ip=client_ip,
                client_net=client_net,
                tariff=shown.tariff,
                tariff_snapshot=_snapshot(shown),
                currency=hold.currency,
                hold_amount=hold.amount,
            )
    except IntegrityError:
        raise EvseBusy(
            _(
                "Another driver is paying for this charger right now. Please try again in a few "
                "minutes."
            )
        ) from None
    Deadline.objects.create(
        checkout=checkout,
        kind=Deadline.Kind.UNPAID,
        due_at=now + timedelta(seconds=settings.CHECKOUT_CLAIM_SECONDS),
    )
    return checkout


def _snapshot(shown: tariffs.PriceShown) -> dict[str, Any]:
    """The price exactly as the driver saw it, kept for the receipt and for settlement."""
    tariff = shown.tariff
    return {
        "tariff_id": tariff.ocpi_id,
        "country_code": tariff.country_code,
        "party_id": tariff.party_id,
        "currency": tariff.currency,
        "type": tariff.type,
        "elements": tariff.elements,
        "min_price": [str(tariff.min_price_excl_vat or ""), str(tariff.min_price_incl_vat or "")],
        "max_price": [str(tariff.max_price_excl_vat or ""), str(tariff.max_price_incl_vat or "")],
        "vat_stated": tariff.vat_stated,
        "tax_included": tariff.tax_included,
        "missing_vat_is_fallback": shown.missing_vat_is_fallback,
        "vat_fallback": str(shown.vat_fallback) if shown.vat_fallback is not None else None,
        "time_zone": shown.time_zone,
        "last_updated": tariff.last_updated.isoformat(),
        "lines": list(shown.lines),
        "max_power_kw": str(shown.power_kw) if shown.power_kw is not None else None,
        "max_energy_price_incl_vat": str(_highest_energy_price(shown)),
        "estimates": [e.text for e in shown.estimates],
        "locale": shown.locale,
    }


def new_card_setup(checkout: Checkout) -> str:
    """A fresh SetupIntent for another card after a decline; returns its client secret."""
    setup_id, secret = gateway.create_setup_intent(checkout_ref=checkout.public_id)
    Checkout.objects.filter(pk=checkout.pk).update(stripe_setup_intent=setup_id)
    return secret


def _highest_energy_price(shown: tariffs.PriceShown) -> Decimal:
    """The dearest kWh the tariff can charge, incl. VAT: what the stop margin is computed with.
    Each component's VAT as pricing decides it (`stations.pricing.component_vat`)."""
    prices = tariffs.energy_prices(
        shown.tariff,
        vat_fallback=shown.vat_fallback,
        missing_vat_is_fallback=shown.missing_vat_is_fallback,
    )
    grosses = [p.incl_vat if p.incl_vat is not None else p.excl_vat for p in prices]
    return max([Decimal(0), *grosses])


_PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def well_formed_public_id(public_id: str) -> bool:
    """Whether `public_id` could be one of ours (`models.new_public_id`): anything else is no
    checkout, found without a query (PostgreSQL refuses a NUL in one)."""
    return _PUBLIC_ID.fullmatch(public_id) is not None


def checkout_by_public_id(public_id: str) -> Checkout:
    if not well_formed_public_id(public_id):
        raise UnknownCheckout(_("no such checkout"))
    checkout = (
        Checkout.objects.select_related("evse__location", "connector")
        .filter(public_id=public_id)
        .first()
    )
    if checkout is None:
        raise UnknownCheckout(_("no such checkout"))
    return checkout


# --- paying -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PayOutcome:
    checkout: Checkout
    action_secret: str | None = None  # the intent's client secret when 3-D Secure is needed


PENDING_PAY_TIMEOUT = timedelta(seconds=90)


def pay_checkout(
    *, public_id: str, payment_method: str | None = None, confirmation_token: str | None = None
) -> PayOutcome:
    """Place the hold, the one PaymentIntent of the checkout, created and confirmed here.

    The card is what the Payment Element collected (`confirmation_token`, made by Stripe.js in
    the driver's browser, single-use and only for our account), else the card the checkout's
    own SetupIntent collected, as Stripe says (`_collected_card`); a `payment_method` the
    client sends must be that card, or nothing is held. Doubled or retried requests never
    place a second hold: the attempt is recorded before Stripe is called, and the Stripe
    idempotency key repeats when an attempt's outcome was never recorded (a crash)."""
    checkout_id, attempt, hold, setup_id = _begin_pay(public_id)
    if attempt is None:  # already authorized, or 3-D Secure already asked for
        return _current(checkout_id)
    card: dict[str, str] = {}
    if confirmation_token is not None:
        card["confirmation_token"] = confirmation_token
    else:
        try:
            card["payment_method"] = _collected_card(
                setup_id, public_id=public_id, sent=payment_method
            )
        except (CheckoutError, gateway.GatewayError):
            _end_pay(checkout_id)
            raise
    try:
        intent = gateway.place_hold(
            amount_minor=hold.to_minor(),
            currency=hold.currency,
            checkout_ref=public_id,
            idempotency_key=f"hold:{public_id}:{attempt}",
            **card,
        )
    except gateway.PaymentDeclined as exc:
        checkout = _declined(checkout_id, exc.reason, code=exc.code)
        raise PaymentFailed(checkout.failure_reason) from exc
    except gateway.GatewayError as exc:
        _end_pay(checkout_id)
        if confirmation_token is not None and not exc.transient and exc.http_status in (400, 404):
            logger.warning("checkout %s: confirmation token refused: %s", public_id, exc)
            raise CardTokenUnusable(
                _("Your card details could not be used. Please enter them again.")
            ) from exc
        raise
    checkout = apply_intent(checkout_id=checkout_id, intent=intent)
    if checkout.status == Status.CREATED and intent.status == "requires_action":
        return PayOutcome(checkout, action_secret=intent.client_secret)
    if checkout.status == Status.FAILED or (
        checkout.status == Status.CREATED and checkout.failure_reason
    ):
        raise PaymentFailed(checkout.failure_reason)
    return PayOutcome(checkout)


def _collected_card(setup_id: str, *, public_id: str, sent: str | None) -> str:
    """The payment method the checkout's SetupIntent collected, read from Stripe: it must have
    succeeded (the card entered, 3-D Secure done if asked) and carry our metadata for this
    checkout. What the browser sends is at most checked against it, never used: a client
    could send any payment method id it holds."""
    setup = gateway.retrieve_setup(setup_id) if setup_id else None
    if setup is not None and setup.checkout_ref != public_id:
        logger.error(
            "checkout %s: its SetupIntent %s is for %r", public_id, setup_id, setup.checkout_ref
        )
        raise NotTheCardEntered(_("This card was not entered for this payment."))
    if setup is None or setup.status != "succeeded" or setup.payment_method is None:
        raise CardNotSetUp(_("Your card has not been confirmed yet. Please enter it first."))
    if sent is not None and sent != setup.payment_method:
        logger.warning("checkout %s: pay named another card than the one entered", public_id)
        raise NotTheCardEntered(
            _("This card is not the one entered on this page. Please enter your card again.")
        )
    return setup.payment_method


@transaction.atomic(durable=True)
def _begin_pay(public_id: str) -> tuple[int, int | None, Money, str]:
    checkout = Checkout.objects.select_for_update().filter(public_id=public_id).first()
    if checkout is None:
        raise UnknownCheckout(_("no such checkout"))
    if checkout.status != Status.CREATED or checkout.stripe_payment_intent:
        if checkout.status in (Status.FAILED, Status.EXPIRED):
            raise TransitionRefused(
                f"this checkout is {checkout.status}: {checkout.failure_reason}".rstrip(": ")
            )
        return checkout.pk, None, Money(checkout.hold_amount, checkout.currency), ""
    now = timezone.now()
    if checkout.pay_pending_since is not None:
        if now - checkout.pay_pending_since < PENDING_PAY_TIMEOUT:
            raise PaymentInProgress(_("Your payment is being processed."))
        attempt = checkout.pay_attempt  # its outcome was never recorded: repeat the same key
    else:
        attempt = checkout.pay_attempt + 1
    checkout.pay_attempt, checkout.pay_pending_since = attempt, now
    checkout.failure_reason = ""
    checkout.save(update_fields=["pay_attempt", "pay_pending_since", "failure_reason"])
    hold = Money(checkout.hold_amount, checkout.currency)
    return checkout.pk, attempt, hold, checkout.stripe_setup_intent


def _end_pay(checkout_id: int) -> None:
    Checkout.objects.filter(pk=checkout_id).update(pay_pending_since=None)


def _current(checkout_id: int) -> PayOutcome:
    checkout = Checkout.objects.get(pk=checkout_id)
    if checkout.status == Status.CREATED and checkout.stripe_payment_intent:
        intent = gateway.retrieve(checkout.stripe_payment_intent)
        checkout = apply_intent(checkout_id=checkout_id, intent=intent)
        if intent.status == "requires_action":
            return PayOutcome(checkout, action_secret=intent.client_secret)
    return PayOutcome(checkout)


@transaction.atomic(durable=True)
def _declined(checkout_id: int, reason: str, *, code: str | None) -> Checkout:
    """A declined card: the driver may try another, up to CHECKOUT_MAX_DECLINES times."""
    checkout = Checkout.objects.select_for_update().get(pk=checkout_id)
    checkout.pay_pending_since = None
    checkout.stripe_payment_intent = ""
    checkout.declines += 1
    # Our own words in the driver's language; Stripe's reason (English) goes to the log: a
    # decline is routine, not an exception for an operator's queue.
    checkout.failure_reason = declines.reason(code)
    logger.info("checkout %s: card declined: %s (%s)", checkout.pk, reason, code)
    if checkout.declines >= settings.CHECKOUT_MAX_DECLINES and checkout.status == Status.CREATED:
        move(checkout, Status.FAILED)
        checkout.failure_reason = _(
            "Your card was declined %(n)s times. For your safety no further attempt is possible."
        ) % {"n": checkout.declines}
        let_go(checkout)
    checkout.save()
    return checkout


def confirm_checkout(*, public_id: str) -> Checkout:
    """After 3-D Secure in the browser: read the intent from Stripe (never trust the client)."""
    checkout = checkout_by_public_id(public_id)
    if not checkout.stripe_payment_intent:
        return checkout
    return apply_intent(
        checkout_id=checkout.pk, intent=gateway.retrieve(checkout.stripe_payment_intent)
    )


@transaction.atomic(durable=True)
def apply_intent(*, checkout_id: int, intent: gateway.Intent) -> Checkout:
    """`pay`, `confirm` and the webhook all end here with the intent as Stripe reports it;
    whichever comes second changes nothing."""
    checkout = Checkout.objects.select_for_update().get(pk=checkout_id)
    checkout.pay_pending_since = None
    if checkout.status != Status.CREATED:
        checkout.save(update_fields=["pay_pending_since"])
        return checkout
    checkout.stripe_payment_intent = intent.id
    if intent.status == "requires_capture":
        move(checkout, Status.AUTHORIZED)
        checkout.authorized_at = timezone.now()
        checkout.payment_status = Checkout.PaymentStatus.HELD
        checkout.card_brand = intent.card_brand or ""
        checkout.card_last4 = intent.card_last4 or ""
        checkout.failure_reason = ""
        book(
            checkout,
            LedgerEntry.Kind.HOLD,
            intent.amount_capturable or intent.amount,
            key=f"hold:{intent.id}",
            stripe_id=intent.id,
        )
        Deadline.objects.filter(checkout=checkout, kind=Deadline.Kind.UNPAID, done_at=None).update(
            done_at=timezone.now()
        )
        # The card's last moment to capture: Stripe's word, else the usual lifetime; we act
        # EXPIRING_HOLD_MARGIN earlier if no CDR has settled the checkout by then.
        checkout.capture_before = intent.capture_before or (
            checkout.authorized_at + settings.HOLD_LIFETIME
        )
        Deadline.objects.create(
            checkout=checkout,
            kind=Deadline.Kind.HOLD_EXPIRING,
            due_at=checkout.capture_before - settings.EXPIRING_HOLD_MARGIN,
        )
        enqueue_on_commit("payments.tasks.start_charging", checkout.pk)
    elif intent.status in ("requires_payment_method", "canceled"):
        # 3-D Secure failed or the card was refused after all: another card may be tried.
        checkout.stripe_payment_intent = ""
        checkout.declines += 1
        checkout.failure_reason = declines.reason(intent.decline_code or "authentication_failure")
        logger.info(
            "checkout %s: payment not approved: %s (%s)",
            checkout.pk,
            intent.decline_reason,
            intent.decline_code,
        )
        if checkout.declines >= settings.CHECKOUT_MAX_DECLINES:
            move(checkout, Status.FAILED)
            let_go(checkout)
    checkout.save()
    return checkout


# --- ending without charging ------------------------------------------------------------------


def _expire(checkout: Checkout, *, reason: str) -> None:
    move(checkout, Status.EXPIRED)
    checkout.failure_reason = reason
    let_go(checkout)
    checkout.save()


@transaction.atomic(durable=True)
def cancel_checkout(*, public_id: str) -> Checkout:
    """The driver gives up before charging starts: an unpaid checkout expires, a held one fails
    and its hold is released. Once charging is under way, stopping is the charging's business."""
    checkout = Checkout.objects.select_for_update().filter(public_id=public_id).first()
    if checkout is None:
        raise UnknownCheckout(_("no such checkout"))
    if checkout.status == Status.CREATED:
        _expire(checkout, reason=_("cancelled by the driver"))
    elif checkout.status == Status.AUTHORIZED:
        move(checkout, Status.FAILED)
        checkout.failure_reason = _("cancelled by the driver before charging started")
        let_go(checkout)
        checkout.save()
    elif checkout.status not in (Status.FAILED, Status.EXPIRED):
        raise TransitionRefused(
            _("this checkout is %(status)s: it cannot be cancelled now")
            % {"status": checkout.status}
        )
    return checkout


@transaction.atomic(durable=True)
def record_release(*, checkout_id: int, intent: gateway.Intent) -> None:
    checkout = Checkout.objects.select_for_update().get(pk=checkout_id)
    if intent.status == "canceled":
        held = (
            checkout.ledger.filter(kind=LedgerEntry.Kind.HOLD)
            .values_list("amount_minor", flat=True)
            .first()
        )
        if held:
            book(
                checkout,
                LedgerEntry.Kind.RELEASE,
                held,
                key=f"release:{intent.id}",
                stripe_id=intent.id,
            )
        checkout.payment_status = (
            Checkout.PaymentStatus.RELEASED if held else checkout.payment_status
        )
        checkout.save(update_fields=["payment_status"])


# --- deadlines and webhooks -------------------------------------------------------------------


def unpaid_deadline_due(checkout: Checkout, deadline: Deadline) -> bool:
    """The claim's time is up (`dispatch.handle_deadline`, checkout locked): an unpaid checkout
    expires. While a payment is being placed the deadline is moved on instead, and False says
    it is not done."""
    if checkout.status != Status.CREATED:
        return True
    if checkout.pay_pending_since is not None:  # a payment is being placed: look again soon
        deadline.due_at = timezone.now() + PENDING_PAY_TIMEOUT
        deadline.save(update_fields=["due_at"])
        return False
    _expire(checkout, reason=_("not paid in time"))
    return True


def stored_stripe_event(event: gateway.WebhookEvent) -> bool:
    """Record the event once; False if it was recorded before (a replay, which must change
    nothing)."""
    try:
        with transaction.atomic():
            StripeEvent.objects.create(
                event_id=event.id, type=event.type, intent_id=event.intent_id or ""
            )
    except IntegrityError:
        return False
    return True


def due_deadlines(now: datetime, *, retry_after: timedelta, batch: int = 200) -> list[int]:
    """Claim due deadlines by moving their due time on (one sweeper wins each; a crashed
    worker's row falls due again)."""
    claimed = []
    due = Deadline.objects.filter(done_at=None, due_at__lte=now).order_by("due_at")
    for pk, due_at in due.values_list("pk", "due_at")[:batch]:
        if Deadline.objects.filter(pk=pk, due_at=due_at).update(due_at=now + retry_after):
            claimed.append(pk)
    return claimed


# --- the driver's token and real-time authorization ------------------------------------------


class UnknownToken(LookupError):
    """Real-time authorization for a token we never issued (2004 in 2.2.1)."""


class NotEnoughInformation(ValueError):
    """We decide per location: an authorization request without one cannot be answered (2002)."""


@transaction.atomic(durable=True)
def issue_token(*, checkout_id: int) -> DriverToken:
    """The checkout's single-use token and, for 2.2.1, its authorization_reference. Called
    again (a retried task) it returns what was issued."""
    checkout = Checkout.objects.select_for_update().get(pk=checkout_id)
    existing = DriverToken.objects.filter(checkout=checkout).first()
    if existing is not None:
        return existing
    if checkout.authorization_reference is None:
        checkout.authorization_reference = str(uuid.uuid4())
        checkout.save(update_fields=["authorization_reference"])
    country, party = settings.OCPI_COUNTRY_CODE.upper(), settings.OCPI_PARTY_ID.upper()
    return DriverToken.objects.create(
        checkout=checkout,
        uid=str(uuid.uuid4()),
        auth_id=f"{country}-{party}-{secrets.token_hex(8).upper()}",
        contract_id=f"{country}-{party}-C{checkout.pk:08d}",
    )


@dataclass(frozen=True)
class Authorization:
    allowed: str  # ALLOWED, BLOCKED, EXPIRED, NO_CREDIT, NOT_ALLOWED
    token: DriverToken
    location_id: str | None = None
    evse_uids: tuple[str, ...] = ()
    authorization_reference: str | None = None
    info: str | None = None


_ENDED = {Status.FINISHED, Status.SETTLED, Status.FAILED, Status.EXPIRED}


def authorize_token(
    *, partner: Partner, uid: str, location_id: str | None, evse_uids: list[str]
) -> Authorization:
    """A CPO asks whether our token may charge here (TK-03). Only the EVSE the driver paid for,
    and only while the checkout is authorized or starting; a refusal is still an answer. Another
    CPO's token is unknown to the asker: token ids are not shared between partners."""
    token = (
        DriverToken.objects.select_related("checkout__evse__location")
        .filter(uid__iexact=uid, checkout__partner=partner)
        .first()
    )
    if token is None:
        raise UnknownToken(f"we issued no token {uid}")
    checkout = token.checkout
    if not token.valid:
        return Authorization("BLOCKED", token, info="this token was withdrawn")
    if checkout.status in _ENDED:
        return Authorization("EXPIRED", token, info=f"the payment is {checkout.status}")
    if checkout.status == Status.CREATED:
        return Authorization("NO_CREDIT", token, info="not paid yet")
    if location_id is None:
        raise NotEnoughInformation("we authorize per location: send the location")
    evse = checkout.evse
    if checkout.status not in (Status.AUTHORIZED, Status.STARTING):
        return Authorization("NOT_ALLOWED", token, info=f"the payment is {checkout.status}")
    if location_id.upper() != evse.location.ocpi_id.upper() or (
        evse_uids and evse.uid.upper() not in {u.upper() for u in evse_uids}
    ):
        return Authorization("NOT_ALLOWED", token, info="paid for another charger")
    return Authorization(
        "ALLOWED",
        token,
        location_id=evse.location.ocpi_id,
        evse_uids=(evse.uid,),
        authorization_reference=checkout.authorization_reference,
    )
