"""The receipt by e-mail: text, HTML and the PDF attached, in the language the driver paid in,
once; a refund's credit note the same way; and the erasure of addresses past their retention
(ARCHITECTURE.md "Privacy"). It sits above `payments.receipts` (the documents' values and words)
and `payments.receipt_pdf` (the PDFs made of them). These are the writes about receipts, for
tasks to call."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from payments import invoice_details
from payments.legal import legal_links
from payments.models import Checkout, CreditNote, LinkMail
from payments.receipt_pdf import credit_note_pdf, receipt_pdf
from payments.receipts import (
    credit_note_doc,
    credit_note_url,
    present,
    present_credit_note,
    receipt_for,
    receipt_url,
)
from stations import l10n

logger = logging.getLogger(__name__)


def send_receipt(*, checkout_id: int) -> bool:
    """E-mail the receipt (text, HTML, PDF attached) in the driver's language, once: True when
    it was sent now. Nothing is sent without an address, before settlement, or when
    `receipt_sent_at` says it went already; calling it twice, or from two workers, sends one.

    The checkout is claimed by a conditional update before sending; if the mail server fails the
    claim is undone and the error raised, so a task can retry."""
    checkout = (
        Checkout.objects.select_related("evse__location", "connector", "partner")
        .filter(pk=checkout_id)
        .first()
    )
    if checkout is None or not checkout.email or checkout.receipt_sent_at is not None:
        return False
    if checkout.status != Checkout.Status.SETTLED:
        return False
    now = timezone.now()
    claimed = Checkout.objects.filter(pk=checkout_id, receipt_sent_at=None).exclude(email="")
    if not claimed.update(receipt_sent_at=now):
        return False  # a twin call was here first
    language = l10n.known_locale(checkout.locale)
    sent = False
    try:
        with translation.override(language):
            receipt = receipt_for(checkout)
            context = {
                "receipt": receipt,
                "text": present(receipt),
                "receipt_url": receipt_url(checkout.public_id),
                "LANGUAGE_CODE": language,
                "legal_links": legal_links(absolute=True),
            }
            subject = _("Your charging receipt %(number)s") % {"number": receipt.number}
            text = render_to_string("payments/email/receipt.txt", context)
            html = render_to_string("payments/email/receipt.html", context)
            pdf = receipt_pdf(receipt)
        message = EmailMultiAlternatives(
            subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[checkout.email]
        )
        message.attach_alternative(html, "text/html")
        message.attach(f"receipt-{receipt.number}.pdf", pdf, "application/pdf")
        message.send()
        sent = True
    finally:
        if not sent:  # whatever failed (mail server, rendering): undo the claim for a retry
            unclaim = Checkout.objects.filter(pk=checkout_id, receipt_sent_at=now)
            unclaim.update(receipt_sent_at=None)
    logger.info("receipt of checkout %s e-mailed", checkout_id)  # never log the address
    return True


def send_credit_note(*, credit_note_id: int) -> bool:
    """E-mail a refund's credit note (text, PDF attached) in the language the driver paid in,
    once: True when it was sent now. Nothing is sent without an address (or after it was
    erased); `sent_at` is claimed before sending and given back if sending fails."""
    note = CreditNote.objects.select_related("checkout").filter(pk=credit_note_id).first()
    if note is None or note.sent_at is not None or not note.checkout.email:
        return False
    now = timezone.now()
    if not CreditNote.objects.filter(pk=note.pk, sent_at=None).update(sent_at=now):
        return False  # a twin call was here first
    checkout = note.checkout
    language = l10n.known_locale(checkout.locale)
    sent = False
    try:
        with translation.override(language):
            doc = credit_note_doc(note, receipt_for(checkout))
            context = {
                "text": present_credit_note(doc),
                "url": credit_note_url(checkout.public_id, note.number),
                "legal_links": legal_links(absolute=True),
            }
            subject = _("Your credit note %(number)s") % {"number": note.number}
            text = render_to_string("payments/email/credit_note.txt", context)
            pdf = credit_note_pdf(doc)
        message = EmailMultiAlternatives(
            subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[checkout.email]
        )
        message.attach(f"credit-note-{note.number}.pdf", pdf, "application/pdf")
        message.send()
        sent = True
    finally:
        if not sent:
            CreditNote.objects.filter(pk=note.pk, sent_at=now).update(sent_at=None)
    logger.info("credit note %s e-mailed", note.number)
    return True


# The driver's personal data on a checkout: the e-mail address and the invoice details.
_PERSONAL = ("email", *(f"invoice_{field}" for field in invoice_details.FIELDS))


def erase_old_emails(*, now: datetime) -> int:
    """Blank the e-mail address and the invoice details (name, address, VAT id) of checkouts
    that ended or settled longer than `EMAIL_RETENTION` ago, and drop the link e-mails asked
    for before then (ARCHITECTURE.md "Privacy"); their
    receipts stay viewable by link, without the recipient. Returns how many checkouts had
    personal data erased."""
    cutoff = now - settings.EMAIL_RETENTION
    old = Q(settled_at__lt=cutoff) | Q(ended_at__lt=cutoff)
    holding = Q()
    for field in _PERSONAL:
        holding |= ~Q(**{field: ""})
    blank = dict.fromkeys(_PERSONAL, "")
    # Link e-mails: an address whose message never went out goes too, with the old rows.
    LinkMail.objects.filter(requested_at__lt=cutoff).delete()
    return Checkout.objects.filter(old).filter(holding).update(**blank)


def send_link_mail(*, link_mail_id: int) -> bool:
    """E-mail a checkout's secret link to the address the driver gave for it, once, in the
    language of the page they asked on; the address is blanked as it is sent. True when sent
    now. A mail server that fails leaves the row as it was, for a task to retry."""
    mail = LinkMail.objects.select_related("checkout__evse").filter(pk=link_mail_id).first()
    if mail is None or not mail.email or mail.sent_at is not None:
        return False
    checkout = mail.checkout
    with translation.override(l10n.known_locale(mail.locale)):
        context = {
            "url": settings.PUBLIC_BASE_URL + reverse("checkout-page", args=[checkout.public_id]),
            "evse_id": checkout.evse.evse_id,
            "legal_links": legal_links(absolute=True),
        }
        subject = _("Your charging at %(evse)s") % {"evse": checkout.evse.evse_id}
        text = render_to_string("payments/email/link.txt", context)
    EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[mail.email]
    ).send()
    LinkMail.objects.filter(pk=mail.pk).update(email="", sent_at=timezone.now())
    logger.info("link of checkout %s e-mailed", checkout.pk)  # never log the address
    return True
