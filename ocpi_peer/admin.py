"""Operators manage OCPI partners here: invite (token A for a CPO), register with a CPO, rotate
tokens, unregister; move a party to another connection; check a connection (its findings fill
the compatibility profile); and read what each partner offers, which parties it owns, the
claims we refused, how healthy it is, and what we exchanged with it (the traffic log, which
nobody edits or deletes).

Each of those jobs needs its own permission (`ocpi_peer.manage_registration`,
`ocpi_peer.pull_partner`, `ocpi_peer.move_party`; checking a connection, which rewrites the
profile, `ocpi_peer.change_partner`), not only a staff account, and each leaves an entry in the
admin's log (who, when, which partner, what; never a token). Times are shown to the second in
the operator's time zone (TIME_ZONE), with its name."""

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ocpi_peer import compatibility, crypto, health, parties, registration, tasks
from ocpi_peer.forms import InviteForm, RegisterForm
from ocpi_peer.models import (
    CommandRequest,
    Partner,
    PartnerEndpoint,
    PartnerParty,
    PartnerToken,
    PartyEvent,
    PartyOwnership,
    SyncState,
    TrafficLog,
)

# django-stubs makes the admin classes generic in their model; Django's own classes cannot be
# subscripted at run time (django_stubs_ext.monkeypatch() would add that), so the typed bases are
# for mypy only and the classes below inherit the same Django classes as ever.
if TYPE_CHECKING:
    _PartyInlineBase = admin.TabularInline[PartnerParty, Partner]
    _OwnedInlineBase = admin.TabularInline[PartyOwnership, Partner]
    _EventInlineBase = admin.TabularInline[PartyEvent, Partner]
    _OwnershipAdminBase = admin.ModelAdmin[PartyOwnership]
    _EventAdminBase = admin.ModelAdmin[PartyEvent]
    _EndpointInlineBase = admin.TabularInline[PartnerEndpoint, Partner]
    _TokenInlineBase = admin.TabularInline[PartnerToken, Partner]
    _SyncStateInlineBase = admin.TabularInline[SyncState, Partner]
    _PartnerAdminBase = admin.ModelAdmin[Partner]
    _TrafficLogAdminBase = admin.ModelAdmin[TrafficLog]
    _CommandRequestAdminBase = admin.ModelAdmin[CommandRequest]
else:
    _PartyInlineBase = _EndpointInlineBase = _TokenInlineBase = _SyncStateInlineBase = (
        admin.TabularInline
    )
    _OwnedInlineBase = _EventInlineBase = admin.TabularInline
    _PartnerAdminBase = _TrafficLogAdminBase = _CommandRequestAdminBase = admin.ModelAdmin
    _OwnershipAdminBase = _EventAdminBase = admin.ModelAdmin


MANAGE_REGISTRATION = "ocpi_peer.manage_registration"
PULL_PARTNER = "ocpi_peer.pull_partner"
MOVE_PARTY = "ocpi_peer.move_party"


def moment(value: datetime | None) -> str:
    """A moment to the second in the operator's time zone (settings.TIME_ZONE), with its name."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname() or timezone.get_current_timezone_name()}"


def span(value: timedelta | None) -> str:
    """A duration an operator reads at a glance: "2.4 s", "3 min 5 s", "2 h 10 min", "3 d 4 h"."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    if whole < 86400:
        return f"{whole // 3600} h {whole % 3600 // 60} min"
    return f"{whole // 86400} d {whole % 86400 // 3600} h"


def require(request: HttpRequest, permission: str) -> None:
    """For the admin's own pages: `admin_view` lets in any staff user, so each page asks for
    the permission of its job and answers 403 without it."""
    if not request.user.has_perm(permission):
        raise PermissionDenied


