"""The Stripe boundary: the only module in the product that imports `stripe`.

Everything else sees plain values (`Intent`, `Setup`, `Dispute`, `WebhookEvent`), amounts as
integers in minor units, and three exceptions: `PaymentDeclined` (the card said no: tell the
driver), `GatewayError` (anything else; `transient` says whether trying again later may help)
and `InvalidWebhook`. Conversion between `Money` and minor units happens elsewhere, once.

The SDK is configured per call from `django.conf.settings` (key, `STRIPE_API_BASE`), so a test
or the demo that points the settings at a local fake Stripe is seen at once; nothing is cached
beyond one client per (key, base) pair.

The same code runs against real Stripe and against localstripe (the fake in the tests and the
demo), so it sends only parameters both accept (localstripe refuses unknown ones with a 400),
asks for `latest_charge` and `payment_method` expanded (real Stripe sends ids, localstripe
objects) and reads optional fields with fallbacks. Writes carry the caller's idempotency key;
localstripe ignores it, so the caller's own records must prevent a second hold or capture.

Nothing here logs card data, client secrets or API keys; the SDK's debug log (request and
response bodies, which contain client secrets) is filtered out.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import stripe
from django.conf import settings

if TYPE_CHECKING:
    from stripe.params import RefundCreateParams, SetupIntentCreateParams

# Response bodies (client secrets) are logged by the SDK at DEBUG: never let them through.
logging.getLogger("stripe").addFilter(lambda record: record.levelno > logging.DEBUG)

CONNECT_TIMEOUT, READ_TIMEOUT = 5.0, 30.0  # seconds; a driver is waiting on `place_hold`
NETWORK_RETRIES = 2  # the SDK retries connection errors, 409 and 5xx, with our idempotency key
WEBHOOK_TOLERANCE = 300  # seconds between Stripe signing an event and our verifying it

# Real Stripe returns ids for these; asking for the objects gives us card details and
# `capture_before`. localstripe inlines them anyway and accepts the same parameter.
_EXPAND = ["latest_charge", "payment_method"]

# What a hold may be paid with: cards, which include Apple Pay and Google Pay, and Link. The
# charger page's Payment Element is offered the same list.
PAYMENT_METHOD_TYPES = ["card", "link"]


@dataclass(frozen=True)
class Intent:
    """A PaymentIntent as Stripe reports it now; the only source of truth about a payment."""

    id: str
    status: str  # requires_payment_method, requires_confirmation, requires_action, processing,
    # requires_capture (held), succeeded (captured), canceled
    amount: int  # minor units
    amount_capturable: int
    amount_received: int  # 0 when absent (localstripe omits it)
    currency: str  # upper-case ISO 4217 ("EUR")
    client_secret: str = field(repr=False)  # for Stripe.js in the driver's browser only
    payment_method: str | None
    decline_reason: str | None  # Stripe's words (English, for operators), None if nothing failed
    decline_code: str | None  # Stripe's decline code, else its error code (`payments.declines`)
    card_brand: str | None
    card_last4: str | None
    capture_before: datetime | None  # when Stripe says; capture a day earlier
    metadata: dict[str, str]

    @property
    def checkout_ref(self) -> str | None:
        """The checkout this intent was created for (`place_hold`'s `checkout_ref`)."""
        return self.metadata.get("checkout")


@dataclass(frozen=True)
class Setup:
    """A SetupIntent: how the browser hands us a card (Stripe.js `confirmCardSetup`)."""

    id: str
    status: str  # succeeded once the card is set up (after 3-D Secure if the card asked)
    payment_method: str | None
    metadata: dict[str, str]

    @property
    def checkout_ref(self) -> str | None:
        return self.metadata.get("checkout")


@dataclass(frozen=True)
class Dispute:
    """A dispute (chargeback or inquiry) as Stripe has it now (`retrieve_dispute()`), which
    `payments.disputes` applies. Never the copy in a webhook's body: a signed body may still be
    an old one, replayed or out of order, so its figures are not booked."""

    id: str
    intent_id: str | None  # the PaymentIntent disputed (or its charge's), how we find ours
    charge_id: str | None
    amount: int  # minor units of `currency`
    currency: str  # upper-case ISO 4217 ("EUR")
    reason: str  # Stripe's: fraudulent, product_not_received, duplicate, general, …
    status: str  # warning_needs_response, warning_under_review, warning_closed,
    # needs_response, under_review, won, lost
    evidence_due_by: datetime | None


@dataclass(frozen=True)
class WebhookEvent:
    """A verified Stripe event. Its name and body are a hint to look again, never the state
    itself: read the intent with `retrieve()`, the dispute with `retrieve_dispute()`, before
    acting."""

    id: str
    type: str
    intent_id: str | None  # the PaymentIntent the event is about, if any (as the body says)
    dispute_id: str | None = None  # for charge.dispute.* events: the dispute to read again


class PaymentDeclined(Exception):
    """The card was declined (HTTP 402). `reason` is in words a driver can read."""

    def __init__(
        self, reason: str, *, code: str | None = None, intent_id: str | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code  # Stripe's decline code or error code, for operators
        self.intent_id = intent_id  # the intent Stripe created, when the error names it


class GatewayError(Exception):
    """Stripe could not do what we asked, and not because of the card.

    `transient` is true for rate limits, connection errors and Stripe's own 5xx: the same call
    (same idempotency key) may succeed later. Otherwise the request itself was wrong."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        http_status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.http_status = http_status
        self.code = code


class InvalidWebhook(Exception):
    """A webhook whose signature does not verify, or whose body is not a Stripe event."""


def publishable_key() -> str:
    """The key the driver's browser gives Stripe.js."""
    return str(settings.STRIPE_PUBLISHABLE_KEY)


def create_setup_intent(*, checkout_ref: str) -> tuple[str, str]:
    """A SetupIntent for one card entered on the page: (id, client secret).

    The browser confirms it with Stripe.js `confirmCardSetup` (the card Element; 3-D Secure if
    the card asks), which works with both real Stripe.js and localstripe's stand-in. The card
    never touches our server; we then read the payment method with `retrieve_setup()`."""
    params: SetupIntentCreateParams = {
        "usage": "on_session",
        "allowed_payment_method_types": ["card"],
        "metadata": {"checkout": checkout_ref},
    }
    with _stripe_errors():
        setup = _client().v1.setup_intents.create(params=params)
    return str(setup.id), str(setup.client_secret)


def retrieve_setup(setup_intent_id: str) -> Setup:
    """The SetupIntent as Stripe has it: which card the browser set up, for which checkout.

    The payment method to hold is taken from here, not from what the browser posts."""
    with _stripe_errors():
        setup = _client().v1.setup_intents.retrieve(setup_intent_id)
    data = setup.to_dict()
    return Setup(
        id=str(data["id"]),
        status=str(data["status"]),
        payment_method=_id_of(data.get("payment_method")),
        metadata=_metadata(data),
    )


def retrieve_dispute(dispute_id: str) -> Dispute | None:
    """The dispute as Stripe has it now, or None when Stripe knows no such dispute (404): a
    webhook naming one is forged or from another account, and books nothing. Any other
    refusal, or an answer without the figures we book, is a `GatewayError`."""
    try:
        with _stripe_errors():
            dispute = _client().v1.disputes.retrieve(dispute_id)
    except GatewayError as exc:
        if exc.http_status == 404:
            return None
        raise
    return _dispute_from(dispute.to_dict())


def place_hold(
    *,
    amount_minor: int,
    currency: str,
    checkout_ref: str,
    idempotency_key: str,
    payment_method: str | None = None,
    confirmation_token: str | None = None,
) -> Intent:
    """Creates and confirms a manual-capture PaymentIntent in one call: the pre-authorisation.

    The card is either a `payment_method` (the card Element's, read from its SetupIntent) or a
    `confirmation_token` (what the Payment Element and the Express Checkout Element collected:
    card, Apple Pay, Google Pay or Link), exactly one of them. Either way our server creates
    and confirms the one intent, so the card is asked for 3-D Secure once, at the hold.

    The result is `requires_capture` when the money is held, `requires_action` when the card
    wants 3-D Secure (the page then runs Stripe.js `handleNextAction`, or `confirmCardPayment`
    with the card Element, with the client secret, and we `retrieve()` again). A decline raises
    `PaymentDeclined`.

    Only parameters localstripe knows are sent: no description, return_url or
    automatic_payment_methods (it answers those with a 400); `allowed_payment_method_types`
    (Stripe's name since API 2026-09-30, which refuses `payment_method_types`) reaches it
    under the old name through `config.fakestripe`, which also knows confirmation tokens. The
    payment method goes with the create call because localstripe's `/confirm` fails on one
    (500)."""
    _require_positive(amount_minor)
    if (payment_method is None) == (confirmation_token is None):
        raise ValueError("place_hold takes a payment_method or a confirmation_token")
    card: dict[str, str] = (
        {"payment_method": payment_method}
        if payment_method is not None
        else {"confirmation_token": str(confirmation_token)}
    )
    with _stripe_errors():
        intent = _client().v1.payment_intents.create(
            params={
                "amount": amount_minor,
                "currency": _stripe_currency(currency),
                **card,  # type: ignore[typeddict-item]
                "allowed_payment_method_types": PAYMENT_METHOD_TYPES,
                "capture_method": "manual",
                "confirm": True,
                "metadata": {"checkout": checkout_ref},
                "expand": _EXPAND,
            },
            options={"idempotency_key": idempotency_key},
        )
    return intent_from(intent.to_dict())


def retrieve(intent_id: str) -> Intent:
    """The intent as Stripe has it now. State is always read here, never taken from the browser
    or from a webhook's name."""
    with _stripe_errors():
        intent = _client().v1.payment_intents.retrieve(intent_id, params={"expand": _EXPAND})
    return intent_from(intent.to_dict())


def cancel(intent_id: str, *, idempotency_key: str) -> Intent:
    """Releases a hold (or abandons an intent that never got one).

    Cancelling an intent that is already canceled is not an error: it is returned as it is,
    so a retried release is harmless. Any other refusal (e.g. already captured) is a
    `GatewayError`."""
    try:
        with _stripe_errors():
            intent = _client().v1.payment_intents.cancel(
                intent_id,
                params={"expand": _EXPAND},
                options={"idempotency_key": idempotency_key},
            )
    except GatewayError as exc:
        if exc.transient:
            raise
        current = retrieve(intent_id)
        if current.status == "canceled":
            return current
        raise
    return intent_from(intent.to_dict())


def capture(intent_id: str, *, amount_minor: int, idempotency_key: str) -> Intent:
    """Captures `amount_minor` of a hold; Stripe releases the rest (localstripe shows the rest
    as a refund on the charge).

    The intent is read first, and an amount above what it can capture raises `ValueError`
    before anything is asked of Stripe: the driver never pays more than was held. An intent
    that is already captured (`succeeded`) is returned as it is, so a retried capture is
    harmless; compare its amounts. A capture of nothing is a `ValueError` too: `cancel()`."""
    _require_positive(amount_minor)
    current = retrieve(intent_id)
    if current.status == "succeeded":
        return current
    if amount_minor > current.amount_capturable:
        raise ValueError(
            f"cannot capture {amount_minor} of {intent_id}: only {current.amount_capturable} "
            f"is capturable (status {current.status})"
        )
    try:
        with _stripe_errors():
            intent = _client().v1.payment_intents.capture(
                intent_id,
                params={"amount_to_capture": amount_minor, "expand": _EXPAND},
                options={"idempotency_key": idempotency_key},
            )
    except GatewayError as exc:
        # Two workers settling the same hold at once: the second is refused because the first
        # captured meanwhile. That is the capture we wanted, not a failure.
        if not exc.transient and (again := retrieve(intent_id)).status == "succeeded":
            return again
        raise
    return intent_from(intent.to_dict())


def refund(
    intent_id: str, *, amount_minor: int, idempotency_key: str, reason: str | None = None
) -> str:
    """Refunds part or all of a captured payment, once per `idempotency_key`; returns the
    refund's id.

    The key goes into the refund's metadata too, and a refund already made under it is
    returned instead of a new one: a worker that died after Stripe refunded and before we
    booked it refunds nothing twice, even after Stripe's idempotency keys have expired (a
    day) or against localstripe, which ignores them. `reason` is our words (e.g. the credit
    CDR's id), in the metadata as well: Stripe's own `reason` is a closed list with side
    effects (`fraudulent` blocks the card), and localstripe refuses the parameter. localstripe
    does not check the amount against what was captured, so the caller's ledger must."""
    _require_positive(amount_minor)
    made = _refund_made_under(intent_id, idempotency_key)
    if made is not None:
        return made
    metadata = {"refund_key": idempotency_key} | ({"reason": reason} if reason else {})
    params: RefundCreateParams = {
        "payment_intent": intent_id,
        "amount": amount_minor,
        "metadata": metadata,
    }
    with _stripe_errors():
        created = _client().v1.refunds.create(
            params=params,
            options={"idempotency_key": idempotency_key},
        )
    return str(created.id)


def _refund_made_under(intent_id: str, idempotency_key: str) -> str | None:
    with _stripe_errors():
        made = _client().v1.refunds.list(params={"payment_intent": intent_id, "limit": 100})
    for found in made.data:
        if (found.to_dict().get("metadata") or {}).get("refund_key") == idempotency_key:
            return str(found.id)
    return None


def parse_webhook(payload: bytes, signature_header: str) -> WebhookEvent:
    """Verifies a webhook with STRIPE_WEBHOOK_SECRET (Stripe's own signature check, with its
    replay tolerance) and says what it is about. Raises `InvalidWebhook` otherwise."""
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature_header, settings.STRIPE_WEBHOOK_SECRET, WEBHOOK_TOLERANCE
        )
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook("the signature does not verify") from exc
    except ValueError as exc:  # a body that is not UTF-8
        raise InvalidWebhook("the body is not text") from exc
    try:
        event = json.loads(payload)
        obj = event["data"]["object"]
        event_id, event_type = event["id"], event["type"]
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidWebhook("the body is not a Stripe event") from exc
    if not (isinstance(event_id, str) and isinstance(event_type, str) and isinstance(obj, dict)):
        raise InvalidWebhook("the body is not a Stripe event")
    if obj.get("object") == "payment_intent":
        intent_id = _id_of(obj.get("id"))
    else:  # charge.*, refund.*, charge.dispute.* name their intent (or their expanded charge)
        intent_id = _id_of(obj.get("payment_intent")) or _id_of(
            _dig(obj, "charge").get("payment_intent")
        )
    dispute_id = None
    if obj.get("object") == "dispute":  # only its id is taken: the rest is read from Stripe
        dispute_id = _id_of(obj.get("id"))
        if dispute_id is None:
            raise InvalidWebhook("the body names no dispute")
    return WebhookEvent(id=event_id, type=event_type, intent_id=intent_id, dispute_id=dispute_id)


def _dispute_from(obj: Mapping[str, Any]) -> Dispute:
    """A `Dispute` from Stripe's dispute object; `GatewayError` if it lacks what we book."""
    due_by = _dig(obj, "evidence_details").get("due_by")
    try:
        dispute_id, amount, currency = obj["id"], obj["amount"], obj["currency"]
        if not (isinstance(dispute_id, str) and isinstance(currency, str) and dispute_id):
            raise TypeError("id and currency are strings")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise TypeError("amount is an integer in minor units")
        return Dispute(
            id=dispute_id,
            intent_id=_id_of(obj.get("payment_intent"))
            or _id_of(_dig(obj, "charge").get("payment_intent")),
            charge_id=_id_of(obj.get("charge")),
            amount=amount,
            currency=currency.upper(),
            reason=str(obj.get("reason") or "general"),
            status=str(obj.get("status") or ""),
            evidence_due_by=datetime.fromtimestamp(int(due_by), tz=UTC) if due_by else None,
        )
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise GatewayError(
            "Stripe: the dispute lacks the figures we book", transient=False
        ) from exc


def intent_from(data: Mapping[str, Any]) -> Intent:
    """An `Intent` from a PaymentIntent as Stripe's JSON has it (with `latest_charge` and
    `payment_method` expanded or not). Optional fields fall back to what localstripe implies."""
    status = str(data["status"])
    amount = int(data["amount"])
    charge = data.get("latest_charge") if isinstance(data.get("latest_charge"), dict) else None
    card_details = _dig(charge, "payment_method_details", "card")
    method = data.get("payment_method")
    method_card = _dig(method, "card")
    capturable = data.get("amount_capturable")
    if capturable is None:  # localstripe: a held intent can capture all of it, others nothing
        capturable = amount if status == "requires_capture" else 0
    capture_before = card_details.get("capture_before")
    return Intent(
        id=str(data["id"]),
        status=status,
        amount=amount,
        amount_capturable=int(capturable),
        amount_received=int(data.get("amount_received") or 0),
        currency=str(data["currency"]).upper(),
        client_secret=str(data.get("client_secret") or ""),
        payment_method=_id_of(method),
        decline_reason=_readable(data.get("last_payment_error") or {}),
        decline_code=_code(data.get("last_payment_error") or {}),
        card_brand=card_details.get("brand") or method_card.get("brand"),
        card_last4=card_details.get("last4") or method_card.get("last4"),
        capture_before=(
            datetime.fromtimestamp(int(capture_before), tz=UTC) if capture_before else None
        ),
        metadata=_metadata(data),
    )


# Internals


def _client() -> stripe.StripeClient:
    return _client_for(str(settings.STRIPE_SECRET_KEY), str(settings.STRIPE_API_BASE))


@lru_cache(maxsize=4)
def _client_for(api_key: str, api_base: str) -> stripe.StripeClient:
    """One client per (key, base): settings changed by a test or the demo give a new one. The
    SDK's requests client keeps one session per thread, so sharing it is safe."""
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base.rstrip("/")},
        max_network_retries=NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)),
    )


