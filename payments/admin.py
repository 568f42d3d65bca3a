"""Operators follow every checkout: its state, the money held and moved, the EVSE and partner,
the Stripe ids; and set each CPO party's commercial terms."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from ocpi_peer.models import CommandRequest
from payments import charging, tasks
from payments.models import (
    Cdr,
    ChargingSession,
    Checkout,
    CpoTerms,
    Deadline,
    LedgerEntry,
    StripeEvent,
)
from payments.money import Money


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LedgerInline(ReadOnlyInline):
    model = LedgerEntry
    fields = ["created_at", "kind", "amount", "stripe_id", "idempotency_key", "merchant"]
    readonly_fields = fields

    @admin.display(description="amount")
    def amount(self, entry: LedgerEntry) -> str:
        return str(Money.from_minor(entry.amount_minor, entry.currency))


class CommandInline(ReadOnlyInline):
    model = CommandRequest
    fields = [
        "command",
        "created_at",
        "sent_at",
        "attempts",
        "response_result",
        "result",
        "late",
        "error",
    ]
    readonly_fields = fields
    show_change_link = True


class SessionInline(ReadOnlyInline):
    model = ChargingSession
    fields = [
        "session_id",
        "status",
        "kwh",
        "total_cost_incl_vat",
        "start",
        "end",
        "last_updated",
        "flag",
    ]
    readonly_fields = fields


class DeadlineInline(ReadOnlyInline):
    model = Deadline
    fields = ["kind", "due_at", "done_at"]
    readonly_fields = fields


@admin.register(Checkout)
class CheckoutAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "status",
        "payment_status",
        "held",
        "evse",
        "partner",
        "stripe_payment_intent",
    ]
    list_filter = ["status", "payment_status", "partner"]
    search_fields = ["public_id", "stripe_payment_intent", "stripe_setup_intent", "evse__evse_id"]
    date_hierarchy = "created_at"
    inlines = [SessionInline, CommandInline, LedgerInline, DeadlineInline]
    actions = ["unlock_connector"]
    fields = [
        "status",
        "payment_status",
        "partner",
        "evse",
        "connector",
        "held",
        "price_shown",
        "card",
        "declines",
        "failure_reason",
        "flag",
        "authorization_reference",
        "start_unconfirmed",
        "stop_requested_at",
        "stop_reason",
        "stripe_setup_intent",
        "stripe_payment_intent",
        "merchant",
        "locale",
        "has_email",
        "created_at",
        "authorized_at",
        "ended_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # state moves through services (refunds and exceptions get their own actions)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # accounting records are kept

    @admin.action(description="Unlock the connector (UNLOCK_CONNECTOR, for support staff)")
    def unlock_connector(self, request: HttpRequest, queryset: QuerySet[Checkout]) -> None:
        for checkout in queryset:
            command_id = charging.begin_unlock(checkout_id=checkout.pk)
            tasks.send_command.delay(command_id)
            self.message_user(
                request, f"{checkout}: unlock sent; its answer shows under Commands", messages.INFO
            )

    @admin.display(description="held")
    def held(self, checkout: Checkout) -> str:
        return f"{checkout.hold_amount:.2f} {checkout.currency}"

    @admin.display(description="price shown")
    def price_shown(self, checkout: Checkout) -> str:
        return " · ".join(checkout.tariff_snapshot.get("lines", []))

    @admin.display(description="card")
    def card(self, checkout: Checkout) -> str:
        return f"{checkout.card_brand} …{checkout.card_last4}" if checkout.card_last4 else "—"

    @admin.display(description="receipt e-mail", boolean=True)
    def has_email(self, checkout: Checkout) -> bool:
        return bool(checkout.email)  # the address itself is for the receipt only


@admin.register(CpoTerms)
class CpoTermsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "default_hold"]
    search_fields = ["country_code", "party_id"]


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
        "total_cost_incl_vat",
        "last_updated",
        "flag",
    ]
    list_filter = ["status", "partner", ("checkout", admin.EmptyFieldListFilter)]
    search_fields = ["session_id", "authorization_reference", "token_uid", "auth_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Cdr)
class CdrAdmin(admin.ModelAdmin):
    """Every CDR as received; the flagged ones (unmatched, conflicting) need an operator."""

    list_display = [
        "cdr_id",
        "partner",
        "checkout",
        "total_cost_incl_vat",
        "total_energy",
        "credit",
        "received_at",
        "flag",
    ]
    list_filter = ["partner", "credit", ("checkout", admin.EmptyFieldListFilter)]
    search_fields = ["cdr_id", "authorization_reference", "token_uid", "auth_id", "session_id"]
    readonly_fields = [f.name for f in Cdr._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # CDRs are immutable and kept as accounting records