class ShownOnly:
    """A connection's rows (parties, claims, endpoints, tokens, pulls) are written by services:
    the handshake, pulls, the party move. Its page only shows them."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PartyInline(ShownOnly, _PartyInlineBase):
    model = PartnerParty
    readonly_fields = ["role", "country_code", "party_id", "business_name", "website"]


def _hub_status(row: PartyOwnership) -> str:
    """What the owning connection's ClientInfo says of the party; a party without one is
    payable as if CONNECTED."""
    info = parties.client_info(
        partner=row.partner, country_code=row.country_code, party_id=row.party_id
    )
    if info is None:
        return "none sent (taken as connected)"
    return f"{info.status} (as of {info.last_updated:%Y-%m-%d %H:%M} UTC)"


class OwnedPartyInline(ShownOnly, _OwnedInlineBase):
    """The parties this connection owns; "move" gives one to another connection."""

    model = PartyOwnership
    fields = ("country_code", "party_id", "since", "hub_status", "move_link")
    readonly_fields = fields
    verbose_name_plural = "parties it owns"

    @admin.display(description="ClientInfo status")
    def hub_status(self, row: PartyOwnership) -> str:
        return _hub_status(row)

    @admin.display(description="")
    def move_link(self, row: PartyOwnership) -> str:
        url = reverse("admin:ocpi_peer_partyownership_change", args=[row.pk])
        return format_html('<a href="{}">move to another connection…</a>', url)


class PartyEventInline(ShownOnly, _EventInlineBase):
    """Claims of this connection (first, refused) and parties moved to it."""

    model = PartyEvent
    fk_name = "partner"
    fields = ("at", "kind", "country_code", "party_id", "owner", "by", "note")
    readonly_fields = fields
    verbose_name_plural = "party claims and moves"


class RefusedClaimInline(ShownOnly, _EventInlineBase):
    """Other connections that claimed one of this connection's parties and were refused."""

    model = PartyEvent
    fk_name = "owner"
    fields = ("at", "kind", "country_code", "party_id", "partner_name", "by", "note")
    readonly_fields = fields
    verbose_name_plural = "claims on its parties by other connections"

    def get_queryset(self, request: HttpRequest) -> QuerySet[PartyEvent]:
        return super().get_queryset(request).filter(kind=PartyEvent.Kind.REFUSED)


class EndpointInline(ShownOnly, _EndpointInlineBase):
    model = PartnerEndpoint
    readonly_fields = ["module", "role", "url"]


class TokenInline(ShownOnly, _TokenInlineBase):
    """Tokens we issued to the partner, masked: enough to tell two apart, not to use one."""

    model = PartnerToken
    fields = ("masked", "kind", "created_at", "expires_at", "revoked_at")
    readonly_fields = fields
    verbose_name_plural = "tokens we issued to them"

    @admin.display(description="token")
    def masked(self, token: PartnerToken) -> str:
        return crypto.mask(token.plain)


class SyncStateInline(ShownOnly, _SyncStateInlineBase):
    """How pulling each module from this partner went (T-08)."""

    model = SyncState
    fields = ("module", "last_run_at", "last_ok", "last_result", "received", "written", "rejected")
    readonly_fields = fields
    verbose_name_plural = "pulls"


