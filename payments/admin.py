"""Operators follow every checkout: its state, the money held and moved, the EVSE and partner,
the Stripe ids; find one by what a driver, a CPO or Stripe quotes; work the exception queue
(cases); refund drivers, saying who bears it; download the settlement export of a run of days;
set each CPO party's commercial terms and print its chargers' QR stickers. Every write goes
through a service. Amounts are written as money (`stations.l10n.money`), times in the
operator's TIME_ZONE with its name.

Each action and page asks for the permission of its job (`payments.issue_refund`,
`payments.export_settlement`, `payments.unlock_connector`, `payments.resolve_case`,
`payments.settle_cdr`), not only a staff account; the groups operations, finance and support
(migration 0014) bundle them. Each leaves an entry in the admin's log, listed under
"Log entries"."""

import io
import logging
import re
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Lower
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from ocpi_peer.admin import require
from ocpi_peer.models import CommandRequest, Partner
from payments import advice, charging, exports, ocmf, refunds, settlement, terminals
from payments.cases import resolve_case
from payments.models import (
    Case,
    Cdr,
    ChargingSession,
    Checkout,
    CpoTerms,
    CreditNote,
    Deadline,
    Dispute,
    FinancialAdvice,
    LedgerEntry,
    LegalPage,
    MeterKey,
    Refund,
    StripeEvent,
    Terminal,
    receipt_number,
)
from payments.queue import enqueue_on_commit
from stations import l10n
from stations.admin import ReadOnlyAdmin, sticker_download
from stations.models import Evse, evse_lookup_key
from stations.money import MINOR_UNITS, Money

logger = logging.getLogger(__name__)

ISSUE_REFUND = "payments.issue_refund"
EXPORT_SETTLEMENT = "payments.export_settlement"
UNLOCK_CONNECTOR = "payments.unlock_connector"
RESOLVE_CASE = "payments.resolve_case"
SETTLE_CDR = "payments.settle_cdr"


def _link(model: str, pk: int | None, text: object) -> str:
    if pk is None:
        return "—"
    return format_html(
        '<a href="{}">{}</a>', reverse(f"admin:payments_{model}_change", args=[pk]), text
    )


def _money(minor: int, currency: str) -> str:
    """Minor units as money, as `stations.l10n.money` writes it."""
    return str(Money.from_minor(minor, currency))


def _cost(incl: Decimal | None, excl: Decimal | None, currency: str) -> str:
    """A CPO's total as money: incl. VAT, or excl. VAT said so (2.1.1); "—" when it gave none
    or in a currency we cannot write."""
    if currency not in MINOR_UNITS:
        return "—"
    if incl is not None:
        return str(Money(incl, currency))
    return f"{Money(excl, currency)} excl. VAT" if excl is not None else "—"


def _when(moment: datetime | None) -> str:
    """A moment in the operator's time zone (TIME_ZONE) with the zone's name: "2026-12-01
    14:05 CET"; the admin's own rendering would leave the zone out."""
    return l10n.moment(timezone.localtime(moment)) if moment is not None else "—"


def _figures(sums: exports.Sums, currency: str) -> str:
    def m(minor: int) -> str:
        return _money(minor, currency)

    return (
        f"held {m(sums.held)} · captured {m(sums.captured)} · released {m(sums.released)} · "
        f"refunded {m(sums.refunded)} · paid by the driver {m(sums.paid)} · "
        f"owed to the CPO {m(sums.payable)}"
    )


def _refundable_minor(checkout: Checkout) -> int:
    """Captured less refunded, and less refunds still waiting for Stripe."""
    return max(refunds.refundable_minor(checkout), 0)


class RefundForm(forms.Form):
    """No amount is suggested: an operator types what the driver gets back, and confirms it on
    a second page that says what it costs whom."""

    amount = forms.DecimalField()  # replaced per currency in __init__
    borne_by = forms.ChoiceField(
        label="Who bears it",
        choices=Refund.BorneBy.choices,
        widget=forms.RadioSelect,
        help_text="The CPO's share is deducted from what we owe it (settlement export).",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=1000,
        help_text="Why the driver gets money back; kept in the ledger.",
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, currency: str, refundable: Money, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        places = MINOR_UNITS[currency]
        self.fields["amount"] = forms.DecimalField(
            label=f"Amount ({currency})",
            max_digits=12,
            decimal_places=places,
            min_value=Decimal(1).scaleb(-places),
            max_value=refundable.amount,
            help_text=f"At most {refundable}: captured less refunded.",
        )

    def clean_key(self) -> str:
        key = self.cleaned_data["key"]
        if not key.startswith("operator:"):
            raise forms.ValidationError("This form is stale: open it again.")
        return key


class SettlementForm(forms.Form):
    first = forms.DateField(
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=f"The first day, from midnight in {settings.TIME_ZONE}.",
    )
    last = forms.DateField(
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=f"The last day, to midnight after it in {settings.TIME_ZONE}.",
    )
    partner = forms.ModelChoiceField(
        Partner.objects.order_by("name"), required=False, empty_label="all partners"
    )

    MAX_DAYS = 366

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first"), data.get("last")
        if first and last and last < first:
            raise forms.ValidationError("The last day comes before the first.")
        if first and last and last - first >= timedelta(days=self.MAX_DAYS):
            raise forms.ValidationError(f"Export at most {self.MAX_DAYS} days at once.")
        return data


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        max_length=4000,
        help_text="What you did or decided; kept with the case, with your name and the time.",
    )


class LinkCdrForm(forms.Form):
    checkout = forms.CharField(
        max_length=64,
        help_text="The checkout's number or its authorization_reference.",
    )

    def clean_checkout(self) -> Checkout:
        value = self.cleaned_data["checkout"].strip()
        found = Checkout.objects.filter(authorization_reference__iexact=value)
        # A checkout number: ASCII digits a database integer holds ("²" is a digit to Python).
        if value.isascii() and value.isdigit() and len(value) <= 18:
            found = found | Checkout.objects.filter(pk=int(value))
        checkout = found.first()
        if checkout is None:
            raise forms.ValidationError("No checkout has this number or reference.")
        return checkout


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LedgerInline(ReadOnlyInline):
    model = LedgerEntry
    fields = ["booked", "kind", "amount", "note", "stripe_id", "idempotency_key", "merchant"]
    readonly_fields = fields

    @admin.display(description="booked")
    def booked(self, entry: LedgerEntry) -> str:
        return _when(entry.created_at)

    @admin.display(description="amount")
    def amount(self, entry: LedgerEntry) -> str:
        return str(Money.from_minor(entry.amount_minor, entry.currency))


