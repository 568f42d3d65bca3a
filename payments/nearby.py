"""The chargers near a driver: published locations within a bounded radius of a point (the
browser's position, or the place a postal code or city names), nearest first, each with its
chargers' live status and price per kWh incl. VAT.

A fixed number of queries whatever the number of locations (the locations, their EVSEs, their
connectors, the tariffs and the CPO terms of their parties): a page of twenty must not cost
a hundred queries. Coordinates are floats, as geometry is (never money)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import F, FloatField, Prefetch, Q
from django.db.models.functions import Cast
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from payments.models import CpoTerms
from stations import l10n, tariffs
from stations.models import Evse, Location, Tariff
from stations.pricing import TariffError

MAX_RADIUS_KM = 50
DEFAULT_RADIUS_KM = 25
MAX_COUNT = 50
DEFAULT_COUNT = 20
_KM_PER_DEGREE = 111.32
_EARTH_KM = 6371.0
_NEAR = re.compile(r"^\s*(-?\d{1,3}(?:\.\d{1,10})?)\s*,\s*(-?\d{1,3}(?:\.\d{1,10})?)\s*$")
_PLACES = Decimal("0.0001")  # unit prices are shown with up to 4 decimals
_PLACE = re.compile(r"^[\w .'-]{2,45}$")


class BadQuery(ValueError):
    """What the driver or the API client asked for cannot be read: the message says why."""


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float


def parse_near(text: str) -> Point:
    """`lat,lon` in decimal degrees (`52.37,4.89`)."""
    match = _NEAR.match(text or "")
    if match is None:
        raise BadQuery(_("give the position as latitude,longitude in degrees, e.g. 52.37,4.89"))
    lat, lon = float(match[1]), float(match[2])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise BadQuery(_("latitude must be within ±90 and longitude within ±180 degrees"))
    return Point(lat, lon)


def bounded(value: str | None, *, default: int, most: int, name: str) -> int:
    """A whole number from 1 to `most` (a radius in km, a count), `default` when not given."""
    if value in (None, ""):
        return default
    if not value.isdigit() or not 1 <= int(value) <= most:
        raise BadQuery(
            _("%(name)s must be a whole number from 1 to %(most)s") % {"name": name, "most": most}
        )
    return int(value)


def place_point(text: str) -> Point | None:
    """Where a typed postal code or city is: the middle of the published locations there (a
    postal code matches from its start, `1011` finds `1011AB`; a city by its name). None when
    we have no charger there, or the text can be neither."""
    text = " ".join((text or "").split())
    if not _PLACE.match(text):
        return None
    compact = text.replace(" ", "")
    there = Location.objects.filter(publish=True).filter(
        Q(postal_code__istartswith=compact)
        | Q(postal_code__istartswith=text)
        | Q(city__iexact=text)
    )
    points = [_point(lat, lon) for lat, lon in there.values_list("latitude", "longitude")[:500]]
    found = [p for p in points if p is not None]
    if not found:
        return None
    return Point(sum(p.lat for p in found) / len(found), sum(p.lon for p in found) / len(found))


def _point(lat: str, lon: str) -> Point | None:
    try:
        return Point(float(lat), float(lon))
    except ValueError:
        return None


def distance_km(a: Point, b: Point) -> float:
    """Great-circle distance (haversine)."""
    dlat, dlon = math.radians(b.lat - a.lat), math.radians(b.lon - a.lon)
    h = (
        math.sin(dlat / 2) ** 2
        + math.cos(math.radians(a.lat)) * math.cos(math.radians(b.lat)) * math.sin(dlon / 2) ** 2
    )
    return 2 * _EARTH_KM * math.asin(math.sqrt(min(1.0, h)))


def chargers_near(point: Point, *, radius_km: int, count: int) -> list[dict[str, Any]]:
    """The published locations within `radius_km` of `point`, nearest first, at most `count`,
    described for the driver in the active language."""
    dlat = radius_km / _KM_PER_DEGREE
    cos_lat = max(math.cos(math.radians(point.lat)), 0.01)
    dlon = radius_km / (_KM_PER_DEGREE * cos_lat)
    candidates = (
        Location.objects.filter(publish=True)
        .annotate(lat=Cast("latitude", FloatField()), lon=Cast("longitude", FloatField()))
        .filter(
            lat__gte=point.lat - dlat,
            lat__lte=point.lat + dlat,
            lon__gte=point.lon - dlon,
            lon__lte=point.lon + dlon,
        )
        # Nearest first on a flat map, good enough to pick the candidates; exact below.
        .annotate(
            flat=(F("lat") - point.lat) * (F("lat") - point.lat)
            + (F("lon") - point.lon) * (F("lon") - point.lon) * (cos_lat * cos_lat)
        )
        .order_by("flat", "pk")
        .prefetch_related(
            Prefetch(
                "evses",
                queryset=Evse.objects.exclude(status=Evse.Status.REMOVED)
                .order_by("evse_id", "pk")
                .prefetch_related("connectors"),
            )
        )
    )[:count]
    places = [
        (distance_km(point, Point(location.lat, location.lon)), location) for location in candidates
    ]
    places = sorted((d, loc) for d, loc in places if d <= radius_km and loc.evses.all())
    return _describe(places)


def _describe(places: list[tuple[float, Location]]) -> list[dict[str, Any]]:
    parties = {(loc.country_code.upper(), loc.party_id.upper()) for _, loc in places}
    party_q = Q(pk__in=[])
    for country_code, party_id in parties:
        party_q |= Q(country_code=country_code, party_id=party_id)
    held: dict[tuple[str, str], list[Tariff]] = {}
    for tariff in Tariff.objects.filter(party_q, deleted_at=None):
        held.setdefault((tariff.country_code, tariff.party_id), []).append(tariff)
    rule = set(
        CpoTerms.objects.filter(party_q, missing_vat_is_country_rate=True).values_list(
            "country_code", "party_id"
        )
    )
    now = timezone.now()
    return [_location(distance, loc, held, rule, now) for distance, loc in places]


def _location(
    distance: float,
    location: Location,
    held: dict[tuple[str, str], list[Tariff]],
    rule: set[tuple[str, str]],
    now: Any,
) -> dict[str, Any]:
    party = (location.country_code.upper(), location.party_id.upper())
    evses = []
    for evse in location.evses.all():
        prices: set[Decimal] = set()
        currency = ""
        for connector in evse.connectors.all():
            tariff = tariffs.choose_ad_hoc_tariff(connector.tariff_ids, held.get(party, []), at=now)
            if tariff is not None:
                prices |= _gross_per_kwh(tariff, location, missing_vat_rule=party in rule)
                currency = tariff.currency
        evses.append(
            {
                "evse_id": evse.evse_id,
                "status": evse.status,
                "available": evse.status == Evse.Status.AVAILABLE,
                "price_per_kwh": [str(p) for p in sorted(prices)],
                "price_text": _per_kwh(sorted(prices), currency),
                "currency": currency or None,
                "charge_path": reverse("charge-page", args=[evse.evse_id])
                if evse.evse_id
                else None,
            }
        )
    coordinates = {"latitude": location.latitude, "longitude": location.longitude}
    return {
        "id": location.ocpi_id,
        "name": location.name or location.address,
        "address": location.address,
        "postal_code": location.postal_code,
        "city": location.city,
        "coordinates": coordinates,
        "distance_km": str(Decimal(distance).quantize(Decimal("0.01"))),
        "distance_text": _distance(distance),
        "available": sum(1 for e in evses if e["available"]),
        "evses": evses,
        "maps_url": "https://www.google.com/maps/dir/?"
        + urlencode({"api": 1, "destination": f"{location.latitude},{location.longitude}"}),
    }


def _charge_path(evse: Evse) -> str | None:
    """The charger's page, where its ID can be in one of our URLs."""
    try:
        return reverse("charge-page", args=[evse.evse_id]) if evse.evse_id else None
    except NoReverseMatch:
        return None


