"""The driver's pages: what a QR code on a charger opens, and the status page of a checkout.
Both read through the same functions as the driver API; the payment itself runs in the page's
script against that API (Stripe.js collects the card, our server places the hold)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.http import require_GET, require_POST

from ocpi_peer import clients
from payments import api, declines, invoice_details, legal, nearby, receipts, returning, services
from payments.models import Checkout, CreditNote, LegalPage
from payments.receipt_pdf import credit_note_pdf, receipt_pdf
from stations import l10n
from stations.models import Evse, evse_lookup_key

# What an EVSE ID may be in our URLs: `*` from eMI3, and the separators stickers print.
EVSE_IN_URL = re.compile(r"[A-Za-z0-9*\-_ .%]{1,64}")

STATUS_TEXT = {
    "created": gettext_lazy("Waiting for your payment"),
    "authorized": gettext_lazy("Payment reserved — your charger is being started"),
    "starting": gettext_lazy("Starting the charger…"),
    "charging": gettext_lazy("Charging"),
    "stopping": gettext_lazy("Stopping…"),
    "finished": gettext_lazy("Finished"),
    "settled": gettext_lazy("Paid"),
    "failed": gettext_lazy("Not possible"),
    "expired": gettext_lazy("Expired"),
}


# The browser's own checkouts (their secret ids, newest first): sent only to /charge/, where a
# driver scanning the charger again is led back to their session.
OWN_COOKIE = "own_checkouts"
OWN_COOKIE_PATH = "/charge/"
OWN_COOKIE_KEEP = 3
OWN_COOKIE_AGE = 7 * 24 * 3600  # a hold's lifetime: no session of ours outlives it


def _own_checkouts(request: HttpRequest) -> list[str]:
    raw = request.COOKIES.get(OWN_COOKIE, "")[:400]
    return [pid for pid in raw.split(".") if services.well_formed_public_id(pid)][:OWN_COOKIE_KEEP]


def remember_checkout(request: HttpRequest, response: HttpResponse, public_id: str) -> None:
    """Keep the checkout's secret id in this browser, so that scanning the charger again
    (`charge_page`) comes back to it. HttpOnly (no script reads it), Secure unless DEBUG,
    SameSite=Lax (a QR scan opens the page as a top-level navigation, which sends it), and
    only sent to /charge/."""
    kept = [public_id, *(pid for pid in _own_checkouts(request) if pid != public_id)]
    response.set_cookie(
        OWN_COOKIE,
        ".".join(kept[:OWN_COOKIE_KEEP]),
        max_age=OWN_COOKIE_AGE,
        path=OWN_COOKIE_PATH,
        secure=not settings.DEBUG or request.is_secure(),
        httponly=True,
        samesite="Lax",
    )


def _back_to_session(request: HttpRequest, evse_pk: int | None = None) -> HttpResponse | None:
    """The live page of this browser's own session (at this EVSE, when one is named), if one
    is still running."""
    for checkout in returning.live_checkouts(_own_checkouts(request)):
        if evse_pk is None or checkout.evse_id == evse_pk:
            return HttpResponseRedirect(reverse("checkout-page", args=[checkout.public_id]))
    return None


# The one estimate the page shows ("20 kWh ≈ …"); each costs a pricing of the session.
PAGE_ESTIMATE = (Decimal(20),)


@require_GET
def charge_page(request: HttpRequest, evse_id: str) -> HttpResponse:
    response = _charge_page(request, evse_id)
    patch_vary_headers(response, ["Cookie"])
    return response


def _charge_page(request: HttpRequest, evse_id: str) -> HttpResponse:
    try:
        evse = services.find_evse(evse_id)
    except services.UnknownEvse:
        return render(request, "payments/unknown_evse.html", {"evse_id": evse_id[:64]}, status=404)
    except services.AmbiguousEvse:
        context = {"evse_id": evse_id[:64]}
        return render(request, "payments/ambiguous_evse.html", context, status=409)
    back = _back_to_session(request, evse.pk)
    if back is not None:
        return back
    info = api.describe_evse(evse, locale=l10n.active_locale(), estimate_kwh=PAGE_ESTIMATE)
    return render(request, "payments/charge.html", charge_page_context(evse, info))


def charge_page_context(evse: Evse, info: dict[str, Any]) -> dict[str, Any]:
    """What the charger page's template reads, from `api.describe_evse`'s answer (the bare
    yardstick of `bench landing` renders the same page from the same data through it)."""
    payable = [c for c in info["connectors"] if c["payable"]]
    chosen = payable[0] if info["payable"] and payable else None
    return {
        "demo": settings.DEMO,
        "info": info,
        "evse": evse,
        "stripe_js_url": settings.STRIPE_JS_URL,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "locale": l10n.active_locale(),
        # The first screen shows the connector picked (the first payable one until the driver
        # picks another) with its price; the rest is under "Price details".
        "chosen": chosen["id"] if chosen else None,
        "chosen_hold_text": chosen["hold_text"] if chosen else "",
        "details_connectors": [
            c
            for c in info["connectors"]
            if chosen is None
            or not c["payable"]
            or (c["tariff"] and (c["tariff"]["gross_unknown"] or c["tariff"]["alt_text"]))
            or (c["tariff"] and c["tariff"]["unpriceable_reason"])
        ],
        "reason_sentence": _("This charger cannot be paid for now: %(why)s.")
        % {"why": info["reason"]}
        if info["reason"]
        else "",
        "pay_words": declines.words(),
    }


@require_GET
def charge_lookup(request: HttpRequest) -> HttpResponse:
    """The box on the "unknown charger" page: the ID as printed on the charger. Typed with
    other separators than a URL of ours takes (`DE/ABC/E1`), it is looked up by its letters
    and digits, as every EVSE ID is; with none, it is no charger of ours."""
    evse_id = request.GET.get("evse_id", "").strip()
    if not evse_id:
        back = None if request.GET else _back_to_session(request)
        response = back or _find_charger(request)
        patch_vary_headers(response, ["Cookie"])
        return response
    if len(evse_id) <= 64 and EVSE_IN_URL.fullmatch(evse_id):
        return HttpResponseRedirect(reverse("charge-page", args=[evse_id]))
    key = evse_lookup_key(evse_id)
    if 0 < len(key) <= 64 and EVSE_IN_URL.fullmatch(key):
        return HttpResponseRedirect(reverse("charge-page", args=[key]))
    shown = "".join(c for c in evse_id[:64] if c.isprintable())
    return render(request, "payments/unknown_evse.html", {"evse_id": shown}, status=404)


def _find_charger(request: HttpRequest) -> HttpResponse:
    """`/charge/` without an ID: a box to type it, and the chargers near the driver (their
    position from the browser, or a postal code or city they typed)."""
    context: dict[str, object] = {"evse_id": "", "place": request.GET.get("place", "")[:45]}
    status = 200
    try:
        if "near" in request.GET:
            point, radius, count = api.chargers_query(request.GET)
        elif context["place"]:
            found = nearby.place_point(str(context["place"]))
            if found is None:
                raise nearby.BadQuery(
                    _("we know no charger at “%(place)s”: try another postal code or city")
                    % {"place": context["place"]}
                )
            point, radius, count = found, nearby.DEFAULT_RADIUS_KM, nearby.DEFAULT_COUNT
        else:
            return render(request, "payments/unknown_evse.html", context)
    except nearby.BadQuery as bad:
        context["nearby_error"] = str(bad)
        status = 400 if "near" in request.GET else 404
    else:
        context["nearby"] = nearby.chargers_near(point, radius_km=radius, count=count)
        context["searched"] = True
    return render(request, "payments/unknown_evse.html", context, status=status)


class LinkMailForm(forms.Form):
    email = forms.EmailField(max_length=254)


@require_GET
def checkout_page(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        checkout = services.checkout_by_public_id(public_id)
    except services.UnknownCheckout:
        return render(request, "payments/unknown_checkout.html", status=404)
    return _checkout_page(request, checkout, LinkMailForm(), status=200)


def _checkout_page(
    request: HttpRequest, checkout: Checkout, form: LinkMailForm, *, status: int
) -> HttpResponse:
    context = {
        "checkout": checkout,
        "data": api.describe_checkout(checkout),
        "status_text": STATUS_TEXT.get(checkout.status, checkout.status),
        "link_form": form,
        "link_sent": request.GET.get("link") == "sent",
    }
    response = _private(render(request, "payments/checkout.html", context, status=status))
    if checkout.status in returning.LIVE:
        remember_checkout(request, response, checkout.public_id)
    return response


@require_POST
def checkout_link_mail(request: HttpRequest, public_id: str) -> HttpResponse:
    """The form on the live page: the checkout's link by e-mail (`returning.request_link_mail`),
    then the page again saying so (303); a bad address or too many asks show the form's
    message (400, 429)."""
    try:
        checkout = services.checkout_by_public_id(public_id)
    except services.UnknownCheckout:
        return render(request, "payments/unknown_checkout.html", status=404)
    form = LinkMailForm(request.POST)
    if not form.is_valid():
        return _checkout_page(request, checkout, form, status=400)
    try:
        returning.request_link_mail(
            public_id=public_id,
            email=form.cleaned_data["email"],
            locale=l10n.active_locale(),
            client_ip=clients.client_address(request.META),
        )
    except services.RateLimited as limited:
        form.add_error("email", str(limited))
        return _checkout_page(request, checkout, form, status=429)
    page = reverse("checkout-page", args=[public_id]) + "?link=sent#link-mail"
    return HttpResponseRedirect(page, status=303)


@require_GET
def legal_page(request: HttpRequest, kind: str) -> HttpResponse:
    """Terms of use, imprint, privacy policy or support, as the operator wrote them."""
    if kind not in LegalPage.Kind.values:
        raise Http404("no such page")
    page = legal.legal_text(LegalPage.Kind(kind), l10n.active_locale())
    context = {
        "page": page,
        "title": legal.TITLES[page.kind],
        "identity": legal.platform_identity() if page.kind == LegalPage.Kind.IMPRINT else [],
    }
    return render(request, "payments/legal.html", context)


def _reader_language(request: HttpRequest, checkout: Checkout) -> str:
    """The language of whoever reads the receipt: the one chosen with the switcher, else the
    first their browser asks for that we speak (as LocaleMiddleware activated it); only a
    reader who states neither gets the language the checkout was paid in."""
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) in l10n.LOCALES:
        return l10n.active_locale()
    asked = parse_accept_lang_header(request.headers.get("Accept-Language", "")[:255])
    if any(code.lower()[:2] in l10n.LOCALES for code, _q in asked):
        return l10n.active_locale()
    return checkout.locale if checkout.locale in l10n.LOCALES else l10n.active_locale()


def _private(response: HttpResponse) -> HttpResponse:
    """A receipt is reached by a secret link: not cached by others, not indexed, and the link
    is not passed on to other sites."""
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "same-origin"
    return response


@require_GET
def receipt_page(request: HttpRequest, public_id: str) -> HttpResponse:
    """The receipt (HTML); before settlement a page that says when it will be there (404)."""
    return _receipt(request, public_id, as_pdf=False)


@require_GET
def receipt_pdf_download(request: HttpRequest, public_id: str) -> HttpResponse:
    return _receipt(request, public_id, as_pdf=True)


@require_GET
def receipt_signed_data(request: HttpRequest, public_id: str) -> HttpResponse:
    """The CDR's signed meter data as it carried it, for the transparency software: OCMF
    records as a `.ocmf` text file, other encodings as `.txt`."""
    return _signed_data(request, public_id, as_xml=False)


@require_GET
def receipt_signed_data_xml(request: HttpRequest, public_id: str) -> HttpResponse:
    """The same as the transparency software's XML, with the public key: OCMF only."""
    return _signed_data(request, public_id, as_xml=True)