@contextmanager
def _stripe_errors() -> Iterator[None]:
    """Translates the SDK's exceptions into ours, by name; the messages carry no secrets."""
    try:
        yield
    except stripe.CardError as exc:
        error = _error_body(exc)
        intent = error.get("payment_intent")
        raise PaymentDeclined(
            _readable(error) or "The card was declined.",
            code=_code(error),
            intent_id=_id_of(intent.get("id") if isinstance(intent, dict) else intent),
        ) from None
    except (stripe.RateLimitError, stripe.APIConnectionError) as exc:
        raise GatewayError(
            f"Stripe unavailable: {type(exc).__name__}",
            transient=True,
            http_status=exc.http_status,
            code=exc.code,
        ) from exc
    except stripe.StripeError as exc:
        status = exc.http_status
        transient = status is None or status >= 500
        message = _error_body(exc).get("message") or type(exc).__name__
        raise GatewayError(
            f"Stripe: {message}", transient=transient, http_status=status, code=exc.code
        ) from exc


def _readable(error: Mapping[str, Any]) -> str | None:
    """Stripe's message, with the decline code in words when it adds something
    ("Your card was declined. (insufficient funds)")."""
    message = str(error.get("message") or "").strip()
    code = str(error.get("decline_code") or "")
    if code and code != "generic_decline":
        words = code.replace("_", " ")
        if words.lower() not in message.lower():
            message = f"{message} ({words})" if message else words.capitalize()
    if not message and error.get("code"):
        message = str(error["code"]).replace("_", " ").capitalize()
    return message or None


def _code(error: Mapping[str, Any]) -> str | None:
    """The most precise code Stripe gives for a refusal: the decline code, else the error's."""
    code = error.get("decline_code") or error.get("code")
    return str(code) if code else None


def _error_body(exc: stripe.StripeError) -> dict[str, Any]:
    body = exc.json_body if isinstance(exc.json_body, dict) else {}
    error = body.get("error")
    return error if isinstance(error, dict) else {}


def _dig(value: Any, *keys: str) -> dict[str, Any]:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def _id_of(value: Any) -> str | None:
    """An expandable field: an id, an expanded object, or nothing."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _metadata(data: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (data.get("metadata") or {}).items()}


def _stripe_currency(currency: str) -> str:
    if len(currency) != 3 or not currency.isalpha():
        raise ValueError(f"not an ISO 4217 currency code: {currency!r}")
    return currency.lower()


def _require_positive(amount_minor: int) -> None:
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise TypeError(f"amounts are integers in minor units, not {type(amount_minor).__name__}")
    if amount_minor < 1:
        raise ValueError(f"amount must be at least 1 minor unit, not {amount_minor}")