def _gross_per_kwh(tariff: Tariff, location: Location, *, missing_vat_rule: bool) -> set[Decimal]:
    """The tariff's prices per kWh incl. VAT, as the charger's page would state them; none
    where the gross price is not known (the page then says why)."""
    rule = missing_vat_rule and tariff.vat_stated
    fallback = tariffs.vat_rate(location.country) if rule or not tariff.vat_stated else None
    try:
        prices = tariffs.energy_prices(tariff, vat_fallback=fallback, missing_vat_is_fallback=rule)
    except (TariffError, TypeError, ValueError, KeyError, ArithmeticError):
        return set()
    if any(p.incl_vat is None for p in prices):
        return set()
    return {p.incl_vat.quantize(_PLACES, ROUND_HALF_UP) for p in prices if p.incl_vat is not None}


def _per_kwh(prices: list[Decimal], currency: str) -> str:
    if not prices:
        return ""
    if len(prices) == 1:
        return _("%(price)s/kWh") % {"price": l10n.amount(prices[0], currency)}
    return _("%(low)s–%(high)s/kWh") % {
        "low": l10n.amount(prices[0], currency),
        "high": l10n.amount(prices[-1], currency),
    }


def _distance(km: float) -> str:
    if km < 1:
        metres = max(10, int(km * 100 + 0.5) * 10)
        return _("%(metres)s m") % {"metres": metres}
    return _("%(km)s km") % {"km": l10n.number(Decimal(km).quantize(Decimal("0.1")))}
