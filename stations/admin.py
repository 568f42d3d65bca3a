"""Operators browse what CPOs offer: locations with their EVSEs and connectors, and tariffs as
drivers read them, filtered by partner, city and status; and print QR stickers for chargers."""

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html_join

from stations import evse_ids, pricing, stickers, tariffs, wording
from stations.models import Connector, Evse, EvseIdAlias, Location, Tariff


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the code that owns them (station data by OCPI, money records by
    the payment services), never by hand here; records are kept."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EvseInline(admin.TabularInline):
    model = Evse
    extra = 0
    fields = ["evse_id", "uid", "status", "connector_list", "capabilities", "last_updated"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="connectors")
    def connector_list(self, evse: Evse) -> str:
        return format_html_join(
            "", "<div>{}</div>", ((_describe_connector(c),) for c in evse.connectors.all())
        )


def _describe_connector(connector: Connector) -> str:
    power = tariffs.connector_power_kw(connector)
    kw = f" {power.normalize():f} kW" if power is not None else ""
    tariff_ids = ", ".join(connector.tariff_ids) or "no tariff"
    kind = f"{connector.standard} {connector.format.lower()}{kw}"
    return f"{connector.connector_id}: {kind} ({tariff_ids})"


class PartnerCityFilter(admin.SimpleListFilter):
    title = "city"
    parameter_name = "city"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        cities = Location.objects.order_by("city").values_list("city", flat=True).distinct()[:200]
        return [(city, city) for city in cities]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value():
            return queryset.filter(city=self.value())
        return queryset


@admin.register(Location)
class LocationAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "ocpi_id",
        "city",
        "country",
        "partner",
        "evse_count",
        "last_updated",
    ]
    list_filter = ["partner", PartnerCityFilter, "evses__status", "publish"]
    search_fields = ["ocpi_id", "name", "address", "city", "evses__evse_id"]
    inlines = [EvseInline]
    exclude = ["partner"]
    actions = ["print_stickers"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Location]:
        return super().get_queryset(request).annotate(evse_count=Count("evses", distinct=True))

    @admin.action(description="Print QR stickers (PDF)", permissions=["view"])
    def print_stickers(self, request: HttpRequest, queryset: QuerySet[Location]) -> HttpResponse:
        """A sheet with a sticker for every EVSE of the chosen locations (`stations.stickers`)."""
        evses = Evse.objects.filter(location__in=queryset).select_related("location__partner")
        return sticker_download(evses, "locations")

    @admin.display(description="EVSEs", ordering="evse_count")
    def evse_count(self, location: Location) -> int:
        return location.evse_count  # type: ignore[attr-defined]


def sticker_download(evses: Iterable[Evse], name: str) -> HttpResponse:
    """The sticker sheet of `evses` as a PDF download."""
    pdf = stickers.sticker_sheet(stickers.stickers_for(evses))
    return HttpResponse(
        pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="qr-stickers-{name}.pdf"'},
    )


class ConnectorInline(admin.TabularInline):
    model = Connector
    extra = 0
    fields = [
        "connector_id",
        "standard",
        "format",
        "power_type",
        "max_voltage",
        "max_amperage",
        "max_electric_power",
        "tariff_ids",
        "last_updated",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ForeignIdFilter(admin.SimpleListFilter):
    title = "ID names another operator"
    parameter_name = "foreign_id"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "yes, not approved: not payable")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(pk__in=evse_ids.foreign_evses(Evse.objects.all()).values("pk"))
        return queryset