def _signed_data(request: HttpRequest, public_id: str, *, as_xml: bool) -> HttpResponse:
    try:
        receipt = receipts.receipt_for(services.checkout_by_public_id(public_id))
    except (services.UnknownCheckout, receipts.NoReceipt):
        return _private(HttpResponse(status=404, content_type="text/plain"))
    calibration = receipt.calibration
    content: bytes | None = None
    if calibration is not None and as_xml:
        content, extension, kind = receipts.transparency_xml(calibration), "xml", "application/xml"
    elif calibration is not None:
        content, extension = receipts.signed_data_file(calibration)
        kind = "text/plain; charset=utf-8"
    if content is None:
        return _private(HttpResponse(status=404, content_type="text/plain"))
    response = HttpResponse(content, content_type=kind)
    name = f"signed-data-{receipt.number}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return _private(response)


@require_POST
def receipt_invoice_details(request: HttpRequest, public_id: str) -> HttpResponse:
    """The form under the receipt: who it is made out to. Valid details are stored and the
    receipt shown again with them (303); invalid ones show the receipt with the form's
    messages (400). Nothing is e-mailed again: the page and the PDF show the details."""
    return _receipt(request, public_id, as_pdf=False)


def _receipt(request: HttpRequest, public_id: str, *, as_pdf: bool) -> HttpResponse:
    try:
        checkout = services.checkout_by_public_id(public_id)
    except services.UnknownCheckout:
        return render(request, "payments/unknown_checkout.html", status=404)
    with translation.override(_reader_language(request, checkout)):
        try:
            receipt = receipts.receipt_for(checkout)
        except receipts.NoReceipt as missing:
            context = {"checkout": checkout, "reason": missing.reason}
            return _private(render(request, "payments/receipt_pending.html", context, status=404))
        if not as_pdf:
            form = invoice_details.InvoiceDetailsForm.for_checkout(checkout)
            status = 200
            if request.method == "POST":
                form = invoice_details.InvoiceDetailsForm(request.POST)
                if form.is_valid():
                    invoice_details.store(checkout, form.details())
                    page = reverse("receipt-page", args=[public_id]) + "#recipient"
                    return _private(HttpResponseRedirect(page, status=303))
                status = 400
            context = {
                "checkout": checkout,
                "receipt": receipt,
                "text": receipts.present(receipt),
                "form": form,
            }
            return _private(render(request, "payments/receipt.html", context, status=status))
        response = HttpResponse(receipt_pdf(receipt), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{receipt.number}.pdf"'
    return _private(response)


@require_GET
def credit_note_page(request: HttpRequest, public_id: str, number: str) -> HttpResponse:
    """A refund's credit note (HTML), under the checkout's secret link."""
    return _credit_note(request, public_id, number, as_pdf=False)


@require_GET
def credit_note_pdf_download(request: HttpRequest, public_id: str, number: str) -> HttpResponse:
    return _credit_note(request, public_id, number, as_pdf=True)


def _credit_note(
    request: HttpRequest, public_id: str, number: str, *, as_pdf: bool
) -> HttpResponse:
    try:
        checkout = services.checkout_by_public_id(public_id)
    except services.UnknownCheckout:
        return render(request, "payments/unknown_checkout.html", status=404)
    with translation.override(_reader_language(request, checkout)):
        try:
            doc = receipts.credit_note_for(checkout, number)
        except (CreditNote.DoesNotExist, receipts.NoReceipt):
            return _private(render(request, "payments/unknown_checkout.html", status=404))
        if not as_pdf:
            context = {"checkout": checkout, "doc": doc, "text": receipts.present_credit_note(doc)}
            return _private(render(request, "payments/credit_note.html", context))
        response = HttpResponse(credit_note_pdf(doc), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="credit-note-{doc.number}.pdf"'
    return _private(response)
