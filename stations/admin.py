"""Operators browse what CPOs offer: locations with their EVSEs and connectors, and tariffs as
drivers read them, filtered by partner, city and status."""

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join

from stations import pricing, tariffs, wording
from stations.models import Connector, Evse, Location, Tariff


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

    def get_queryset(self, request: HttpRequest) -> QuerySet[Location]:
        return super().get_queryset(request).annotate(evse_count=Count("evses", distinct=True))

    @admin.display(description="EVSEs", ordering="evse_count")
    def evse_count(self, location: Location) -> int:
        return location.evse_count  # type: ignore[attr-defined]


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


@admin.register(Evse)
class EvseAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "status", "location", "last_updated"]
    list_filter = ["status", "location__partner"]
    search_fields = ["evse_id", "uid", "location__name", "location__city"]
    inlines = [ConnectorInline]


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
        except (pricing.TariffError, ValueError, KeyError) as error:
            return f"cannot be shown: {error}"
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