class CommandInline(ReadOnlyInline):
    model = CommandRequest
    fields = [
        "command",
        "created",
        "sent",
        "attempts",
        "response_result",
        "result",
        "late",
        "error",
    ]
    readonly_fields = fields
    show_change_link = True

    @admin.display(description="created")
    def created(self, command: CommandRequest) -> str:
        return _when(command.created_at)

    @admin.display(description="sent")
    def sent(self, command: CommandRequest) -> str:
        return _when(command.sent_at)


class SessionInline(ReadOnlyInline):
    model = ChargingSession
    fields = [
        "session_id",
        "status",
        "kwh",
        "cost",
        "started",
        "ended",
        "updated",
        "flag",
    ]
    readonly_fields = fields

    @admin.display(description="start")
    def started(self, session: ChargingSession) -> str:
        return _when(session.start)

    @admin.display(description="end")
    def ended(self, session: ChargingSession) -> str:
        return _when(session.end)

    @admin.display(description="last updated")
    def updated(self, session: ChargingSession) -> str:
        return _when(session.last_updated)

    @admin.display(description="cost")
    def cost(self, session: ChargingSession) -> str:
        return _cost(session.total_cost_incl_vat, session.total_cost_excl_vat, session.currency)


class RefundInline(ReadOnlyInline):
    """Refunds asked for, including those still waiting for Stripe or failed (the ledger has
    only what Stripe did)."""

    model = Refund
    fields = [
        "asked",
        "amount",
        "borne_by",
        "status",
        "reason",
        "requested_by",
        "failure",
        "done",
        "credit_note_link",
    ]
    readonly_fields = fields

    @admin.display(description="asked")
    def asked(self, refund: Refund) -> str:
        return _when(refund.created_at)

    @admin.display(description="done")
    def done(self, refund: Refund) -> str:
        return _when(refund.done_at)

    @admin.display(description="amount")
    def amount(self, refund: Refund) -> str:
        return str(Money.from_minor(refund.amount_minor, refund.currency))

    @admin.display(description="credit note")
    def credit_note_link(self, refund: Refund) -> str:
        """The document the driver got for it, as they see it (issued once Stripe refunded)."""
        note = CreditNote.objects.filter(refund=refund).first()
        if note is None:
            return "—"
        url = reverse("credit-note-page", args=[refund.checkout.public_id, note.number])
        sent = f", e-mailed {_when(note.sent_at)}" if note.sent_at else ""
        return format_html('<a href="{}">{}</a>{}', url, note.number, sent)


class DeadlineInline(ReadOnlyInline):
    model = Deadline
    fields = ["kind", "due", "done"]
    readonly_fields = fields

    @admin.display(description="due")
    def due(self, deadline: Deadline) -> str:
        return _when(deadline.due_at)

    @admin.display(description="done")
    def done(self, deadline: Deadline) -> str:
        return _when(deadline.done_at)


def _ledger_of_checkout(kind: str) -> Subquery:
    """A checkout's ledger total of one kind, for a list's annotation (one query per page)."""
    return Subquery(
        LedgerEntry.objects.filter(checkout_id=OuterRef("pk"), kind=kind)
        .values("checkout_id")
        .annotate(total=Sum("amount_minor"))
        .values("total")[:1]
    )


_RECEIPT_NUMBER = re.compile(r"^(?P<party>[A-Z0-9]{3})-(?P<number>\d{1,18})$")


def checkouts_matching(term: str) -> Q:
    """What an operator may paste to find a checkout, each an indexed equality (no scan of
    joined text): its number, authorization reference, receipt or credit note number, CDR id,
    the card's last 4 digits, the receipt e-mail, the EVSE ID however printed, the Stripe
    PaymentIntent or SetupIntent id, or the public id of the driver's page. Nothing matches
    "nothing"."""
    term = term.strip().strip("…").strip()
    if not term:
        return Q(pk__in=[])
    found = Q(authorization_reference__in={term, term.upper(), term.lower()})
    found |= Q(stripe_payment_intent=term) | Q(stripe_setup_intent=term) | Q(public_id=term)
    found |= Q(pk__in=Cdr.objects.filter(cdr_id=term).values("checkout_id"))
    found |= Q(pk__in=CreditNote.objects.filter(number=term.upper()).values("checkout_id"))
    receipt = _RECEIPT_NUMBER.match(term.upper())
    if receipt is not None and receipt["party"] == settings.OCPI_PARTY_ID.upper():
        found |= Q(pk=int(receipt["number"]))
    if term.isascii() and term.isdigit():
        if len(term) == 4:
            found |= Q(card_last4=term)
        if len(term) <= 18:
            found |= Q(pk=int(term))
    if "@" in term:  # as the driver typed it, in any case: the index is on its lower case
        lower = Checkout.objects.annotate(lower=Lower("email")).filter(lower=term.lower())
        found |= Q(pk__in=lower.values("pk"))
    key = evse_lookup_key(term)
    if len(key) >= 5:  # an EVSE ID names at least a country and an operator
        found |= Q(evse_id__in=Evse.objects.filter(lookup_key=key).values("pk"))
    return found