@admin.register(Partner)
class PartnerAdmin(_PartnerAdminBase):
    list_display = [
        "name",
        "status",
        "version",
        "parties_list",
        "missing",
        "last_ok_out_column",
        "last_ok_in_column",
        "errors_column",
        "problem",
    ]
    list_filter = ["status", "version"]
    search_fields = ["name", "parties__party_id", "versions_url"]
    readonly_fields = [
        "status",
        "version",
        "versions_url",
        "their_token",
        "inbound_token_base64",
        "missing_modules",
        "last_contact_at",
        "registered_at",
        "created_at",
        "last_error",
        "traffic_link",
        "health_report",
        "checked_at",
        "compatibility_report",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "status",
                    "version",
                    "versions_url",
                    "registered_at",
                    "created_at",
                ]
            },
        ),
        (
            "Health",
            {
                "fields": [
                    "health_report",
                    "last_contact_at",
                    "last_error",
                    "missing_modules",
                    "traffic_link",
                ]
            },
        ),
        ("Tokens", {"fields": ["their_token", "inbound_token_base64"]}),
        (
            "Compatibility profile",
            {
                "fields": [
                    "checked_at",
                    "compatibility_report",
                    "send_token_base64",
                    "add_trailing_slash",
                    "max_page_size",
                    "send_routing_headers",
                ],
                "description": "Each switch relaxes one point of OCPI for a CPMS that bends it. "
                "“Check connection” calls the partner and fills in what it found.",
            },
        ),
    ]
    inlines = [
        PartyInline,
        OwnedPartyInline,
        PartyEventInline,
        RefusedClaimInline,
        EndpointInline,
        SyncStateInline,
        TokenInline,
    ]
    actions = ["check_connection", "pull_now", "rotate", "unregister"]
    change_list_template = "admin/ocpi_peer/partner/change_list.html"
    change_form_template = "admin/ocpi_peer/partner/change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # partners come from "invite" or "register", which do the handshake

    def has_pull_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PULL_PARTNER)

    def has_manage_registration_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(MANAGE_REGISTRATION)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Partner]:
        partners = super().get_queryset(request).prefetch_related("parties", "owned_parties")
        return health.with_traffic_health(partners, now=timezone.now())

    @admin.display(description="our last good call", ordering="last_ok_out")
    def last_ok_out_column(self, partner: Partner) -> str:
        return moment(getattr(partner, "last_ok_out", None))

    @admin.display(description="their last good call", ordering="last_ok_in")
    def last_ok_in_column(self, partner: Partner) -> str:
        return moment(getattr(partner, "last_ok_in", None))

    @admin.display(description="errors 24 h (ours · theirs)")
    def errors_column(self, partner: Partner) -> str:
        ours = health.Rate(getattr(partner, "failed_out", 0), getattr(partner, "calls_out", 0))
        theirs = health.Rate(getattr(partner, "failed_in", 0), getattr(partner, "calls_in", 0))
        return f"{ours} · {theirs}"

    @admin.display(description="health")
    def health_report(self, partner: Partner) -> SafeString:
        """Everything of `ocpi_peer.health` for this partner, as a table."""
        now = timezone.now()
        found = health.health_of([partner.pk], now=now)[partner.pk]
        lags = found.sync_lag(now)
        traffic = reverse("admin:ocpi_peer_trafficlog_changelist")
        rows: list[tuple[str, str]] = [
            ("our last successful call to them", moment(found.last_ok_out)),
            ("their last successful call to us", moment(found.last_ok_in)),
            ("errors of our calls, last 24 h", str(found.errors_out)),
            ("errors of their calls, last 24 h", str(found.errors_in)),
            *(
                (f"sync lag, {module}", span(lag) if lag is not None else "never pulled")
                for module, lag in lags.items()
            ),
            ("START_SESSION accepted, last 30 days", str(found.start_success)),
            ("median START_SESSION to its result", span(found.start_latency)),
            ("open cases", str(found.open_cases)),
        ]
        table = format_html_join("", "<tr><th scope='row'>{}</th><td>{}</td></tr>", rows)
        link = format_html(
            '<a href="{}?partner__id__exact={}&amp;direction__exact=out">our calls</a> · '
            '<a href="{}?partner__id__exact={}&amp;direction__exact=in">their calls</a>',
            traffic,
            partner.pk,
            traffic,
            partner.pk,
        )
        return format_html('<table id="partner-health">{}</table><p>{}</p>', table, link)

    @admin.display(description="last checked")
    def checked_at(self, partner: Partner) -> str:
        return moment(partner.compatibility_checked_at)

    @admin.display(description="findings of the last check")
    def compatibility_report(self, partner: Partner) -> SafeString:
        findings = partner.compatibility_findings or []
        if not findings:
            return format_html("{}", "not checked yet: use “Check connection”")
        rows = format_html_join(
            "",
            "<tr><th scope='row'>{}</th><td>{}</td><td>{}</td></tr>",
            (
                (
                    f.get("check", ""),
                    f.get("seen", ""),
                    "failed" if f.get("failed") else "unusual" if f.get("unusual") else "as OCPI",
                )
                for f in findings
            ),
        )
        return format_html('<table id="compatibility-findings">{}</table>', rows)

    @admin.display(description="parties")
    def parties_list(self, partner: Partner) -> str:
        """Their roles; a listed party another connection owns is marked as not theirs."""
        owned = {row.key for row in partner.owned_parties.all()}
        return ", ".join(
            f"{p.country_code}*{p.party_id} {p.role}"
            + ("" if f"{p.country_code}*{p.party_id}" in owned else " (not theirs)")
            for p in partner.parties.all()
        )

    @admin.display(description="missing modules")
    def missing(self, partner: Partner) -> str:
        return ", ".join(partner.missing_modules)

    @admin.display(description="last error")
    def problem(self, partner: Partner) -> str:
        return partner.last_error[:80]

    @admin.display(description="their token (we call them with it)")
    def their_token(self, partner: Partner) -> str:
        return crypto.mask(partner.token) if partner.token_encrypted else "—"

    @admin.display(description="traffic")
    def traffic_link(self, partner: Partner) -> str:
        url = reverse("admin:ocpi_peer_trafficlog_changelist") + f"?partner__id__exact={partner.pk}"
        return format_html('<a href="{}">{} requests</a>', url, partner.traffic.count())

    @admin.action(
        description="Check connection (versions, credentials, a page of locations)",
        permissions=["change"],
    )
    def check_connection(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        for partner in queryset:
            self._check(request, partner)

    def _check(self, request: HttpRequest, partner: Partner) -> None:
        checked = compatibility.check_connection(partner_id=partner.pk)
        findings = checked.compatibility_findings
        failed = [f["check"] for f in findings if f.get("failed")]
        unusual = [f["check"] for f in findings if f.get("unusual") and not f.get("failed")]
        summary = (
            f"failed at {', '.join(failed)}"
            if failed
            else f"works; unusual: {', '.join(unusual) or 'nothing'}"
        )
        self.log_change(request, partner, f"Connection checked: {summary}")
        level = messages.ERROR if failed else messages.SUCCESS
        self.message_user(request, f"{partner}: connection checked, {summary}", level)

    def check_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The change page's "Check connection" button (POST only: it calls the partner)."""
        partner = get_object_or_404(Partner, pk=object_id)
        if not self.has_change_permission(request, partner):
            raise PermissionDenied
        if request.method == "POST":
            self._check(request, partner)
        return HttpResponseRedirect(reverse("admin:ocpi_peer_partner_change", args=[partner.pk]))

    @admin.action(description="Pull locations and tariffs now", permissions=["pull"])
    def pull_now(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        for partner in queryset:
            if not partner.is_registered:
                self.message_user(request, f"{partner}: not registered", messages.WARNING)
                continue
            pulled = [
                module
                for module in ("locations", "tariffs", "hubclientinfo")
                if partner.endpoint(module, "SENDER") is not None
            ]
            for module in pulled:
                tasks.pull_module.delay(partner.pk, module)
            self.log_change(request, partner, f"Pull queued: {', '.join(pulled) or 'nothing'}")
            self.message_user(request, f"{partner}: pull queued; its result shows under Pulls")

    @admin.action(
        description="Re-register: rotate tokens (credentials PUT)",
        permissions=["manage_registration"],
    )
    def rotate(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        for partner in queryset:
            try:
                registration.rotate_credentials(partner=partner)
            except registration.RegistrationError as exc:
                self.log_change(request, partner, f"Token rotation failed: {exc.message}")
                self.message_user(request, f"{partner}: {exc.message}", messages.ERROR)
            else:
                self.log_change(request, partner, "Tokens rotated (credentials PUT)")
                self.message_user(request, f"{partner}: tokens rotated", messages.SUCCESS)

    @admin.action(
        description="Unregister (credentials DELETE)", permissions=["manage_registration"]
    )
    def unregister(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        for partner in queryset:
            note = registration.unregister_partner(partner=partner)
            self.log_change(request, partner, f"Unregistered (credentials DELETE): {note}")
            level = messages.SUCCESS if note == "we unregistered" else messages.WARNING
            self.message_user(request, f"{partner}: {note}", level)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "invite/",
                self.admin_site.admin_view(self.invite_view),
                name="ocpi_peer_partner_invite",
            ),
            path(
                "register/",
                self.admin_site.admin_view(self.register_view),
                name="ocpi_peer_partner_register",
            ),
            path(
                "<int:object_id>/check/",
                self.admin_site.admin_view(self.check_view),
                name="ocpi_peer_partner_check",
            ),
            *super().get_urls(),
        ]

    def invite_view(self, request: HttpRequest) -> HttpResponse:
        """Shows token A once, on this page only: it is never stored in messages, the log or
        shown again."""
        require(request, MANAGE_REGISTRATION)
        form = InviteForm(request.POST or None)
        context = {**self.admin_site.each_context(request), "title": "Invite a CPO", "form": form}
        if request.method == "POST" and form.is_valid():
            partner, token_a = registration.invite_partner(name=form.cleaned_data["name"])
            self.log_addition(request, partner, "Invited: token A minted and shown once")
            context |= {
                "partner": partner,
                "token_a": token_a,
                "versions_url": registration.our_versions_url(),
            }
        return TemplateResponse(request, "admin/ocpi_peer/partner/invite.html", context)

    def register_view(self, request: HttpRequest) -> HttpResponse:
        require(request, MANAGE_REGISTRATION)
        form = RegisterForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                partner = registration.register_with_cpo(**form.cleaned_data)
            except registration.RegistrationError as exc:
                form.add_error(None, f"Registration failed (OCPI {int(exc.status)}): {exc.message}")
            else:
                self.log_addition(
                    request,
                    partner,
                    f"Registered with {partner.versions_url} (OCPI {partner.version})",
                )
                self.message_user(
                    request, f"Registered with {partner} (OCPI {partner.version})", messages.SUCCESS
                )
                return HttpResponseRedirect(
                    reverse("admin:ocpi_peer_partner_change", args=[partner.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Register with a CPO",
            "form": form,
        }
        return TemplateResponse(request, "admin/ocpi_peer/partner/register.html", context)


# The OCPI modules an operator looks for in the traffic log (module ids, OCPI 2.1.1 to 2.3.0).
MODULES = [
    "versions",
    "credentials",
    "locations",
    "tariffs",
    "sessions",
    "cdrs",
    "tokens",
    "commands",
    "hubclientinfo",
    "chargingprofiles",
    "payments",
]


class ModuleFilter(admin.SimpleListFilter):
    """The module a request was about: a path segment of its URL (ours and the partners' URLs
    name the module, whatever comes before it)."""

    title = "module"
    parameter_name = "module"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(module, module) for module in MODULES]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[TrafficLog]
    ) -> QuerySet[TrafficLog]:
        module = self.value()
        if module not in MODULES:
            return queryset
        return queryset.filter(url__iregex=rf"/{module}(/|\?|$)")


class InputFilter(admin.ListFilter):
    """A filter the operator types into (the admin has none): a small GET form that keeps the
    other filters. A value it cannot read is shown as such and filters nothing."""

    template = "admin/ocpi_peer/trafficlog/input_filter.html"
    fields: list[tuple[str, str]] = []  # (parameter, label)
    placeholder = ""

    def __init__(
        self, request: HttpRequest, params: dict[str, Any], model: Any, model_admin: Any
    ) -> None:
        super().__init__(request, params, model, model_admin)
        for name, _ in self.fields:
            if name in params:
                value = params.pop(name)
                self.used_parameters[name] = (
                    value[-1] if isinstance(value, list) else value
                ).strip()

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str | None]:
        return [name for name, _ in self.fields]

    def read(self, name: str) -> Any:
        """The parameter's value as the filter uses it; None when absent or unreadable."""
        return self.used_parameters.get(name) or None

    def choices(self, changelist: Any) -> Any:
        mine = set(self.expected_parameters())
        yield {
            "fields": [
                {
                    "name": name,
                    "label": label,
                    "value": self.used_parameters.get(name, ""),
                    "bad": bool(self.used_parameters.get(name)) and self.read(name) is None,
                }
                for name, label in self.fields
            ],
            "placeholder": self.placeholder,
            "hidden": [
                (key, value)
                for key, values in self.request.GET.lists()
                for value in values
                if key not in mine and key not in ("p", "e")
            ],
        }


class CorrelationFilter(InputFilter):
    title = "correlation id"
    fields = [("correlation", "correlation id")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[TrafficLog]
    ) -> QuerySet[TrafficLog]:
        value = self.read("correlation")
        return queryset.filter(correlation_id=value) if value else queryset


class TimeRangeFilter(InputFilter):
    """From and until a moment to the second, read in the operator's time zone unless it says
    its own offset; "until" is inclusive of its second."""

    title = "time"
    fields = [("since", "from"), ("until", "until")]
    placeholder = "YYYY-MM-DD HH:MM:SS"

    def read(self, name: str) -> datetime | None:
        text = str(self.used_parameters.get(name, ""))
        try:
            moment = parse_datetime(text) if text else None
            if moment is not None and timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
            if moment is not None:
                moment.astimezone(UTC)  # as the database will be asked: year 1 in Berlin is not
        except (ValueError, OverflowError):  # e.g. the 31st of November, or before year 1
            return None
        return moment

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[TrafficLog]
    ) -> QuerySet[TrafficLog]:
        since, until = self.read("since"), self.read("until")
        if since is not None:
            queryset = queryset.filter(created_at__gte=since)
        if until is not None:  # to the end of its second, unless it names a fraction
            last = until.replace(microsecond=999999) if until.microsecond == 0 else until
            queryset = queryset.filter(created_at__lte=last)
        return queryset


