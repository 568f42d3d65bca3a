"""The driver's pages: what a QR code on a charger opens, and the status page of a checkout.
Both read through the same functions as the driver API; the payment itself runs in the page's
script against that API (Stripe.js collects the card, our server places the hold)."""

from __future__ import annotations

import re
from decimal import Decimal

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.http import require_GET, require_POST

from payments import api, invoice_details, receipts, services
from payments.models import Checkout, CreditNote
from payments.receipt_pdf import credit_note_pdf, receipt_pdf
from stations import l10n
from stations.models import evse_lookup_key

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


# The one estimate the page shows ("20 kWh ≈ …"); each costs a pricing of the session.
PAGE_ESTIMATE = (Decimal(20),)


@require_GET
def charge_page(request: HttpRequest, evse_id: str) -> HttpResponse:
    try:
        evse = services.find_evse(evse_id)
    except services.UnknownEvse:
        return render(request, "payments/unknown_evse.html", {"evse_id": evse_id[:64]}, status=404)
    except services.AmbiguousEvse:
        context = {"evse_id": evse_id[:64]}
        return render(request, "payments/ambiguous_evse.html", context, status=409)
    info = api.describe_evse(evse, locale=l10n.active_locale(), estimate_kwh=PAGE_ESTIMATE)
    context = {
        "info": info,
        "evse": evse,
        "stripe_js_url": settings.STRIPE_JS_URL,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "locale": l10n.active_locale(),
    }
    return render(request, "payments/charge.html", context)


@require_GET
def charge_lookup(request: HttpRequest) -> HttpResponse:
    """The box on the "unknown charger" page: the ID as printed on the charger. Typed with
    other separators than a URL of ours takes (`DE/ABC/E1`), it is looked up by its letters
    and digits, as every EVSE ID is; with none, it is no charger of ours."""
    evse_id = request.GET.get("evse_id", "").strip()
    if not evse_id:
        return render(request, "payments/unknown_evse.html", {"evse_id": ""})
    if len(evse_id) <= 64 and EVSE_IN_URL.fullmatch(evse_id):
        return HttpResponseRedirect(reverse("charge-page", args=[evse_id]))
    key = evse_lookup_key(evse_id)
    if 0 < len(key) <= 64 and EVSE_IN_URL.fullmatch(key):
        return HttpResponseRedirect(reverse("charge-page", args=[key]))
    shown = "".join(c for c in evse_id[:64] if c.isprintable())
    return render(request, "payments/unknown_evse.html", {"evse_id": shown}, status=404)


@require_GET
def checkout_page(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        checkout = services.checkout_by_public_id(public_id)
    except services.UnknownCheckout:
        return render(request, "payments/unknown_checkout.html", status=404)
    context = {
        "checkout": checkout,
        "data": api.describe_checkout(checkout),
        "status_text": STATUS_TEXT.get(checkout.status, checkout.status),
    }
    return render(request, "payments/checkout.html", context)


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
