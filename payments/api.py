"""The driver API (`/api/v1/`): what the pages use, and what a kiosk or an app can use. Views
are thin: validate, call one service, describe the result. Errors are JSON with a code and a
sentence for the driver, never a 500 for bad input."""

from __future__ import annotations

import io
import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ocpi_peer import clients
from ocpi_peer.transport import too_deep
from payments import (
    charging,
    connector_prices,
    costs,
    gateway,
    invoice_details,
    nearby,
    offers,
    services,
    settlement,
    states,
)
from payments.models import Checkout
from stations import l10n, selectors, site, tariffs
from stations.l10n import Locale
from stations.models import Connector, Evse

logger = logging.getLogger(__name__)

MAX_BODY = 16 * 1024
MAX_DEPTH = 4  # our requests are flat objects

_HTTP_STATUS: dict[type[states.CheckoutError], int] = {
    services.UnknownEvse: 404,
    services.AmbiguousEvse: 409,
    services.UnknownConnector: 400,
    services.UnknownCheckout: 404,
    services.NotPayable: 409,
    services.EvseBusy: 409,
    services.RateLimited: 429,
    services.PaymentInProgress: 409,
    services.PaymentFailed: 402,
    services.CardNotSetUp: 409,
    services.CardTokenUnusable: 400,
    services.NotTheCardEntered: 400,
    states.TransitionRefused: 409,
}


class BodyTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "the request body is too large"
    default_code = "too_large"


def _too_large(request: Any) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY
    except ValueError:  # not a number: the server will not read it as a length either
        return False


class SmallJSONParser(JSONParser):
    """Driver requests are tiny: anything larger is refused before it is read into memory, and
    JSON nested deeper than any request of ours (`[[[[…`) before the parser recurses into it."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        request = (parser_context or {}).get("request")
        if request is not None and _too_large(request):
            raise BodyTooLarge()
        raw = stream.read(MAX_BODY + 1) if stream is not None else b""
        if len(raw) > MAX_BODY:
            raise BodyTooLarge()
        if too_deep(raw, MAX_DEPTH):
            raise exceptions.ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels")
        return super().parse(io.BytesIO(raw), media_type, parser_context)


def driver_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, RequestDataTooBig):  # Django's own cap, met before our parser's
        exc = BodyTooLarge()
    if isinstance(exc, states.CheckoutError):
        code = _HTTP_STATUS.get(type(exc), 400)
        return Response({"error": exc.code, "detail": str(exc)}, status=code)
    if isinstance(exc, gateway.GatewayError):
        logger.warning("payment service error: %s", exc)
        return Response(
            {
                "error": "payment_service",
                "detail": _("The payment service is not answering. Please try again."),
            },
            status=503,
        )
    if isinstance(exc, exceptions.ValidationError):
        return Response(
            {"error": "invalid", "detail": _("Please check your input."), "fields": exc.detail},
            status=400,
        )
    if isinstance(exc, exceptions.APIException):
        return Response(
            {"error": exc.default_code, "detail": str(exc.detail)}, status=exc.status_code
        )
    logger.error("unhandled error in %s", type(context["view"]).__name__, exc_info=exc)
    return Response(
        {"error": "internal", "detail": _("Something went wrong on our side. Please try again.")},
        status=500,
    )


class DriverView(APIView):
    parser_classes = [SmallJSONParser]
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get_exception_handler(self) -> Any:
        return driver_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Refuse a body too large before anything reads it (DRF reads it whole to parse it),
        and a checkout id that cannot be one before it reaches a query."""
        super().initial(request, *args, **kwargs)
        if _too_large(request):
            raise BodyTooLarge()
        if "public_id" in kwargs and not services.well_formed_public_id(kwargs["public_id"]):
            raise services.UnknownCheckout(_("no such checkout"))