def full_url(row: TrafficLog) -> str:
    """What was called: ours are logged as a path, theirs as the URL we called."""
    if row.direction == TrafficLog.Direction.IN and row.url.startswith("/"):
        return f"{settings.PUBLIC_BASE_URL}{row.url}"
    return row.url


def readable_body(body: str) -> str:
    """A body as JSON laid out for reading; as it was when it is not JSON (or was cut short).
    Bodies are stored scrubbed of tokens (`traffic.scrub`), so nothing here can show one."""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


@admin.register(TrafficLog)
class TrafficLogAdmin(_TrafficLogAdminBase):
    """The traffic log, read-only for everyone (a record of what was exchanged is kept, not
    edited): filters by partner, module, direction, statuses, correlation id and time to the
    second; one exchange shows its request and answer side by side."""

    list_display = [
        "when",
        "partner",
        "direction",
        "method",
        "full_url",
        "http_status",
        "ocpi_status",
        "duration_ms",
        "correlation",
    ]
    list_display_links = ["when"]
    list_filter = [
        "partner",
        ModuleFilter,
        "direction",
        "http_status",
        "ocpi_status",
        CorrelationFilter,
        TimeRangeFilter,
    ]
    search_fields = ["url", "request_id", "correlation_id"]
    list_select_related = ["partner"]
    fields = (
        "when",
        "partner",
        "direction",
        "method",
        "full_url",
        "http_status",
        "ocpi_status",
        "duration_ms",
        "request_id",
        "correlation",
        "error",
    )
    readonly_fields = fields
    change_form_template = "admin/ocpi_peer/trafficlog/change_form.html"
    change_list_template = "admin/ocpi_peer/trafficlog/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TrafficLog | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: TrafficLog | None = None) -> bool:
        return False  # kept for disputes; the purge task ends rows after 90 days

    @admin.display(description="when", ordering="created_at")
    def when(self, row: TrafficLog) -> str:
        return moment(row.created_at)

    @admin.display(description="URL", ordering="url")
    def full_url(self, row: TrafficLog) -> str:
        return full_url(row)

    @admin.display(description="correlation id", ordering="correlation_id")
    def correlation(self, row: TrafficLog) -> str:
        if not row.correlation_id:
            return "—"
        url = reverse("admin:ocpi_peer_trafficlog_changelist")
        return format_html(
            '<a href="{}?correlation={}" title="every exchange of this correlation">{}</a>',
            url,
            row.correlation_id,
            row.correlation_id,
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        row = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if row is not None:
            context["exchange"] = {
                "request_line": f"{row.method} {full_url(row)}",
                "request_body": readable_body(row.request_body),
                "answer_line": (
                    f"HTTP {row.http_status or '—'} · OCPI {row.ocpi_status or '—'} · "
                    f"{row.duration_ms} ms"
                ),
                "answer_body": readable_body(row.response_body),
                "error": row.error,
                "direction": row.get_direction_display(),
            }
        return super().change_view(request, object_id, form_url, context)


@admin.register(CommandRequest)
class CommandRequestAdmin(_CommandRequestAdminBase):
    """Every command with its request, CommandResponse, CommandResult and timing."""

    list_display = [
        "created_at",
        "command",
        "partner",
        "checkout",
        "response_result",
        "result",
        "late",
        "took",
    ]
    list_filter = ["command", "response_result", "result", "partner"]
    search_fields = ["callback_id", "checkout__public_id"]
    readonly_fields = [f.name for f in CommandRequest._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: CommandRequest | None = None
    ) -> bool:
        return False

    @admin.display(description="result after")
    def took(self, command: CommandRequest) -> str:
        if command.sent_at and command.result_at:
            return f"{(command.result_at - command.sent_at).total_seconds():.1f} s"
        return "—"


class MovePartyForm(forms.ModelForm):  # type: ignore[type-arg]
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why (e.g. the CPO now connects through a hub); kept in the audit record.",
    )

    class Meta:
        model = PartyOwnership
        fields = ["partner"]
        labels = {"partner": "owning connection"}
        help_texts = {
            "partner": "Choose the connection this party moves to. Its locations and tariffs "
            "move with it; the connection it leaves can no longer write under it."
        }

    def clean_partner(self) -> Partner:
        partner: Partner = self.cleaned_data["partner"]
        if self.instance.pk and partner.pk == self.instance.partner_id:  # not yet changed
            raise forms.ValidationError("the party already belongs to this connection")
        return partner