@admin.register(Evse)
class EvseAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "status", "location", "publisher", "id_operator", "last_updated"]
    list_filter = ["status", "location__partner", ForeignIdFilter]
    search_fields = ["evse_id", "uid", "location__name", "location__city"]
    readonly_fields = ["id_operator"]
    inlines = [ConnectorInline]
    actions = ["approve_id_operator"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Evse]:
        return super().get_queryset(request).select_related("location__partner")

    @admin.display(description="published by")
    def publisher(self, evse: Evse) -> str:
        location = evse.location
        return f"{location.country_code}*{location.party_id} ({location.partner.name})"

    @admin.display(description="operator in its ID")
    def id_operator(self, evse: Evse) -> str:
        named = evse_ids.operator_of(evse.lookup_key)
        if named is None:
            return "— (not an eMI3 ID)"
        if evse_ids.foreign_operator(evse) is not None:
            return f"{named}: not the publisher's, not approved (not payable)"
        return str(named)

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("stations.add_evseidalias")

    @admin.action(
        description="Approve: their publishers may publish the operator their IDs name",
        permissions=["approve"],
    )
    def approve_id_operator(self, request: HttpRequest, queryset: QuerySet[Evse]) -> None:
        """For a CPO that owns the operator id its EVSE IDs name (checked outside this
        platform): its EVSEs with such IDs become payable."""
        by = request.user.get_username()
        for evse in queryset.select_related("location"):
            named = evse_ids.foreign_operator(evse)
            if named is None:
                continue
            location = evse.location
            alias = evse_ids.approve_alias(
                country_code=location.country_code,
                party_id=location.party_id,
                operator=named,
                by=by,
                note=f"approved from EVSE {evse.evse_id}",
            )
            self.log_addition(request, alias, f"Approved from EVSE {evse.evse_id}")
            self.message_user(
                request,
                f"{location.country_code}*{location.party_id} may now publish IDs of {named}.",
                messages.SUCCESS,
            )


class EvseIdAliasForm(forms.ModelForm):
    operator = forms.CharField(
        max_length=8, help_text="the operator the EVSE IDs name, as printed: NL*ABC"
    )

    class Meta:
        model = EvseIdAlias
        fields = ["country_code", "party_id", "note"]

    def clean_operator(self) -> evse_ids.Operator:
        named = evse_ids.parse_operator(self.cleaned_data["operator"])
        if named is None:
            raise forms.ValidationError("two letters and three letters or digits, e.g. NL*ABC")
        return named


@admin.register(EvseIdAlias)
class EvseIdAliasAdmin(admin.ModelAdmin):
    """Approvals are added and withdrawn, never edited: who approved what, and when, stays."""

    form = EvseIdAliasForm
    list_display = ["__str__", "approved_by", "approved_at", "note"]
    search_fields = ["country_code", "party_id", "operator_prefix"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["country_code", "party_id", "operator", "note"]
        return ["country_code", "party_id", "operator_prefix", "note", "approved_by", "approved_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.get_fields(request, obj) if obj is not None else []

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: EvseIdAlias, form: Any, change: bool) -> None:
        saved = evse_ids.approve_alias(
            country_code=form.cleaned_data["country_code"],
            party_id=form.cleaned_data["party_id"],
            operator=form.cleaned_data["operator"],
            by=request.user.get_username(),
            note=form.cleaned_data.get("note", ""),
        )
        for field in EvseIdAlias._meta.concrete_fields:  # what the admin logs and shows next
            setattr(obj, field.attname, getattr(saved, field.attname))

    def delete_model(self, request: HttpRequest, obj: EvseIdAlias) -> None:
        evse_ids.withdraw_alias(alias_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[EvseIdAlias]) -> None:
        for pk in queryset.values_list("pk", flat=True):
            evse_ids.withdraw_alias(alias_id=pk)


@admin.register(Tariff)
class TariffAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "type",
        "currency",
        "as_drivers_see_it",
        "valid",
        "retired",
        "last_updated",
    ]
    list_filter = ["partner", "type", "currency", "deleted_at"]
    search_fields = ["ocpi_id", "party_id"]
    readonly_fields = ["as_drivers_see_it", "flags"]

    @admin.display(description="as drivers see it")
    def as_drivers_see_it(self, tariff: Tariff) -> str:
        try:
            lines = wording.describe_tariff(tariffs.to_pricing(tariff, time_zone=None), "en")
        except (pricing.TariffError, ValueError, KeyError, TypeError) as error:
            return f"cannot be shown: {error}"
        except ArithmeticError:
            return f"cannot be shown: {tariffs.OUT_OF_RANGE}"
        return " · ".join(lines)

    @admin.display(description="valid")
    def valid(self, tariff: Tariff) -> str:
        start = tariff.start_date_time.date().isoformat() if tariff.start_date_time else "…"
        end = tariff.end_date_time.date().isoformat() if tariff.end_date_time else "…"
        return "always" if start == end == "…" else f"{start} – {end}"

    @admin.display(description="retired", boolean=True)
    def retired(self, tariff: Tariff) -> bool:
        return tariff.deleted_at is not None

    @admin.display(description="cannot be priced at")
    def flags(self, tariff: Tariff) -> str:
        found = tariffs.unpriceable_locations(tariff)
        if not found:
            return "—"
        return format_html_join("", "<div>{}: {}</div>", ((str(loc), why) for loc, why in found))