@admin.register(Checkout)
class CheckoutAdmin(ReadOnlyAdmin):
    list_display = [
        "created",
        "status",
        "payment_status",
        "held",
        "captured",
        "evse",
        "partner",
        "stripe_payment_intent",
    ]
    list_filter = ["status", "payment_status", "partner"]
    # Searched by `get_search_results` (`checkouts_matching`); listed for the search box.
    search_fields = ["authorization_reference"]
    search_help_text = (
        "Authorization reference, receipt number, CDR id, card's last 4 digits, e-mail, "
        "EVSE ID, PaymentIntent id or checkout number: exactly as printed."
    )
    list_select_related = ["evse", "partner"]
    date_hierarchy = "created_at"
    inlines = [SessionInline, CommandInline, LedgerInline, RefundInline, DeadlineInline]
    actions = ["unlock_connector", "refund"]
    fields = [
        "status",
        "payment_status",
        "partner",
        "evse",
        "connector",
        "held",
        "captured",
        "price_shown",
        "card",
        "declines",
        "failure_reason",
        "flag",
        "price_notes",
        "authorization_reference",
        "receipt",
        "driver_pages",
        "start_unconfirmed",
        "stop_requested_at",
        "stop_reason",
        "stripe_setup_intent",
        "stripe_payment_intent",
        "merchant",
        "locale",
        "has_email",
        "created",
        "authorized",
        "ended",
        "money",
        "open_cases",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Checkout]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                held_minor=_ledger_of_checkout(LedgerEntry.Kind.HOLD),
                captured_minor=_ledger_of_checkout(LedgerEntry.Kind.CAPTURE),
            )
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Checkout], search_term: str
    ) -> tuple[QuerySet[Checkout], bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.filter(checkouts_matching(search_term)), False

    @admin.display(description="created", ordering="created_at")
    def created(self, checkout: Checkout) -> str:
        return _when(checkout.created_at)

    @admin.display(description="authorized")
    def authorized(self, checkout: Checkout) -> str:
        return _when(checkout.authorized_at)

    @admin.display(description="ended")
    def ended(self, checkout: Checkout) -> str:
        return _when(checkout.ended_at)

    @admin.display(description="receipt number")
    def receipt(self, checkout: Checkout) -> str:
        return receipt_number(checkout) if checkout.status == Checkout.Status.SETTLED else "—"

    @admin.display(description="driver's pages")
    def driver_pages(self, checkout: Checkout) -> str:
        """What the driver sees: the live page, and the receipt once settled."""
        live = reverse("checkout-page", args=[checkout.public_id])
        if checkout.status != Checkout.Status.SETTLED:
            return format_html('<a href="{}" target="_blank">live page</a>', live)
        receipt = reverse("receipt-page", args=[checkout.public_id])
        return format_html(
            '<a href="{}" target="_blank">live page</a> · <a href="{}" target="_blank">receipt</a>',
            live,
            receipt,
        )

    change_form_template = "admin/payments/checkout/change_form.html"
    change_list_template = "admin/payments/checkout/change_list.html"

    def has_unlock_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(UNLOCK_CONNECTOR)

    @admin.action(
        description="Unlock the connector (UNLOCK_CONNECTOR, for support staff)",
        permissions=["unlock"],
    )
    def unlock_connector(self, request: HttpRequest, queryset: QuerySet[Checkout]) -> None:
        for checkout in queryset:
            command_id = charging.begin_unlock(checkout_id=checkout.pk)
            enqueue_on_commit("payments.tasks.send_command", command_id)
            self.log_change(request, checkout, f"Unlock sent (command {command_id})")
            self.message_user(
                request, f"{checkout}: unlock sent; its answer shows under Commands", messages.INFO
            )

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ISSUE_REFUND)

    @admin.action(description="Refund the driver (one checkout)", permissions=["refund"])
    def refund(self, request: HttpRequest, queryset: QuerySet[Checkout]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Choose one checkout to refund.", messages.WARNING)
            return None
        return HttpResponseRedirect(
            reverse("admin:payments_checkout_refund", args=[queryset[0].pk])
        )

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:checkout_id>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name="payments_checkout_refund",
            ),
            path(
                "settlement/",
                self.admin_site.admin_view(self.settlement_view),
                name="payments_settlement_export",
            ),
            *super().get_urls(),
        ]

    def refund_view(self, request: HttpRequest, checkout_id: int) -> HttpResponse:
        """Two steps: a form (amount, who bears it, a required reason; no amount suggested),
        then a page that says what the refund does (the driver's money back, what we owe the
        CPO, what we keep) and asks to confirm. The idempotency key is made when the form is
        shown, so submitting twice (a double click, a reload) refunds once. Refusals come back
        as messages, never as a 500."""
        require(request, ISSUE_REFUND)
        checkout = Checkout.objects.select_related("partner").filter(pk=checkout_id).first()
        if checkout is None:
            self.message_user(request, f"There is no checkout {checkout_id}.", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:payments_checkout_changelist"))
        change_url = reverse("admin:payments_checkout_change", args=[checkout.pk])
        done = Refund.objects.filter(checkout=checkout, key=request.POST.get("key", "")).first()
        if done is not None:  # a double click or a reload of the confirmation: nothing again
            self.message_user(request, f"{checkout}: this {done} was requested already.")
            return HttpResponseRedirect(change_url)
        sums = exports.ledger_sums([checkout.pk])[checkout.pk]
        refundable = Money.from_minor(_refundable_minor(checkout), checkout.currency)
        form = RefundForm(
            request.POST if request.method == "POST" else None,
            currency=checkout.currency,
            refundable=refundable,
            initial={"reason": request.GET.get("reason", ""), "key": f"operator:{uuid.uuid4()}"},
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Refund {checkout}",
            "opts": self.model._meta,
            "checkout": checkout,
            "form": form,
            "sums": sums,
            "figures": _figures(sums, checkout.currency),
            "refundable": str(refundable),
            "change_url": change_url,
        }
        if not (form.is_bound and form.is_valid()):
            return TemplateResponse(request, "admin/payments/checkout/refund.html", context)
        if "confirm" not in request.POST:
            context |= {
                "title": f"Confirm the refund of {checkout}",
                "amount": Money(form.cleaned_data["amount"], checkout.currency),
                "consequences": _consequences(checkout, sums, form.cleaned_data),
            }
            return TemplateResponse(request, "admin/payments/checkout/refund_confirm.html", context)
        if self._request_refund(request, checkout, form.cleaned_data):
            return HttpResponseRedirect(change_url)
        return TemplateResponse(request, "admin/payments/checkout/refund.html", context)

    def _request_refund(
        self, request: HttpRequest, checkout: Checkout, data: dict[str, Any]
    ) -> bool:
        amount = Money(data["amount"], checkout.currency)
        bearer = Refund.BorneBy(data["borne_by"])
        again = Refund.objects.filter(key=data["key"]).exists()  # a double submit: logged once
        try:
            refunds.request_refund(
                checkout_id=checkout.pk,
                amount=amount.amount,
                reason=data["reason"],
                requested_by=request.user.get_username(),
                key=data["key"],
                borne_by=bearer.value,
            )
        except refunds.RefundRefused as exc:
            self.message_user(request, f"Refund refused: {exc}", messages.ERROR)
            return False
        except Exception:  # an operator gets a message, the traceback goes to the log
            logger.exception("refund of checkout %s failed", checkout.pk)
            self.message_user(
                request, "The refund could not be requested (the error is logged).", messages.ERROR
            )
            return False
        who = "the CPO" if bearer == Refund.BorneBy.CPO else "the platform"
        if not again:
            self.log_change(
                request, checkout, f"Refund of {amount} requested, borne by {who}: {data['reason']}"
            )
        self.message_user(
            request,
            f"{checkout}: refund of {amount}, borne by {who}, requested; it shows under "
            "Refunds, and in the ledger once Stripe has made it.",
            messages.SUCCESS,
        )
        return True

    def settlement_view(self, request: HttpRequest) -> HttpResponse:
        """The settlement export: pick a day and a partner (or all) and get a CSV. Each
        download is logged: it hands out what partners earn."""
        require(request, EXPORT_SETTLEMENT)
        form = SettlementForm(request.GET if "first" in request.GET else None)
        if form.is_bound and form.is_valid():
            first: date = form.cleaned_data["first"]
            last: date = form.cleaned_data["last"]
            partner: Partner | None = form.cleaned_data["partner"]
            rows = exports.settlement_rows(first, partner.pk if partner else None, last)
            _log_export(request, first, last, partner)
            out = io.StringIO()
            exports.write_settlement_csv(rows, out)
            days = first.isoformat() if first == last else f"{first}-to-{last}"
            name = f"settlement-{days}-{partner.pk if partner else 'all'}.csv"
            return HttpResponse(
                out.getvalue(),
                content_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Settlement export (CSV)",
            "opts": self.model._meta,
            "form": form,
            "time_zone": settings.TIME_ZONE,
        }
        return TemplateResponse(request, "admin/payments/checkout/settlement.html", context)

    @admin.display(description="ledger sums")
    def money(self, checkout: Checkout) -> str:
        sums = exports.ledger_sums([checkout.pk])[checkout.pk]
        return _figures(sums, checkout.currency)

    @admin.display(description="exception cases")
    def open_cases(self, checkout: Checkout) -> str:
        cases = list(checkout.cases.all())
        if not cases:
            return "—"
        return format_html_join(
            mark_safe("<br>"),
            "{} ({})",
            (
                (_link("case", case.pk, case), "open" if case.resolved_at is None else "resolved")
                for case in cases
            ),
        )

    @admin.display(description="held")
    def held(self, checkout: Checkout) -> str:
        """What the card's hold was, only if one was placed (the ledger's HOLD rows)."""
        minor = getattr(checkout, "held_minor", None)
        return _money(minor, checkout.currency) if minor else "—"

    @admin.display(description="captured")
    def captured(self, checkout: Checkout) -> str:
        minor = getattr(checkout, "captured_minor", None)
        return _money(minor, checkout.currency) if minor else "—"

    @admin.display(description="price shown")
    def price_shown(self, checkout: Checkout) -> str:
        return " · ".join(checkout.tariff_snapshot.get("lines", []))

    @admin.display(description="card")
    def card(self, checkout: Checkout) -> str:
        return f"{checkout.card_brand} …{checkout.card_last4}" if checkout.card_last4 else "—"

    @admin.display(description="receipt e-mail", boolean=True)
    def has_email(self, checkout: Checkout) -> bool:
        return bool(checkout.email)  # the address itself is for the receipt only


def _consequences(checkout: Checkout, sums: exports.Sums, data: dict[str, Any]) -> list[str]:
    """What a refund does, in sentences, for the confirmation page."""
    currency = checkout.currency
    amount = Money(data["amount"], currency).to_minor()
    card = f"{checkout.card_brand} …{checkout.card_last4}" if checkout.card_last4 else "card"
    lines = [
        f"The driver gets {_money(amount, currency)} back on their {card}: they will have "
        f"paid {_money(sums.paid - amount, currency)} instead of {_money(sums.paid, currency)}.",
    ]
    if data["borne_by"] == Refund.BorneBy.CPO:
        lines.append(
            f"The CPO bears it: we will owe {checkout.partner.name} "
            f"{_money(sums.payable - amount, currency)} instead of "
            f"{_money(sums.payable, currency)} (deducted in the settlement export); what we keep "
            f"stays {_money(sums.difference, currency)}."
        )
    else:
        lines.append(
            f"The platform bears it: we still owe {checkout.partner.name} "
            f"{_money(sums.payable, currency)}; what we keep goes from "
            f"{_money(sums.difference, currency)} to {_money(sums.difference - amount, currency)}."
        )
    lines.append(
        "The driver gets a credit note"
        + (" by e-mail." if checkout.email else " under their receipt (no e-mail was given).")
    )
    return lines


def _log_export(request: HttpRequest, first: date, last: date, partner: Partner | None) -> None:
    """A settlement download in the admin's log: under the partner, or under the ledger when
    it is every partner's."""
    day = first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"
    message = f"Downloaded the settlement export of {day}"
    if partner is not None:
        LogEntry.objects.log_actions(
            user_id=request.user.pk,
            queryset=[partner],
            action_flag=CHANGE,
            change_message=f"{message} (this partner)",
            single_object=True,
        )
        return
    LogEntry.objects.create(
        user_id=request.user.pk,
        content_type=ContentType.objects.get_for_model(LedgerEntry),
        object_repr=f"settlement export {day}, all partners",
        action_flag=CHANGE,
        change_message=f"{message} (all partners)",
    )


class TermsCompleteFilter(admin.SimpleListFilter):
    """Terms a receipt cannot be printed from in full: no legal name or no address, or no VAT
    id of the seller for a full invoice (the party's own when it sells, else the platform's)."""

    title = "legal details for receipts"
    parameter_name = "complete"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("no", "incomplete (legal name, address or seller's VAT id missing)"),
            ("yes", "complete"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[CpoTerms]) -> QuerySet[CpoTerms]:
        incomplete = Q(legal_name="") | Q(legal_address="")
        incomplete |= Q(merchant_of_record=CpoTerms.MerchantOfRecord.CPO, vat_id="")
        if not settings.PLATFORM_VAT_ID:
            incomplete |= ~Q(merchant_of_record=CpoTerms.MerchantOfRecord.CPO)
        if self.value() == "no":
            return queryset.filter(incomplete)
        if self.value() == "yes":
            return queryset.exclude(incomplete)
        return queryset


@admin.register(CpoTerms)
class CpoTermsAdmin(admin.ModelAdmin):
    """A party's hold and what happens to a hold about to expire without a CDR; a blank policy
    follows the platform's EXPIRING_HOLD_POLICY, shown here so an operator knows what applies.
    Who sells the charge (merchant of record) and the legal details receipts print: terms
    without a legal name or address are flagged in the list and warned about on their page."""

    list_display = [
        "__str__",
        "default_hold",
        "expiring_hold_policy",
        "policy_in_force",
        "merchant_of_record",
        "price_tolerance",
        "legal_details",
    ]
    list_filter = [TermsCompleteFilter, "merchant_of_record", "expiring_hold_policy"]
    search_fields = ["country_code", "party_id"]
    actions = ["print_stickers"]
    fields = [
        "country_code",
        "party_id",
        "merchant_of_record",
        "default_hold",
        "price_tolerance",
        "expiring_hold_policy",
        "platform_default",
        "legal_name",
        "legal_address",
        "vat_id",
        "missing_vat_is_country_rate",
    ]
    readonly_fields = ["platform_default"]

    @admin.display(description="platform default (EXPIRING_HOLD_POLICY)")
    def platform_default(self, terms: CpoTerms | None = None) -> str:
        policy = settings.EXPIRING_HOLD_POLICY
        return (
            f"{policy}: {CpoTerms.HoldPolicy(policy).label}"
            if policy in CpoTerms.HoldPolicy
            else policy
        )

    @admin.display(description="legal details for receipts")
    def legal_details(self, terms: CpoTerms) -> str:
        missing = terms.missing
        return f"incomplete: no {' and no '.join(missing)}" if missing else "complete"

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        terms = self.get_object(request, object_id)
        if terms is not None and terms.missing and request.method == "GET":
            messages.warning(
                request,
                f"These terms lack the party's {' and '.join(terms.missing)}: receipts of its "
                "charges cannot name it as a German invoice must. Enter them below.",
            )
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(
        description="Print QR stickers of the party's chargers (PDF)", permissions=["view"]
    )
    def print_stickers(self, request: HttpRequest, queryset: QuerySet[CpoTerms]) -> HttpResponse:
        """A sticker for every EVSE the chosen CPO parties publish (`stations.stickers`)."""
        parties = Q(pk__in=[])
        for terms in queryset:
            parties |= Q(
                location__country_code__iexact=terms.country_code,
                location__party_id__iexact=terms.party_id,
            )
        evses = Evse.objects.filter(parties).select_related("location__partner")
        name = "-".join(f"{t.country_code}{t.party_id}" for t in queryset)
        return sticker_download(evses, "".join(c for c in name if c.isalnum() or c == "-")[:60])

    @admin.display(description="expiring hold: in force")
    def policy_in_force(self, terms: CpoTerms) -> str:
        if terms.expiring_hold_policy:
            return terms.expiring_hold_policy
        return f"{settings.EXPIRING_HOLD_POLICY} (platform default)"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        title = (
            "CPO terms (expiring holds without a party policy: "
            f"{settings.EXPIRING_HOLD_POLICY}, the platform default)"
        )
        return super().changelist_view(request, {"title": title, **(extra_context or {})})


class MeterKeyForm(forms.ModelForm):
    """A key must be readable as one (hex or base64 DER, PEM, a curve point), or every CDR of
    the EVSE would be compared with nothing."""

    class Meta:
        model = MeterKey
        fields = ["evse", "public_key"]

    def clean_public_key(self) -> str:
        key = str(self.cleaned_data["public_key"]).strip()
        if ocmf.public_key_bytes(key) is None:
            raise forms.ValidationError("not a public key: give it as hex or base64 DER, or PEM")
        return key


@admin.register(LegalPage)
class LegalPageAdmin(admin.ModelAdmin):
    """The terms of use, imprint, privacy policy and support page every driver page links to
    (`/legal/<kind>/`): plain text, an empty line between paragraphs; links and e-mail
    addresses become clickable, HTML is shown as typed. A page written in one language only
    is shown in that one to every reader."""

    list_display = ["kind", "has_english", "has_german", "updated_at"]
    fields = ["kind", "text_en", "text_de"]

    @admin.display(boolean=True, description="English")
    def has_english(self, page: LegalPage) -> bool:
        return bool(page.text_en.strip())

    @admin.display(boolean=True, description="German")
    def has_german(self, page: LegalPage) -> bool:
        return bool(page.text_de.strip())


@admin.register(MeterKey)
class MeterKeyAdmin(admin.ModelAdmin):
    """The meter key pinned for each EVSE (calibration law, `payments.eichrecht`): taken from
    the first CDR that carries one, or entered from the meter's label. After a meter is replaced
    and checked, enter its new key: CDRs received from then on are compared with it."""

    form = MeterKeyForm
    list_display = ["evse", "pinned_at", "pinned_by"]
    search_fields = ["evse__evse_id", "evse__uid", "public_key"]
    raw_id_fields = ["evse"]
    readonly_fields = ["pinned_at", "pinned_by", "cdr"]

    def save_model(self, request: HttpRequest, obj: MeterKey, form: Any, change: bool) -> None:
        if not change or "public_key" in form.changed_data:
            obj.pinned_at = timezone.now()
            obj.pinned_by = request.user.get_username()
            obj.cdr = None
        super().save_model(request, obj, form, change)


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "type", "event_id", "intent_id"]
    search_fields = ["event_id", "intent_id"]
    list_filter = ["type"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ChargingSession)