class UnknownPath(DriverView):
    """Anything under /api/v1/ that is no endpoint, an EVSE id with characters no EVSE id has
    among them: a 404 in the API's JSON, not Django's HTML page."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound("no such endpoint or charger")


# --- the OpenAPI description (/api/schema/) ---------------------------------------------------

_ERROR = inline_serializer(
    "DriverError",
    {
        "error": serializers.CharField(),
        "detail": serializers.CharField(),
        "fields": serializers.DictField(required=False),
    },
)
_ERRORS = {
    400: "invalid input: `fields` names each field and what is wrong with it",
    402: "the card was declined: the checkout, with the reason in `detail`",
    404: "no such charger or checkout",
    409: "not possible now (not payable, busy, already paid, or a step out of order)",
    413: "the request body is too large",
    415: "the body is not JSON",
    429: "too many checkouts from this address: try again later",
}
_NULLABLE = {"required": True, "allow_null": True}
_CHECKOUT = inline_serializer(
    "Checkout",
    {
        "id": serializers.CharField(),
        "status": serializers.CharField(),
        "payment_status": serializers.CharField(),
        "currency": serializers.CharField(),
        "amount_held": serializers.DecimalField(max_digits=12, decimal_places=4),
        "amount_captured": serializers.CharField(**_NULLABLE),
        "evse_id": serializers.CharField(),
        "connector_id": serializers.CharField(),
        "connector": serializers.CharField(),
        "location": serializers.CharField(),
        "price": serializers.ListField(child=serializers.CharField()),
        "failure_reason": serializers.CharField(**_NULLABLE),
        "session": serializers.DictField(**_NULLABLE),
        "start_unconfirmed": serializers.BooleanField(),
        "amount_released": serializers.CharField(**_NULLABLE),
        "amount_refunded": serializers.CharField(**_NULLABLE),
        "amounts_text": serializers.DictField(child=serializers.CharField(allow_blank=True)),
        "receipt_url": serializers.CharField(**_NULLABLE),
        "receipt_path": serializers.CharField(**_NULLABLE),
        "status_url": serializers.CharField(),
        "status_path": serializers.CharField(),
    },
)
_EVSE = inline_serializer(
    "Charger",
    {
        "evse_id": serializers.CharField(),
        "status": serializers.CharField(),
        "location": serializers.DictField(),
        "connectors": serializers.ListField(child=serializers.DictField()),
        "payable": serializers.BooleanField(),
        "reason": serializers.CharField(**_NULLABLE),
    },
)
_PUBLIC_ID = OpenApiParameter(
    "public_id",
    {"type": "string", "minLength": 1, "maxLength": 64},
    OpenApiParameter.PATH,
    description="the checkout's id, as the checkout's answer gave it",
)


def _described(
    summary: str, success: tuple[int, Any], *errors: int, request: Any = None, **more: Any
) -> Any:
    """`extend_schema` for a driver API method: its success status and body, and each error it
    can answer with, all in the one error shape."""
    responses = {success[0]: success[1]}
    responses |= {code: OpenApiResponse(_ERROR, description=_ERRORS[code]) for code in errors}
    return extend_schema(summary=summary, request=request, responses=responses, **more)


# --- representations --------------------------------------------------------------------------


STANDARD_NAMES = {
    "IEC_62196_T2": "Type 2",
    "IEC_62196_T2_COMBO": "CCS (Combo 2)",
    "IEC_62196_T1": "Type 1",
    "IEC_62196_T1_COMBO": "CCS (Combo 1)",
    "CHADEMO": "CHAdeMO",
    "DOMESTIC_F": "Schuko",
    "TESLA_S": "Tesla",
    "GBT_DC": "GB/T DC",
    "GBT_AC": "GB/T AC",
}


def describe_evse(
    evse: Evse, *, locale: Locale, estimate_kwh: tuple[Decimal, ...] = tariffs.ESTIMATE_KWH
) -> dict[str, Any]:
    """The charger as the driver's page shows it, prices, power and hold in `locale`, with the
    cost of charging each of `estimate_kwh` (the page shows one; the API gives all)."""
    with translation.override(locale):
        return _describe_evse(evse, locale, estimate_kwh)


def _describe_evse(evse: Evse, locale: Locale, estimate_kwh: tuple[Decimal, ...]) -> dict[str, Any]:
    now = timezone.now()
    read = selectors.connectors_of(evse)  # once, for the offer and below
    (_access, prices), offer = offers.for_charger_at(evse, read)
    reason = services.why_not_payable(evse, offer=offer)
    connectors = []
    price_reasons = []
    for connector in sorted(read, key=lambda c: c.connector_id):
        described = _connector(connector, now, locale, offer, prices, estimate_kwh)
        payable = reason is None and described.priced
        if described.not_payable_reason:
            price_reasons.append(described.not_payable_reason)
        connectors.append(
            {**described.fields, "payable": payable, **(described.hold if payable else _NO_HOLD)}
        )
    if reason is None and not any(c["payable"] for c in connectors):
        reason = (
            price_reasons[0]
            if price_reasons
            else _("its operator has sent us no price we can show for it")
        )
    location = evse.location
    return {
        "evse_id": evse.evse_id,
        "status": evse.status,
        "location": {
            "name": location.name,
            "address": location.address,
            "postal_code": location.postal_code,
            "city": location.city,
            "country": location.country,
            "operator": offer.operator_name,
            "energy_mix": site.energy_mix(location.energy_mix or _tariff_energy_mix(connectors)),
        },
        "parking_restrictions": site.parking_restrictions(evse.parking_restrictions),
        "connectors": connectors,
        "payable": reason is None,
        "reason": reason,
    }


_NO_HOLD: dict[str, Any] = {"hold": None, "hold_minor": None, "hold_text": ""}


def _connector(
    connector: Connector,
    now: datetime,
    locale: Locale,
    offer: offers.PartyOffer,
    prices: int | None,
    estimate_kwh: tuple[Decimal, ...],
) -> connector_prices.Described:
    """The connector and its price as the page shows them, from this process's cache while
    what they are read from stands (`payments.connector_prices`; `prices`: the `PRICES`
    generation `offer` stands at, None to keep nothing)."""
    location = connector.evse.location
    key = (
        prices,
        locale,
        estimate_kwh,
        location.partner_id,
        location.country_code.upper(),
        location.party_id.upper(),
        location.time_zone,
        location.country,
        connector.connector_id,
        connector.standard,
        connector.format,
        connector.power_type,
        connector.max_voltage,
        connector.max_amperage,
        connector.max_electric_power,
        tuple(tid for tid in connector.tariff_ids if isinstance(tid, str) and tid),
    )
    if prices is not None:
        kept = connector_prices.get(key, at=now)
        if kept is not None:
            return kept
    shown = services.price_shown(
        connector, at=now, locale=locale, offer=offer, estimate_kwh=estimate_kwh
    )
    power = tariffs.connector_power_kw(connector)
    priced = shown is not None and not shown.not_payable_reason
    hold = services.hold_for(shown, offer=offer) if priced and shown is not None else None
    described = connector_prices.Described(
        fields_kept={
            "id": connector.connector_id,
            "standard": connector.standard,
            "standard_name": STANDARD_NAMES.get(connector.standard, connector.standard),
            "format": connector.format,
            "power_type": connector.power_type,
            "power_kw": str(power.normalize()) if power is not None else None,
            "power_text": _power_text(power),
            "tariff": _price(shown),
        },
        not_payable_reason=shown.not_payable_reason if shown is not None else None,
        priced=priced,
        hold_kept={
            "hold": str(hold.amount),
            "hold_minor": hold.to_minor(),
            "hold_text": _("Up to %(amount)s is reserved.")
            % {"amount": l10n.amount(hold.amount, hold.currency)},
        }
        if hold
        else _NO_HOLD,
    )
    if prices is not None:
        until = tariffs.shown_price_steady_until(
            connector, at=now, held=offer.tariffs, estimate_kwh=estimate_kwh
        )
        connector_prices.put(key, described, at=now, until=until)
    return described


def _tariff_energy_mix(connectors: list[dict[str, Any]]) -> Any:
    """OCPI 2.1.1 and 2.2.1 tariffs may carry the energy mix too: the first one that does."""
    return next(
        (
            c["tariff"]["energy_mix"]
            for c in connectors
            if c["tariff"] and c["tariff"]["energy_mix"]
        ),
        None,
    )


def _power_text(power: Decimal | None) -> str:
    """Power as drivers know it: "22 kW", "3,7 kW"."""
    if power is None:
        return ""
    try:
        rounded = power.quantize(Decimal(1) if power >= 10 else Decimal("0.1")).normalize()
    except ArithmeticError:  # a power stored before numbers were bounded (10**30 V)
        return ""
    return f"{l10n.number(rounded)} kW"


def _price(shown: tariffs.PriceShown | None) -> dict[str, Any] | None:
    if shown is None:
        return None
    return {
        "currency": shown.currency,
        "text": list(shown.lines),
        "estimates": [
            {
                "energy_kwh": str(e.energy_kwh),
                "amount": str(e.amount),
                "incl_vat": e.incl_vat,
                "text": e.text,
            }
            for e in shown.estimates
        ],
        "alt_text": shown.alt_text,
        "alt_url": shown.alt_url,
        "unpriceable_reason": shown.unpriceable_reason,
        "vat_note": shown.vat_note,
        "gross_unknown": shown.gross_unknown,
        "energy_mix": shown.tariff.energy_mix,
        "elements": shown.tariff.elements,
    }


def describe_checkout(checkout: Checkout) -> dict[str, Any]:
    moved: dict[str, int] = {}
    for entry in checkout.ledger.all():
        moved[entry.kind] = moved.get(entry.kind, 0) + entry.amount_minor
    captured = moved.get("capture", 0)
    currency = checkout.currency
    settled = checkout.status == Checkout.Status.SETTLED
    held = checkout.hold_amount.quantize(_cents(currency))
    receipt_path = reverse("receipt-page", args=[checkout.public_id]) if settled else None
    return {
        "id": checkout.public_id,
        "status": checkout.status,
        "payment_status": checkout.payment_status,
        "currency": checkout.currency,
        "amount_held": str(held),
        "amount_captured": str(services.Money.from_minor(captured, checkout.currency).amount)
        if captured
        else None,
        "evse_id": checkout.evse.evse_id,
        "connector_id": checkout.connector.connector_id,
        "connector": connector_name(checkout.connector),
        "location": checkout.evse.location.name or checkout.evse.location.address,
        "price": checkout.tariff_snapshot.get("lines", []),
        "failure_reason": checkout.failure_reason or None,
        "session": _session(checkout, paid_minor=captured - moved.get("refund", 0)),
        "start_unconfirmed": checkout.start_unconfirmed,
        # After settlement: what was taken and what was freed on the card, and the receipt.
        "amount_released": _amount(moved, "release", checkout.currency),
        "amount_refunded": _amount(moved, "refund", checkout.currency),
        # The amounts as the page shows them, in the active language: the same on the first
        # paint (the template) as after each poll (the script), so nothing changes its format.
        "amounts_text": {
            "held": l10n.amount(held, currency),
            "captured": _amount_text(moved, "capture", currency)
            or l10n.amount(Decimal(0), currency),
            "released": _amount_text(moved, "release", currency),
            "refunded": _amount_text(moved, "refund", currency),
        },
        "receipt_url": settings.PUBLIC_BASE_URL + receipt_path if receipt_path else None,
        "receipt_path": receipt_path,
        "status_url": settings.PUBLIC_BASE_URL
        + reverse("checkout-page", args=[checkout.public_id]),
        "status_path": reverse("checkout-page", args=[checkout.public_id]),
    }


def _amount_text(moved: dict[str, int], kind: str, currency: str) -> str:
    if kind not in moved:
        return ""
    return l10n.amount(services.Money.from_minor(moved[kind], currency).amount, currency)


def connector_name(connector: Connector) -> str:
    """A connector as drivers know it: "Type 2 · 22 kW"."""
    power = _power_text(tariffs.connector_power_kw(connector))
    name = STANDARD_NAMES.get(connector.standard, connector.standard)
    return f"{name} · {power}" if power else name


def _amount(moved: dict[str, int], kind: str, currency: str) -> str | None:
    return str(services.Money.from_minor(moved[kind], currency).amount) if kind in moved else None


def _session(checkout: Checkout, *, paid_minor: int) -> dict[str, Any] | None:
    """The session as the page shows it. `cost` is what the driver pays on the current figures
    (the min rule settlement applies: the CPO's figure, the price shown on the same quantities,
    the hold), after settlement what was taken; `operator_cost` is the CPO's own figure, and
    `cost_note` says in words why the driver pays less than it, when that is so."""
    session = checkout.sessions.order_by("-last_updated").first()
    if session is None:
        return None
    settled = checkout.status == Checkout.Status.SETTLED
    if settled:
        cost = settlement.settled_cost(checkout, session, paid_minor=paid_minor)
    else:
        cost = costs.running_cost(checkout, session)
    currency = checkout.currency
    return {
        "status": session.status,
        "start": session.start.isoformat(),
        "end": session.end.isoformat() if session.end else None,
        "energy_kwh": str(session.kwh),
        "cost": str(cost.amount) if cost.amount is not None else None,
        "cost_text": l10n.amount(cost.amount, currency) if cost.amount is not None else "",
        "cost_incl_vat": cost.amount is not None,
        "operator_cost": str(cost.operator) if cost.operator is not None else None,
        "cost_note": _cost_note(cost, currency, settled=settled),
        "currency": currency,
    }


def _cost_note(cost: costs.DriverCost, currency: str, *, settled: bool) -> str:
    """Where the CPO's figure is not what the driver pays, why, in the driver's language."""
    if cost.amount is None or cost.operator is None or cost.operator == cost.amount:
        return ""
    if cost.basis not in ("shown", "hold"):
        return ""
    figures = {
        "operator": l10n.amount(cost.operator, currency),
        "amount": l10n.amount(cost.amount, currency),
    }
    if cost.basis == "hold":
        if settled:
            text = _(
                "The operator billed %(operator)s; you pay no more than was reserved on your "
                "card, %(amount)s."
            )
        else:
            text = _(
                "The operator's figure is %(operator)s; you pay no more than was reserved on "
                "your card, %(amount)s."
            )
    elif settled:
        text = _("The operator billed %(operator)s; you pay the price you were shown, %(amount)s.")
    else:
        text = _(
            "The operator's figure is %(operator)s; you pay the price you were shown, %(amount)s."
        )
    return text % figures


def _cents(currency: str) -> Any:
    return services.Money.from_minor(1, currency).amount


# --- views ------------------------------------------------------------------------------------


class EvseView(DriverView):
    @_described(
        "A charger as a driver sees it: place, status, connectors and prices",
        (200, _EVSE),
        404,
        409,
        parameters=[
            OpenApiParameter(
                "evse_id",
                {"type": "string", "pattern": r"^[A-Za-z0-9*\-_ .%]{1,64}$"},
                OpenApiParameter.PATH,
                description="as printed on the charger (eMI3, with or without `*`)",
            )
        ],
    )
    def get(self, request: Request, evse_id: str) -> Response:
        evse = services.find_evse(evse_id)
        return Response(describe_evse(evse, locale=l10n.active_locale()))


class InvoiceDetailsSerializer(serializers.Serializer):
    """Who the receipt is made out to (`payments.invoice_details`): all optional; a receipt over
    €250 is a full invoice only with a name and an address."""

    name = serializers.CharField(
        max_length=invoice_details.MAX_LENGTHS["name"],
        required=False,
        allow_blank=True,
        validators=[invoice_details.validate_printable],
        help_text="the person's or company's name",
    )
    street = serializers.CharField(
        max_length=invoice_details.MAX_LENGTHS["street"],
        required=False,
        allow_blank=True,
        validators=[invoice_details.validate_printable],
        help_text="street and number",
    )
    postal_code = serializers.CharField(
        max_length=invoice_details.MAX_LENGTHS["postal_code"],
        required=False,
        allow_blank=True,
        validators=[invoice_details.validate_postal_code],
    )
    city = serializers.CharField(
        max_length=invoice_details.MAX_LENGTHS["city"],
        required=False,
        allow_blank=True,
        validators=[invoice_details.validate_printable],
    )
    country = serializers.CharField(
        max_length=invoice_details.MAX_LENGTHS["country"],
        required=False,
        allow_blank=True,
        validators=[invoice_details.validate_printable],
    )
    vat_id = serializers.CharField(
        max_length=24,
        required=False,
        allow_blank=True,
        validators=[invoice_details.validate_vat_id],
        help_text="with its country prefix, e.g. DE123456789; checked for its country's shape",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        problems = invoice_details.cross_check(invoice_details.cleaned(attrs))
        if problems:
            raise serializers.ValidationError({k: [v] for k, v in problems.items()})
        return attrs


class NewCheckoutSerializer(serializers.Serializer):
    evse_id = serializers.CharField(max_length=64)
    connector_id = serializers.CharField(max_length=36)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    locale = serializers.ChoiceField(choices=["de", "en"], required=False)
    replaces = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="the id of the unpaid checkout this client started at this EVSE before (e.g. "
        "before the page was reloaded): it is taken over at once instead of waiting for it to "
        "lapse; without it, an unpaid claim by anyone else answers 409 evse_busy",
    )
    invoice = InvoiceDetailsSerializer(
        required=False,
        help_text="who the receipt is made out to (optional; can also be entered on the "
        "receipt page afterwards)",
    )


class CheckoutsView(DriverView):
    @_described(
        "Start paying for a connector: claims the EVSE and opens a card collection",
        (201, _CHECKOUT),
        400,
        409,
        413,
        415,
        429,
        request=NewCheckoutSerializer,
    )
    def post(self, request: Request) -> Response:
        data = NewCheckoutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            started = services.start_checkout(
                evse_id=data.validated_data["evse_id"],
                connector_id=data.validated_data["connector_id"],
                email=data.validated_data.get("email", ""),
                locale=data.validated_data.get("locale") or l10n.active_locale(),
                client_ip=clients.client_address(request.META),
                replaces=data.validated_data.get("replaces", ""),
            )
        except services.UnknownEvse as exc:
            raise exceptions.ValidationError({"evse_id": [str(exc)]}) from exc
        except services.UnknownConnector as exc:
            raise exceptions.ValidationError({"connector_id": [str(exc)]}) from exc
        details = invoice_details.cleaned(data.validated_data.get("invoice") or {})
        if details.entered:
            invoice_details.store(started.checkout, details)
        body = describe_checkout(started.checkout)
        body |= {
            "publishable_key": gateway.publishable_key(),
            "setup_client_secret": started.setup_secret,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class CheckoutView(DriverView):
    @_described("Where a checkout stands", (200, _CHECKOUT), 404, parameters=[_PUBLIC_ID])
    def get(self, request: Request, public_id: str) -> Response:
        return Response(describe_checkout(services.checkout_by_public_id(public_id)))


class PaySerializer(serializers.Serializer):
    confirmation_token = serializers.RegexField(
        r"^ctoken_[A-Za-z0-9_]{1,250}$",
        required=False,
        help_text="what Stripe.js `createConfirmationToken` made from the Payment Element or "
        "the Express Checkout Element (card, Apple Pay, Google Pay, Link)",
    )
    # Without a token: the card held is the one the checkout's SetupIntent collected; one sent
    # here must be that one.
    payment_method = serializers.RegexField(r"^[A-Za-z0-9_]{3,255}$", required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "confirmation_token" in attrs and "payment_method" in attrs:
            raise serializers.ValidationError(
                _("Send a confirmation token or a payment method, not both.")
            )
        return attrs


class PayView(DriverView):
    @_described(
        "Place the hold, one PaymentIntent created and confirmed by us, with the card of a "
        "`confirmation_token` (Payment Element) or else the card the checkout's SetupIntent "
        "collected (a payment_method sent must be that card); with `client_secret` when the "
        "card asks for 3-D Secure",
        (200, _CHECKOUT),
        400,
        402,
        404,
        409,
        413,
        415,
        request=PaySerializer,
        parameters=[_PUBLIC_ID],
    )
    def post(self, request: Request, public_id: str) -> Response:
        data = PaySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = data.validated_data.get("confirmation_token")
        try:
            outcome = services.pay_checkout(
                public_id=public_id,
                payment_method=data.validated_data.get("payment_method"),
                confirmation_token=token,
            )
        except services.PaymentFailed as exc:
            return _failed_payment(public_id, str(exc), card_setup=token is None)
        body = describe_checkout(outcome.checkout)
        if outcome.action_secret:
            body |= {"status": "requires_action", "client_secret": outcome.action_secret}
        return Response(body)


class ConfirmView(DriverView):
    @_described(
        "After 3-D Secure: read the payment from Stripe and move the checkout",
        (200, _CHECKOUT),
        402,
        404,
        409,
        parameters=[_PUBLIC_ID],
    )
    def post(self, request: Request, public_id: str) -> Response:
        checkout = services.confirm_checkout(public_id=public_id)
        if checkout.status == Checkout.Status.FAILED or (
            checkout.status == Checkout.Status.CREATED and checkout.failure_reason
        ):
            return _failed_payment(public_id, checkout.failure_reason)
        return Response(describe_checkout(checkout))


def _failed_payment(public_id: str, reason: str, *, card_setup: bool = True) -> Response:
    """402 with the reason in words; while the driver may still try another card with the card
    Element, a fresh SetupIntent to collect it (the Payment Element needs none)."""
    checkout = services.checkout_by_public_id(public_id)
    body = describe_checkout(checkout) | {"error": "payment_failed", "detail": reason}
    if card_setup and checkout.status == Checkout.Status.CREATED:
        body["setup_client_secret"] = services.new_card_setup(checkout)
    return Response(body, status=402)


class StopView(DriverView):
    @_described(
        "Stop: before the start this cancels and releases the hold; afterwards it stops the "
        "session (sent as soon as the operator has told us its id)",
        (202, _CHECKOUT),
        404,
        409,
        parameters=[_PUBLIC_ID],
    )
    def post(self, request: Request, public_id: str) -> Response:
        checkout = services.checkout_by_public_id(public_id)
        if checkout.status in (Checkout.Status.CREATED, Checkout.Status.AUTHORIZED):
            checkout = services.cancel_checkout(public_id=public_id)
        else:
            checkout = charging.request_stop(public_id=public_id)
        return Response(describe_checkout(checkout), status=status.HTTP_202_ACCEPTED)


_NEARBY = inline_serializer(
    "ChargersNear",
    {
        "near": serializers.DictField(),
        "radius_km": serializers.IntegerField(),
        "locations": serializers.ListField(child=serializers.DictField()),
    },
)


class LocationsView(DriverView):
    @_described(
        "The published chargers near a position, nearest first, with their status and price "
        "per kWh incl. VAT",
        (200, _NEARBY),
        400,
        parameters=[
            OpenApiParameter(
                "near",
                {"type": "string", "pattern": r"^-?\d{1,3}(\.\d{1,10})?,-?\d{1,3}(\.\d{1,10})?$"},
                OpenApiParameter.QUERY,
                required=True,
                description="latitude,longitude in decimal degrees, e.g. 52.37,4.89",
            ),
            OpenApiParameter(
                "radius_km",
                {"type": "integer", "minimum": 1, "maximum": nearby.MAX_RADIUS_KM},
                OpenApiParameter.QUERY,
                description=f"default {nearby.DEFAULT_RADIUS_KM}",
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": nearby.MAX_COUNT},
                OpenApiParameter.QUERY,
                description=f"the most locations answered, default {nearby.DEFAULT_COUNT}",
            ),
        ],
    )
    def get(self, request: Request) -> Response:
        try:
            point, radius, count = chargers_query(request.query_params)
        except nearby.BadQuery as bad:
            return Response({"error": "invalid", "detail": str(bad)}, status=400)
        found = nearby.chargers_near(point, radius_km=radius, count=count)
        near = {"latitude": point.lat, "longitude": point.lon}
        return Response({"near": near, "radius_km": radius, "locations": found})


def chargers_query(params: Any) -> tuple[nearby.Point, int, int]:
    """`near`, `radius_km` and `limit` read and bounded; BadQuery says what is wrong."""
    point = nearby.parse_near(params.get("near", ""))
    radius = nearby.bounded(
        params.get("radius_km"),
        default=nearby.DEFAULT_RADIUS_KM,
        most=nearby.MAX_RADIUS_KM,
        name="radius_km",
    )
    count = nearby.bounded(
        params.get("limit"), default=nearby.DEFAULT_COUNT, most=nearby.MAX_COUNT, name="limit"
    )
    return point, radius, count