@admin.register(PartyOwnership)
class PartyOwnershipAdmin(_OwnershipAdminBase):
    """Who owns each party. Changing the owner is a move (`ocpi_peer.parties.move_party`),
    recorded with who did it and when."""

    form = MovePartyForm
    list_display = ["__str__", "partner", "since", "hub_status"]
    list_filter = ["partner"]
    search_fields = ["party_id", "country_code", "partner__name"]
    readonly_fields = ["country_code", "party_id", "since"]
    fields = ["country_code", "party_id", "since", "partner", "note"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a handshake claims a party

    def has_change_permission(
        self, request: HttpRequest, obj: PartyOwnership | None = None
    ) -> bool:
        return request.user.has_perm(MOVE_PARTY)  # a change here is a move

    @admin.display(description="ClientInfo status")
    def hub_status(self, row: PartyOwnership) -> str:
        return _hub_status(row)

    def has_delete_permission(
        self, request: HttpRequest, obj: PartyOwnership | None = None
    ) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: PartyOwnership, form: Any, change: bool
    ) -> None:
        parties.move_party(
            country_code=obj.country_code,
            party_id=obj.party_id,
            to=obj.partner,
            by=request.user.get_username(),
            note=form.cleaned_data.get("note", ""),
        )
        obj.refresh_from_db()

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> list[dict[str, dict[str, list[str]]]]:
        """What the log keeps of a move: from which connection to which, and why."""
        old = Partner.objects.filter(pk=form.initial.get("partner")).first()
        note = form.cleaned_data.get("note", "")
        moved = f"owner (moved from {old} to {form.cleaned_data['partner']})"
        return [{"changed": {"fields": [f"{moved}: {note}" if note else moved]}}]


@admin.register(PartyEvent)
class PartyEventAdmin(_EventAdminBase):
    """The audit trail: parties claimed, claims refused (a connection tried to take a party
    another holds) and operators' moves."""

    list_display = ["at", "kind", "__str__", "partner_name", "owner", "by", "note"]
    list_filter = ["kind"]
    search_fields = ["party_id", "partner_name", "note"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in PartyEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PartyEvent | None = None) -> bool:
        return False