class ChargingSessionAdmin(admin.ModelAdmin):
    """Every session a CPO pushed; the flagged ones (no checkout of ours) need an operator."""

    list_display = [
        "session_id",
        "status",
        "partner",
        "checkout",
        "kwh",
        "cost",
        "last_updated",
        "flag",
    ]
    list_filter = ["status", "partner", ("checkout", admin.EmptyFieldListFilter)]
    search_fields = ["session_id", "authorization_reference", "token_uid", "auth_id"]

    @admin.display(description="cost")
    def cost(self, session: ChargingSession) -> str:
        return _cost(session.total_cost_incl_vat, session.total_cost_excl_vat, session.currency)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Cdr)
class CdrAdmin(ReadOnlyAdmin):
    """Every CDR as received; the flagged ones (unmatched, conflicting) need an operator."""

    list_display = [
        "cdr_id",
        "partner",
        "checkout",
        "cost",
        "total_energy",
        "credit",
        "received_at",
        "flag",
    ]
    list_filter = ["partner", "credit", ("checkout", admin.EmptyFieldListFilter)]
    search_fields = ["cdr_id", "authorization_reference", "token_uid", "auth_id", "session_id"]
    readonly_fields = [f.name for f in Cdr._meta.fields]

    @admin.display(description="cost")
    def cost(self, cdr: Cdr) -> str:
        return _cost(cdr.total_cost_incl_vat, cdr.total_cost_excl_vat, cdr.currency)


class CaseStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "open"), ("resolved", "resolved")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> QuerySet[Case]:
        if self.value() == "open":
            return queryset.filter(resolved_at=None)
        if self.value() == "resolved":
            return queryset.exclude(resolved_at=None)
        return queryset


def _ledger_total(kind: str) -> Subquery:
    return Subquery(
        LedgerEntry.objects.filter(checkout_id=OuterRef("about_checkout"), kind=kind)
        .values("checkout_id")
        .annotate(total=Sum("amount_minor"))
        .values("total")[:1]
    )


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    """The exception queue: open cases first, newest first; each with what it is about and the
    money of its checkout. An operator acts (refund, retry) and resolves with a note."""

    list_display = [
        "opened",
        "kind",
        "summary",
        "partner",
        "about",
        "figures",
        "state",
    ]
    list_filter = [CaseStateFilter, "kind", "partner"]
    search_fields = [
        "summary",
        "key",
        "cdr__cdr_id",
        "session__session_id",
        "checkout__authorization_reference",
        "checkout__stripe_payment_intent",
    ]
    date_hierarchy = "opened_at"
    ordering = [F("resolved_at").desc(nulls_first=True), "-opened_at", "-pk"]
    actions = ["resolve", "link_cdr", "refund", "retry_capture", "retry_refund"]
    fields = [
        "kind",
        "summary",
        "partner",
        "about",
        "figures",
        "opened_at",
        "key",
        "state",
        "resolution",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        return (
            super()
            .get_queryset(request)
            .select_related("partner", "checkout", "cdr", "session")
            .annotate(
                about_checkout=Coalesce("checkout_id", "cdr__checkout_id", "session__checkout_id"),
                about_currency=Coalesce(
                    "checkout__currency", "cdr__checkout__currency", "session__checkout__currency"
                ),
                held_minor=_ledger_total(LedgerEntry.Kind.HOLD),
                captured_minor=_ledger_total(LedgerEntry.Kind.CAPTURE),
                refunded_minor=_ledger_total(LedgerEntry.Kind.REFUND),
                payable_minor=_ledger_total(LedgerEntry.Kind.PAYABLE),
            )
        )

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RESOLVE_CASE)

    @admin.display(description="opened", ordering="opened_at")
    def opened(self, case: Case) -> str:
        return _when(case.opened_at)

    def has_settle_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(SETTLE_CDR)

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ISSUE_REFUND)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        count = Case.objects.filter(resolved_at=None).count()
        title = f"Exception queue: {count} open case{'' if count == 1 else 's'}"
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    @admin.display(description="about")
    def about(self, case: Case) -> str:
        parts = []
        checkout_id = getattr(case, "about_checkout", None) or case.checkout_id
        if checkout_id:
            parts.append(_link("checkout", checkout_id, f"checkout {checkout_id}"))
        if case.cdr_id:
            parts.append(_link("cdr", case.cdr_id, case.cdr))
        if case.session_id:
            parts.append(_link("chargingsession", case.session_id, case.session))
        return format_html_join(mark_safe("<br>"), "{}", ((p,) for p in parts)) or "—"

    @admin.display(description="figures")
    def figures(self, case: Case) -> str:
        currency = getattr(case, "about_currency", None)
        lines = []
        if currency:
            sums = exports.Sums(
                held=case.held_minor or 0,
                captured=case.captured_minor or 0,
                refunded=case.refunded_minor or 0,
                payable=case.payable_minor or 0,
            )
            m = lambda minor: _money(minor, currency)  # noqa: E731
            lines.append(
                f"held {m(sums.held)} · captured {m(sums.captured)} · "
                f"refunded {m(sums.refunded)} · owed {m(sums.payable)}"
            )
        if case.cdr is not None:
            cdr = case.cdr
            if cdr.total_cost_incl_vat is None:  # 2.1.1
                lines.append(f"CDR {Money(cdr.total_cost_excl_vat, cdr.currency)} excl. VAT")
            else:
                lines.append(f"CDR {Money(cdr.total_cost_incl_vat, cdr.currency)}")
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines)) or "—"

    @admin.display(description="state", ordering="resolved_at")
    def state(self, case: Case) -> str:
        if case.resolved_at is None:
            return "open"
        return f"resolved by {case.resolved_by} at {_when(case.resolved_at)}"

    @admin.action(description="Resolve with a note", permissions=["resolve"])
    def resolve(self, request: HttpRequest, queryset: QuerySet[Case]) -> HttpResponse | None:
        """An intermediate page asks what was done; the cases close with that note, the
        operator's name and the time. A case resolved already keeps its first resolution."""
        form = ResolveForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            by = request.user.get_username()
            closed = already = 0
            for case in queryset:
                if case.resolved_at is not None:
                    already += 1
                    continue
                resolve_case(case_id=case.pk, by=by, resolution=form.cleaned_data["resolution"])
                self.log_change(request, case, f"Resolved: {form.cleaned_data['resolution']}")
                closed += 1
            note = f"{closed} case{'' if closed == 1 else 's'} resolved"
            if already:
                note += f"; {already} had been resolved already and keep their note"
            self.message_user(request, note, messages.SUCCESS)
            return None
        return self._action_page(request, "resolve", "Resolve cases", form=form, cases=queryset)

    @admin.action(
        description="Link the CDR to a checkout (one unmatched CDR)", permissions=["settle"]
    )
    def link_cdr(self, request: HttpRequest, queryset: QuerySet[Case]) -> HttpResponse | None:
        """The operator names the checkout an unmatched CDR bills; it is then settled as if
        matched on arrival, and the case closes with who linked it."""
        cases = list(queryset[:2])
        case = cases[0] if len(cases) == 1 else None
        if case is None or case.kind != Case.Kind.UNMATCHED_CDR or case.cdr_id is None:
            self.message_user(request, "Choose one unmatched CDR to link.", messages.WARNING)
            return None
        form = LinkCdrForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            checkout = form.cleaned_data["checkout"]
            try:
                settlement.link_cdr(
                    cdr_pk=case.cdr_id, checkout_id=checkout.pk, by=request.user.get_username()
                )
            except settlement.LinkRefused as exc:
                self.message_user(request, f"Not linked: {exc}", messages.ERROR)
                return None
            self.log_change(request, case, f"Linked {case.cdr} to {checkout}; it is being settled")
            self.message_user(
                request, f"{case.cdr} linked to {checkout}; it is being settled", messages.SUCCESS
            )
            return None
        return self._action_page(
            request, "link_cdr", "Link a CDR to its checkout", form=form, case=case
        )

    def _action_page(
        self, request: HttpRequest, action: str, title: str, **context: Any
    ) -> TemplateResponse:
        """The intermediate page of an action that asks the operator something first."""
        context |= {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, f"admin/payments/case/{action}.html", context)

    @admin.action(
        description="Refund the driver (one case with a checkout)", permissions=["refund"]
    )
    def refund(self, request: HttpRequest, queryset: QuerySet[Case]) -> HttpResponse | None:
        cases = list(queryset[:2])
        checkout_id = cases[0].about_checkout if len(cases) == 1 else None
        if checkout_id is None:
            self.message_user(
                request, "Choose one case that is about a checkout to refund.", messages.WARNING
            )
            return None
        return HttpResponseRedirect(reverse("admin:payments_checkout_refund", args=[checkout_id]))

    @admin.action(description="Retry the capture (failed captures)", permissions=["settle"])
    def retry_capture(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        """Settles the case's CDR again: the capture's idempotency key and the ledger's unique
        keys make a retry move no money twice. The case stays open until resolved."""
        for case in queryset:
            cdr_id = case.cdr_id or (
                Cdr.objects.filter(checkout_id=case.about_checkout, credit=False)
                .order_by("-received_at")
                .values_list("pk", flat=True)
                .first()
            )
            if case.kind != Case.Kind.FAILED_CAPTURE or case.resolved_at or not cdr_id:
                self.message_user(
                    request, f"{case}: not an open failed capture with a CDR", messages.WARNING
                )
                continue
            enqueue_on_commit("payments.tasks.settle_cdr", cdr_id)
            self.log_change(request, case, f"Capture queued again (CDR {cdr_id})")
            self.message_user(
                request, f"{case}: capture queued again; resolve the case once it is settled"
            )

    @admin.action(description="Retry the refund (one failed refund)", permissions=["refund"])
    def retry_refund(self, request: HttpRequest, queryset: QuerySet[Case]) -> HttpResponse | None:
        """A refund Stripe refused no longer counts against what is refundable: the refund
        form opens with its amount and reason, under a new key; the case stays open."""
        cases = list(queryset[:2])
        case = cases[0] if len(cases) == 1 else None
        if case is None or case.kind != Case.Kind.FAILED_REFUND or not case.about_checkout:
            self.message_user(request, "Choose one failed refund to retry.", messages.WARNING)
            return None
        failed = (
            LedgerEntry.objects.filter(
                checkout_id=case.about_checkout, kind=LedgerEntry.Kind.FAILED_REFUND
            )
            .select_related("refund")
            .order_by("-created_at", "-pk")
            .first()
        )
        url = reverse("admin:payments_checkout_refund", args=[case.about_checkout])
        if failed is not None:
            reason = failed.refund.reason if failed.refund else ""
            url += "?" + urlencode({"reason": reason})
            self.message_user(
                request,
                f"The failed refund was {_money(failed.amount_minor, failed.currency)}: enter "
                "the amount to try again.",
                messages.INFO,
            )
        return HttpResponseRedirect(url)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """The append-only ledger, every checkout's movements together; sums per partner and day
    come from the settlement export."""

    list_display = ["booked", "kind", "amount", "checkout_link", "partner", "note", "stripe_id"]
    list_filter = ["kind", "currency", "checkout__partner"]
    search_fields = ["idempotency_key", "stripe_id", "checkout__authorization_reference"]
    date_hierarchy = "created_at"
    list_select_related = ["checkout__partner"]
    change_list_template = "admin/payments/ledgerentry/change_list.html"

    @admin.display(description="amount", ordering="amount_minor")
    def amount(self, entry: LedgerEntry) -> str:
        return str(Money.from_minor(entry.amount_minor, entry.currency))

    @admin.display(description="booked", ordering="created_at")
    def booked(self, entry: LedgerEntry) -> str:
        return _when(entry.created_at)

    @admin.display(description="checkout", ordering="checkout")
    def checkout_link(self, entry: LedgerEntry) -> str:
        return _link("checkout", entry.checkout_id, f"checkout {entry.checkout_id}")

    @admin.display(description="partner")
    def partner(self, entry: LedgerEntry) -> str:
        return entry.checkout.partner.name


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    """Chargebacks and inquiries as Stripe last reported them; the money is in the ledger, the
    work in the DISPUTE case, the evidence at Stripe."""

    list_display = [
        "opened_at",
        "dispute_id",
        "checkout",
        "amount",
        "reason",
        "status",
        "evidence_due_by",
        "closed_at",
    ]
    list_filter = ["status", "reason"]
    search_fields = ["dispute_id", "charge_id", "checkout__authorization_reference"]
    list_select_related = ["checkout"]

    @admin.display(description="amount", ordering="amount_minor")
    def amount(self, dispute: Dispute) -> str:
        return str(Money.from_minor(dispute.amount_minor, dispute.currency))


@admin.register(LogEntry)
class LogEntryAdmin(admin.ModelAdmin):
    """The admin's audit trail: every add, change and delete made in it, and every action and
    page that acts on a partner, a party, money or a case (invite, register, rotate, unregister,
    pull, party move, alias approval, refund, CDR link, capture retry, unlock, resolution,
    settlement download), with who, when, what and on which object. An object's "History"
    shows its own. Read only: nobody adds, edits or deletes an entry, a superuser neither."""

    list_display = ["action_time", "user", "action", "content_type", "object_link", "message"]
    list_filter = ["user", "content_type", "action_flag"]
    search_fields = ["object_repr", "object_id", "change_message", "user__username"]
    date_hierarchy = "action_time"
    list_select_related = ["user", "content_type"]
    fields = [
        "action_time",
        "user",
        "action",
        "content_type",
        "object_id",
        "object_link",
        "message",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="action", ordering="action_flag")
    def action(self, entry: LogEntry) -> str:
        return str(entry.get_action_flag_display())

    @admin.display(description="object")
    def object_link(self, entry: LogEntry) -> str:
        url = entry.get_admin_url() if entry.action_flag != DELETION else None
        if not url:
            return entry.object_repr
        return format_html('<a href="{}">{}</a>', url, entry.object_repr)

    @admin.display(description="what")
    def message(self, entry: LogEntry) -> str:
        return entry.get_change_message()


class TerminalForm(forms.ModelForm):
    """An operator's terminal for a group of one CPO party's locations (ids as the CPO
    publishes them, one a line); the CPO may change the assignment later by PATCH."""

    location_list = forms.CharField(
        label="Location ids", widget=forms.Textarea(attrs={"rows": 4}), required=False
    )

    class Meta:
        model = Terminal
        fields = [
            "partner",
            "country_code",
            "party_id",
            "label",
            "invoice_creator",
            "invoice_base_url",
        ]

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean()
        partner = data.get("partner")
        key = f"{data.get('country_code', '')}*{data.get('party_id', '')}".upper()
        if partner is not None and key not in partner.party_keys:
            raise forms.ValidationError(f"{partner} does not own the party {key}")
        return data


@admin.register(Terminal)
class TerminalAdmin(admin.ModelAdmin):
    """Our web checkout as each 2.3.0 connection's Payment Terminals: one per CPO party is made
    by itself; an operator may add one for a group of locations. What each serves is the CPO's
    to assign (PATCH); whether the CPO has it yet is `pushed at` (and the error if not)."""

    list_display = [
        "terminal_id",
        "partner",
        "party",
        "label",
        "active",
        "assigned",
        "invoice_creator",
        "pushed_at",
        "push_error",
    ]
    list_filter = ["partner", "active", "invoice_creator"]
    search_fields = ["terminal_id", "reference", "label", "location_ids", "evse_uids"]
    readonly_fields = [
        "terminal_id",
        "partner",
        "country_code",
        "party_id",
        "label",
        "reference",
        "customer_reference",
        "invoice_creator",
        "invoice_base_url",
        "location_ids",
        "evse_uids",
        "active",
        "address",
        "city",
        "postal_code",
        "country",
        "created_at",
        "last_updated",
        "pushed_at",
        "push_error",
    ]
    actions = ["push_again"]

    @admin.display(description="party")
    def party(self, terminal: Terminal) -> str:
        return f"{terminal.country_code}*{terminal.party_id}"

    @admin.display(description="assigned")
    def assigned(self, terminal: Terminal) -> str:
        parts = [f"locations {', '.join(terminal.location_ids)}" if terminal.location_ids else ""]
        parts.append(f"EVSEs {', '.join(terminal.evse_uids)}" if terminal.evse_uids else "")
        return "; ".join(p for p in parts if p) or "nothing yet"

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = TerminalForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return [*TerminalForm.Meta.fields, "location_list"]
        return self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Terminal, form: Any, change: bool) -> None:
        """Through the service (and on to the CPO), never a bare row; the form's errors are
        the service's refusals."""
        ids = [line.strip() for line in form.cleaned_data["location_list"].splitlines()]
        made = terminals.define_terminal(
            partner=obj.partner,
            country_code=obj.country_code,
            party_id=obj.party_id,
            label=obj.label,
            location_ids=[i for i in ids if i],
            invoice_creator=obj.invoice_creator,
            invoice_base_url=obj.invoice_base_url,
        )
        for field in Terminal._meta.concrete_fields:  # what the admin logs and shows next
            setattr(obj, field.attname, getattr(made, field.attname))

    @admin.action(description="Create at the CPO again (not taken yet)", permissions=["add"])
    def push_again(self, request: HttpRequest, queryset: QuerySet[Terminal]) -> None:
        for terminal in queryset.filter(pushed_at=None, active=True):
            enqueue_on_commit("payments.tasks.push_terminal", terminal.pk)
            self.log_change(request, terminal, "Sent to the CPO again")
        self.message_user(request, "Terminals the CPO has not taken are sent again.")


@admin.register(FinancialAdvice)
class FinancialAdviceAdmin(ReadOnlyAdmin):
    """Each Financial Advice Confirmation we sent a 2.3.0 CPO (one per capture, refund or
    failed capture), as a log: whether the CPO took it, how often it was tried, the last error.
    Unsent ones are retried by their deadline; an operator may send them again now."""

    list_display = [
        "last_updated",
        "advice_id",
        "partner",
        "checkout",
        "capture_status_code",
        "total_incl_vat",
        "currency",
        "sent_at",
        "attempts",
        "last_error",
    ]
    list_filter = ["partner", "capture_status_code", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["advice_id", "authorization_reference", "key"]
    readonly_fields = [f.name for f in FinancialAdvice._meta.fields]
    actions = ["send_again"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_settle_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(SETTLE_CDR)

    @admin.action(description="Send again now (not taken yet)", permissions=["settle"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[FinancialAdvice]) -> None:
        for item in queryset:
            if item.sent_at is not None:
                self.message_user(request, f"{item}: the CPO has it already", messages.WARNING)
                continue
            advice.retry_advice(advice_id=item.pk)
            self.log_change(request, item, "Sent to the CPO again")
            self.message_user(request, f"{item}: sent again")
