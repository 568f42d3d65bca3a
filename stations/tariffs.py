"""The price a driver is shown before paying, and the price an operator can check against a CDR.

Stored tariffs (`stations.models.Tariff`, elements in the 2.2.1 shape with numbers as strings)
become `stations.pricing.Tariff` values here, never through a float. Around that engine this
module decides what OCPI leaves to us:

Which tariff (our issue's rule for ad-hoc payment; it replaces the checklist's TA-02 policy)
    Of the connector's `tariff_ids` we hold for the location's party and the CPO has not
    deleted, those valid at that moment; an `AD_HOC_PAYMENT` one if any, else a `REGULAR` or
    untyped one; the connector's order breaks ties. 2.1.1 tariffs have no type and no window,
    so the connector's single tariff is simply the tariff.

Which clock (TA-04 reads time restrictions in the Location's time zone)
    The Location's `time_zone` when it names a real zone. 2.1.1 often leaves it out; then the
    zone of the Location's `country` if that whole country keeps one clock (`COUNTRY_ZONES`).
    Otherwise the tariff's local-time parts cannot be priced: a tariff that needs them is shown
    with `unpriceable_reason` set and no estimates, never read in UTC and never a crash.

Which VAT (TA-07)
    2.2.1 components state their VAT. 2.1.1 prices exclude a VAT they do not state: we add the
    location country's standard rate from the `VAT_FALLBACK_RATES` setting (default `VAT_RATES`);
    where none is known, prices are shown excl. VAT and say so. 2.3.0 says per tariff whether
    its prices include tax (`tax_included`): a component without `vat` there names no rate, and
    takes the country's as in 2.1.1; prices that include tax (YES) or carry none (N/A) are
    gross prices whatever rate is known (`stations.pricing`, "Taxes in OCPI 2.3.0").
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext

from stations import pricing, wording
from stations.l10n import Locale
from stations.models import Connector, Location, Tariff
from stations.money import UnknownCurrency, round_to_minor
from stations.pricing import (
    ChargingPeriod,
    Price,
    PriceComponent,
    SessionCost,
    TariffElement,
    TariffError,
    TariffRestrictions,
)

# --- reading stored tariffs -----------------------------------------------------------------


def number(value: Any) -> Decimal:
    """A stored (string) or parsed (Decimal, int) number; a float means something upstream
    lost exactness, so it is refused rather than carried into a price."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"not an exact number: {value!r}")
    return Decimal(value)


def optional_number(value: Any) -> Decimal | None:
    return None if value is None else number(value)


def read_price(excl_vat: Any, incl_vat: Any = None) -> Price | None:
    """A min_price or max_price from its two stored amounts; no excl. VAT amount, no limit."""
    if excl_vat is None:
        return None
    return Price(number(excl_vat), optional_number(incl_vat))


def read_restrictions(data: Mapping[str, Any] | None) -> TariffRestrictions | None:
    """TariffRestrictions in the 2.2.1 shape; keys a version lacks (2.1.1: current,
    reservation) are simply absent."""
    if not data:
        return None

    def get(key: str, parse: Any) -> Any:
        return None if data.get(key) is None else parse(data[key])

    return TariffRestrictions(
        start_time=get("start_time", time.fromisoformat),
        end_time=get("end_time", time.fromisoformat),
        start_date=get("start_date", date.fromisoformat),
        end_date=get("end_date", date.fromisoformat),
        min_kwh=get("min_kwh", number),
        max_kwh=get("max_kwh", number),
        min_current=get("min_current", number),
        max_current=get("max_current", number),
        min_power=get("min_power", number),
        max_power=get("max_power", number),
        min_duration=data.get("min_duration"),
        max_duration=data.get("max_duration"),
        day_of_week=frozenset(data.get("day_of_week") or ()),
        reservation=data.get("reservation"),
    )


def read_elements(elements: Iterable[Mapping[str, Any]]) -> tuple[TariffElement, ...]:
    """TariffElements in the 2.2.1 shape, numbers as strings (stored) or Decimals (parsed)."""
    return tuple(
        TariffElement(
            price_components=tuple(
                PriceComponent(
                    type=c["type"],
                    price=number(c["price"]),
                    vat=optional_number(c.get("vat")),
                    step_size=c["step_size"],
                )
                for c in element["price_components"]
            ),
            restrictions=read_restrictions(element.get("restrictions")),
        )
        for element in elements
    )


def from_fields(fields: Mapping[str, Any], *, time_zone: str | None) -> pricing.Tariff:
    """A tariff from its stored fields: what a version's TariffSerializer validates into (also
    for the tariffs inside a CDR) and what the model holds. `time_zone` is the Location's."""
    return pricing.Tariff(
        currency=fields["currency"],
        elements=read_elements(fields["elements"]),
        min_price=read_price(fields.get("min_price_excl_vat"), fields.get("min_price_incl_vat")),
        max_price=read_price(fields.get("max_price_excl_vat"), fields.get("max_price_incl_vat")),
        time_zone=time_zone,
        vat_stated=fields.get("vat_stated", True),
        missing_vat_is_fallback=fields.get("missing_vat_is_fallback", False),
        tax_included=fields.get("tax_included") or None,
    )


def to_pricing(
    tariff: Tariff, *, time_zone: str | None, missing_vat_is_fallback: bool = False
) -> pricing.Tariff:
    """The stored tariff as the engine reads it, in the given Location time zone;
    `missing_vat_is_fallback` as the driver's price reads a component without `vat`."""
    return from_fields(
        {
            "currency": tariff.currency,
            "elements": tariff.elements,
            "min_price_excl_vat": tariff.min_price_excl_vat,
            "min_price_incl_vat": tariff.min_price_incl_vat,
            "max_price_excl_vat": tariff.max_price_excl_vat,
            "max_price_incl_vat": tariff.max_price_incl_vat,
            "vat_stated": tariff.vat_stated,
            "missing_vat_is_fallback": missing_vat_is_fallback,
            "tax_included": tariff.tax_included,
        },
        time_zone=time_zone,
    )


# --- countries: time zones and VAT ------------------------------------------------------------

# ISO 3166-1 alpha-3 (what OCPI's `country` is) -> (alpha-2, the IANA zone when the whole
# country keeps one clock, else None). None means: do not guess, a wrong clock misprices.
# Territories with their own ISO code (Greenland GRL, Faroes FRO, Svalbard SJM, Caribbean
# Netherlands BES, Gibraltar GIB, Jersey JEY, French overseas regions GLP/MTQ/GUF/REU/MYT …) are
# not part of the country's code, so they do not make it multi-zone.
COUNTRY_ZONES: Mapping[str, tuple[str, str | None]] = MappingProxyType(
    {
        # EU
        "AUT": ("AT", "Europe/Vienna"),
        "BEL": ("BE", "Europe/Brussels"),
        "BGR": ("BG", "Europe/Sofia"),
        "HRV": ("HR", "Europe/Zagreb"),
        "CYP": ("CY", "Asia/Nicosia"),  # Asia/Famagusta (the north) has kept this clock since 2017
        "CZE": ("CZ", "Europe/Prague"),
        "DNK": ("DK", "Europe/Copenhagen"),
        "EST": ("EE", "Europe/Tallinn"),
        "FIN": ("FI", "Europe/Helsinki"),  # Åland (ALA, Europe/Mariehamn) keeps the same clock
        "FRA": ("FR", "Europe/Paris"),  # metropolitan France and Corsica; overseas: own codes
        "DEU": ("DE", "Europe/Berlin"),  # Büsingen (Europe/Busingen) keeps the same clock
        "GRC": ("GR", "Europe/Athens"),
        "HUN": ("HU", "Europe/Budapest"),
        "IRL": ("IE", "Europe/Dublin"),
        "ITA": ("IT", "Europe/Rome"),
        "LVA": ("LV", "Europe/Riga"),
        "LTU": ("LT", "Europe/Vilnius"),
        "LUX": ("LU", "Europe/Luxembourg"),
        "MLT": ("MT", "Europe/Malta"),
        "NLD": ("NL", "Europe/Amsterdam"),
        "POL": ("PL", "Europe/Warsaw"),
        "PRT": ("PT", None),  # the Azores (Atlantic/Azores) run an hour behind Lisbon
        "ROU": ("RO", "Europe/Bucharest"),
        "SVK": ("SK", "Europe/Bratislava"),
        "SVN": ("SI", "Europe/Ljubljana"),
        "ESP": ("ES", None),  # the Canary Islands (Atlantic/Canary) run an hour behind Madrid
        "SWE": ("SE", "Europe/Stockholm"),
        # EEA, Switzerland, United Kingdom
        "ISL": ("IS", "Atlantic/Reykjavik"),
        "LIE": ("LI", "Europe/Vaduz"),
        "NOR": ("NO", "Europe/Oslo"),
        "CHE": ("CH", "Europe/Zurich"),
        "GBR": ("GB", "Europe/London"),
        # the rest of Europe and its neighbours
        "ALB": ("AL", "Europe/Tirane"),
        "AND": ("AD", "Europe/Andorra"),
        "BIH": ("BA", "Europe/Sarajevo"),
        "GIB": ("GI", "Europe/Gibraltar"),
        "MCO": ("MC", "Europe/Monaco"),
        "MDA": ("MD", "Europe/Chisinau"),
        "MKD": ("MK", "Europe/Skopje"),
        "MNE": ("ME", "Europe/Podgorica"),
        "SMR": ("SM", "Europe/San_Marino"),
        "SRB": ("RS", "Europe/Belgrade"),
        "TUR": ("TR", "Europe/Istanbul"),
        "UKR": ("UA", None),  # Crimea (Europe/Simferopol) keeps Moscow time
        "RUS": ("RU", None),  # eleven zones
        # French overseas regions, each a single clock under its own code
        "GLP": ("GP", "America/Guadeloupe"),
        "MTQ": ("MQ", "America/Martinique"),
        "GUF": ("GF", "America/Cayenne"),
        "REU": ("RE", "Indian/Reunion"),
        "MYT": ("YT", "Indian/Mayotte"),
        # elsewhere, where CPOs we meet operate
        "ARE": ("AE", "Asia/Dubai"),
        "IND": ("IN", "Asia/Kolkata"),
        "ISR": ("IL", "Asia/Jerusalem"),
        "JPN": ("JP", "Asia/Tokyo"),
        "KOR": ("KR", "Asia/Seoul"),
        "SGP": ("SG", "Asia/Singapore"),
        "ZAF": ("ZA", "Africa/Johannesburg"),
        "AUS": ("AU", None),  # several zones, and not all of them observe daylight saving
        "BRA": ("BR", None),
        "CAN": ("CA", None),
        "CHL": ("CL", None),  # Easter Island (Pacific/Easter)
        "MEX": ("MX", None),
        "NZL": ("NZ", None),  # the Chatham Islands run 45 minutes ahead
        "USA": ("US", None),
    }
)
_ALPHA3 = MappingProxyType({alpha2: alpha3 for alpha3, (alpha2, _) in COUNTRY_ZONES.items()})

# Standard VAT rates in percent, by ISO 3166-1 alpha-2, as known in 2025: only the fallback for
# versions that state no VAT (2.1.1); deployments override them with VAT_FALLBACK_RATES (alpha-2
# or alpha-3 keys). Left out on purpose: Spain (the Canaries charge IGIC, 7 %, not VAT) and
# Portugal (the Azores 16 %, Madeira 22 %), where the country alone does not give the rate.
VAT_RATES: Mapping[str, Decimal] = MappingProxyType(
    {
        country: Decimal(rate)
        for country, rate in {
            "AT": "20", "BE": "21", "BG": "20", "HR": "25", "CY": "19", "CZ": "21", "DK": "25",
            "EE": "24", "FI": "25.5", "FR": "20", "DE": "19", "GR": "24", "HU": "27", "IE": "23",
            "IT": "22", "LV": "21", "LT": "21", "LU": "17", "MT": "18", "NL": "21", "PL": "23",
            "RO": "21", "SK": "23", "SI": "22", "SE": "25", "IS": "24", "LI": "8.1", "NO": "25",
            "CH": "8.1", "GB": "20",
        }.items()
    }
)  # fmt: skip


def _codes(country: str) -> tuple[str, str] | None:
    """(alpha-3, alpha-2) for an alpha-3 code, or an alpha-2 one (the spec's own 2.1.1 CDR
    example writes "BE"); None for a country we have no entry for."""
    code = (country or "").strip().upper()
    if code in COUNTRY_ZONES:
        return code, COUNTRY_ZONES[code][0]
    if code in _ALPHA3:
        return _ALPHA3[code], code
    return None


def valid_zone(name: str | None) -> str | None:
    """`name` if it is an IANA zone this machine knows, else None."""
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def _resolve_zone(time_zone: str | None, country: str | None) -> tuple[str | None, str]:
    """The zone, or None and why (for `unpriceable_reason`)."""
    zone = valid_zone(time_zone)
    if zone is not None:
        return zone, ""
    codes = _codes(country or "")
    if codes is not None and COUNTRY_ZONES[codes[0]][1] is not None:
        return COUNTRY_ZONES[codes[0]][1], ""
    if time_zone:
        why = f"its time zone {time_zone!r} is unknown"
    elif codes is not None:
        why = f"it names no time zone and {codes[0]} has more than one"
    else:
        why = f"it names no time zone and we know none for the country {country!r}"
    return None, why


def resolve_zone(time_zone: str | None, country: str | None) -> str | None:
    """A location's zone from its two fields (also for a CDR's location); see `zone_for`."""
    return _resolve_zone(time_zone, country)[0]


def zone_for(location: Location) -> str | None:
    """The Location's `time_zone` if valid, else its country's zone when the whole country has
    one; None when local time cannot be known."""
    return resolve_zone(location.time_zone, location.country)


def vat_rate(country: str) -> Decimal | None:
    """The VAT percentage we add to prices that state none (2.1.1), for a location's country
    (alpha-3 or alpha-2), from the `VAT_FALLBACK_RATES` setting; None when unknown."""
    rates: Mapping[str, Any] = getattr(settings, "VAT_FALLBACK_RATES", VAT_RATES)
    codes = _codes(country)
    keys = codes if codes is not None else ((country or "").strip().upper(),)
    for key in keys:
        if key in rates:
            return _rate(key, rates[key])
    return None


def fallback_rate(tariff: pricing.Tariff, country: str) -> Decimal | None:
    """The rate a component without `vat` takes (`pricing.component_vat`): the country's, where
    the version states no VAT (2.1.1) or the tariff is read with `missing_vat_is_fallback`."""
    if tariff.vat_stated and not tariff.missing_vat_is_fallback:
        return None
    return vat_rate(country)


def _rate(key: str, value: Any) -> Decimal:
    """A configured rate, exact: a float in the setting is refused, not rounded into a price."""
    if isinstance(value, Decimal | int | str) and not isinstance(value, bool):
        with contextlib.suppress(InvalidOperation):
            rate = Decimal(value)
            if rate.is_finite() and rate >= 0:
                return rate
    raise ImproperlyConfigured(f"VAT_FALLBACK_RATES[{key!r}] must be a percentage as a string")


# --- what cannot be priced --------------------------------------------------------------------


# Numbers partners send are bounded where they are read (`ocpi_peer.versions.fields`); one
# stored before that (1e1000 is a finite Decimal) cannot be written or computed with.
OUT_OF_RANGE = "a number in it is out of range"


def needs_local_time(tariff: pricing.Tariff) -> bool:
    """Whether some element reads the local clock or calendar (times, dates, days of week)."""
    return any(e.restrictions is not None and e.restrictions.local for e in tariff.elements)


def _unpriceable(tariff: pricing.Tariff, why_no_zone: str) -> str | None:
    if tariff.time_zone is None and needs_local_time(tariff):
        return f"its prices depend on the local time, but {why_no_zone}"
    return None


def unpriceable_reason(tariff: Tariff, location: Location) -> str | None:
    """Why this tariff cannot be priced at this location, or None when it can. For the admin:
    a tariff with time-of-day, date or weekday restrictions at a location without a known zone."""
    zone, why = _resolve_zone(location.time_zone, location.country)
    try:
        return _unpriceable(to_pricing(tariff, time_zone=zone), why)
    except (TariffError, TypeError, ValueError, KeyError) as error:
        return f"its stored elements cannot be read: {error}"
    except ArithmeticError:
        return OUT_OF_RANGE


def unpriceable_locations(tariff: Tariff) -> list[tuple[Location, str]]:
    """The locations whose connectors name this tariff and where it cannot be priced, with
    why: what an operator needs to see to ask the CPO for a time zone."""
    flagged = []
    locations = Location.objects.filter(
        country_code=tariff.country_code, party_id=tariff.party_id
    ).prefetch_related("evses__connectors")
    wanted = tariff.ocpi_id.upper()
    for location in locations:
        named = any(
            isinstance(tid, str) and tid.upper() == wanted
            for evse in location.evses.all()
            for connector in evse.connectors.all()
            for tid in connector.tariff_ids
        )
        reason = unpriceable_reason(tariff, location) if named else None
        if reason is not None:
            flagged.append((location, reason))
    return flagged


# --- which tariff a driver paying at the charger gets -----------------------------------------


def _valid_at(tariff: Tariff, at: datetime) -> bool:
    """start_date_time inclusive, end_date_time exclusive (it is when the tariff stops)."""
    return (tariff.start_date_time is None or tariff.start_date_time <= at) and (
        tariff.end_date_time is None or at < tariff.end_date_time
    )


def ad_hoc_tariff(
    connector: Connector, *, at: datetime, held: Iterable[Tariff] | None = None
) -> Tariff | None:
    """The tariff a card payment at this connector pays at `at` (see the module docstring):
    AD_HOC_PAYMENT if one is valid, else REGULAR or untyped; None if none applies. `held`: the
    party's live tariffs the caller has read already (a superset will do), else read here."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"at {at} has no time zone")
    wanted = [tid for tid in connector.tariff_ids if isinstance(tid, str) and tid]
    if not wanted:
        return None
    if held is None:
        location = connector.evse.location
        same_id = Q()
        for tid in wanted:
            same_id |= Q(ocpi_id__iexact=tid)  # tariff ids are CiStrings (T-21)
        held = Tariff.objects.filter(
            same_id,
            country_code=location.country_code.upper(),
            party_id=location.party_id.upper(),
            deleted_at=None,
        )
    return choose_ad_hoc_tariff(wanted, held, at=at)


def choose_ad_hoc_tariff(
    tariff_ids: Iterable[Any], held: Iterable[Tariff], *, at: datetime
) -> Tariff | None:
    """`ad_hoc_tariff`'s choice among tariffs already read: of `held` (the location party's,
    not deleted), those the connector names in `tariff_ids` and valid at `at`, AD_HOC_PAYMENT
    first, then REGULAR or untyped, the connector's order breaking ties. For callers that read
    the tariffs of many connectors at once (the chargers near a driver, a charger's page)."""
    wanted = [tid for tid in tariff_ids if isinstance(tid, str) and tid]
    rank = {tid.upper(): i for i, tid in reversed(list(enumerate(wanted)))}
    valid = sorted(
        (t for t in held if t.ocpi_id.upper() in rank and _valid_at(t, at)),
        key=lambda t: rank[t.ocpi_id.upper()],
    )
    for kinds in (("AD_HOC_PAYMENT",), ("REGULAR", "")):
        chosen = next((t for t in valid if t.type.upper() in kinds), None)
        if chosen is not None:
            return chosen
    return None


def energy_prices(
    tariff: Tariff, *, vat_fallback: Decimal | None, missing_vat_is_fallback: bool = False
) -> list[Price]:
    """Every price per kWh the tariff can charge (its ENERGY components, each with its VAT as
    pricing reads it): what a list of chargers shows beside each, and what the stop margin is
    computed with."""
    priced = to_pricing(tariff, time_zone=None, missing_vat_is_fallback=missing_vat_is_fallback)
    return [
        pricing.unit_price(priced, component, vat_fallback)
        for element in priced.elements
        for component in element.price_components
        if component.type == "ENERGY"
    ]


# --- what the driver is shown -----------------------------------------------------------------

ESTIMATE_KWH: tuple[Decimal, ...] = (Decimal(10), Decimal(20), Decimal(40))
# Conductors that carry power: the voltage is line-to-neutral (2.2.1 Connector.max_voltage)
PHASES: Mapping[str, int] = MappingProxyType(
    {"AC_1_PHASE": 1, "AC_2_PHASE": 2, "AC_2_PHASE_SPLIT": 2, "AC_3_PHASE": 3, "DC": 1}
)


def connector_power_kw(connector: Connector) -> Decimal | None:
    """The power a car can draw at best: max_electric_power (W) when given, else voltage ×
    amperage × phases; None when neither says."""
    if connector.max_electric_power:
        return Decimal(connector.max_electric_power) / 1000
    phases = PHASES.get(connector.power_type.upper())
    if phases is None or not connector.max_voltage or not connector.max_amperage:
        return None
    return Decimal(connector.max_voltage * connector.max_amperage * phases) / 1000


def _summed_current(connector: Connector, power_kw: Decimal) -> Decimal | None:
    """Current summed over phases (what OCPI's current restrictions compare): P / V for every
    power type, because V is line-to-neutral."""
    if not connector.max_voltage:
        return None
    return power_kw * 1000 / Decimal(connector.max_voltage)


@dataclass(frozen=True, slots=True)
class Estimate:
    """What charging `energy_kwh` at the connector's power costs from the moment shown.
    `cost` is exact; `amount` is what is shown: incl. VAT when known, rounded to minor units."""

    energy_kwh: Decimal
    cost: Price
    amount: Decimal
    incl_vat: bool
    text: str  # "20 kWh ≈ 11,80 €"


@dataclass(frozen=True, slots=True)
class PriceShown:
    """The price a driver sees before paying. `lines` come from `describe_tariff`; `estimates`
    are empty when `unpriceable_reason` says why (no zone for a local-time tariff, no power)."""

    tariff: Tariff
    currency: str
    locale: Locale
    lines: tuple[str, ...]
    estimates: tuple[Estimate, ...]
    power_kw: Decimal | None
    time_zone: str | None
    vat_fallback: Decimal | None  # the rate a component without `vat` takes (2.1.1, CPO rule)
    alt_text: str = ""  # tariff_alt_text in the driver's language, extra to the lines (TA-12)
    alt_url: str = ""
    unpriceable_reason: str | None = None
    # The CPO party's rule "a component without vat means the country's rate" was on: kept
    # with the checkout, so settlement and the receipt read those components the same way.
    missing_vat_is_fallback: bool = False
    vat_note: str = ""  # "incl. 19 % VAT, the country's rate", when that rate was added
    gross_unknown: str | None = None  # why no price incl. VAT can be stated (not payable)

    @property
    def not_payable_reason(self) -> str | None:
        """Why no payment may be taken at this price: nothing to estimate with, or no gross
        price to state (PAngV: a consumer is quoted the price incl. VAT)."""
        return self.gross_unknown or self.unpriceable_reason


class _Shown(TypedDict):
    """The fields of `PriceShown` that `shown_price` knows before it tries to price."""

    tariff: Tariff
    currency: str
    locale: Locale
    power_kw: Decimal | None
    time_zone: str | None
    vat_fallback: Decimal | None
    alt_text: str
    alt_url: str
    missing_vat_is_fallback: bool
    vat_note: str
    gross_unknown: str | None


def _alt_text(tariff: Tariff, locale: Locale) -> str:
    texts = [t for t in tariff.tariff_alt_text if isinstance(t, dict) and t.get("text")]
    for language in (locale, "en"):
        for text in texts:
            if str(text.get("language", "")).lower() == language:
                return str(text["text"])
    return str(texts[0]["text"]) if texts else ""


def shown_price(
    connector: Connector,
    *,
    at: datetime,
    locale: Locale,
    missing_vat_is_country_rate: bool = False,
    held: Iterable[Tariff] | None = None,
    estimate_kwh: tuple[Decimal, ...] = ESTIMATE_KWH,
) -> PriceShown | None:
    """What a driver paying at this connector at `at` is shown, in German or English; None when
    no tariff applies. Never raises for a tariff it cannot price: `unpriceable_reason` says why.

    `missing_vat_is_country_rate` is the CPO party's rule (its terms, read by the caller): a
    2.2.1 component without `vat` carries the location country's rate. Without the rule such a
    component's gross price is not known, and neither is it for a 2.1.1 tariff in a country
    whose rate we do not know: the lines say "excl. VAT" and `gross_unknown` says why.
    `held`: as for `ad_hoc_tariff`; `estimate_kwh`: the energies to estimate the cost of (each
    costs a pricing of the session)."""
    tariff = ad_hoc_tariff(connector, at=at, held=held)
    if tariff is None:
        return None
    location = connector.evse.location
    zone, why_no_zone = _resolve_zone(location.time_zone, location.country)
    rule = missing_vat_is_country_rate and tariff.vat_stated
    country_rate = vat_rate(location.country)
    vat_fallback = country_rate if rule or not tariff.vat_stated else None
    power_kw = connector_power_kw(connector)
    shown: _Shown = {
        "tariff": tariff,
        "currency": tariff.currency,
        "locale": locale,
        "power_kw": power_kw,
        "time_zone": zone,
        "vat_fallback": vat_fallback,
        "alt_text": _alt_text(tariff, locale),
        "alt_url": tariff.tariff_alt_url,
        "missing_vat_is_fallback": rule,
        "vat_note": "",
        "gross_unknown": None,
    }
    unstated = tariff.tax_included not in ("YES", "N/A") and any(
        c.get("vat") is None for e in tariff.elements for c in e.get("price_components", ())
    )
    if unstated and vat_fallback is not None:
        shown["vat_note"] = wording.describe_vat_rate(vat_fallback, locale)
    elif unstated:
        shown["gross_unknown"] = _gross_unknown(tariff, location, locale)
    try:
        priced = to_pricing(tariff, time_zone=zone, missing_vat_is_fallback=True)
        lines = tuple(wording.describe_tariff(priced, locale, vat_fallback=vat_fallback))
    except (TariffError, TypeError, ValueError, KeyError) as error:
        return PriceShown(
            lines=(), estimates=(), unpriceable_reason=f"unreadable tariff: {error}", **shown
        )
    except ArithmeticError:
        return PriceShown(lines=(), estimates=(), unpriceable_reason=OUT_OF_RANGE, **shown)
    reason = _unpriceable(priced, why_no_zone)
    if reason is None and power_kw is None:
        reason = "the connector states neither its power nor its voltage and amperage"
    if reason is not None:
        return PriceShown(lines=lines, estimates=(), unpriceable_reason=reason, **shown)
    assert power_kw is not None
    try:
        estimates = tuple(
            _estimate(priced, connector, kwh, power_kw, at, locale, vat_fallback)
            for kwh in estimate_kwh
        )
    except (TariffError, UnknownCurrency) as error:  # e.g. no minor-unit entry
        return PriceShown(lines=lines, estimates=(), unpriceable_reason=str(error), **shown)
    except ArithmeticError:
        return PriceShown(lines=lines, estimates=(), unpriceable_reason=OUT_OF_RANGE, **shown)
    return PriceShown(lines=lines, estimates=estimates, **shown)


# How far ahead `shown_price_steady_until` looks for a local-time restriction's next change:
# local midnight is always one of them, so two days always finds one.
_LOOKAHEAD = timedelta(days=2)


def shown_price_steady_until(
    connector: Connector,
    *,
    at: datetime,
    held: Iterable[Tariff],
    estimate_kwh: tuple[Decimal, ...] = ESTIMATE_KWH,
) -> datetime | None:
    """Until when (exclusive) `shown_price` at this connector answers as it does at `at`, with
    the same tariffs, connector and location; None: for as long as those stay as they are.

    The clock enters the price shown in two places only: which tariff is valid (their
    start_date_time and end_date_time), and local-time restrictions read during each estimated
    session (`at` to `at` + energy / power). So the answer stands until the next validity bound
    of a tariff the connector names, and, for a chosen tariff that reads the local time, until
    the last start whose longest estimated session still ends before its restrictions' next
    change (`pricing.next_local_change`). For a caller that keeps the answer (a charger's page):
    it must not be used before `at` either (a clock set back)."""
    wanted = {tid.upper() for tid in connector.tariff_ids if isinstance(tid, str) and tid}
    until: datetime | None = None
    for tariff in held:
        if tariff.ocpi_id.upper() not in wanted:
            continue
        for bound in (tariff.start_date_time, tariff.end_date_time):
            if bound is not None and bound > at and (until is None or bound < until):
                until = bound
    chosen = ad_hoc_tariff(connector, at=at, held=held)
    power_kw = connector_power_kw(connector)
    if chosen is None or power_kw is None or power_kw <= 0 or not estimate_kwh:
        return until  # no estimate: nothing read at a time of day
    location = connector.evse.location
    zone, _why = _resolve_zone(location.time_zone, location.country)
    try:
        priced = to_pricing(chosen, time_zone=zone, missing_vat_is_fallback=True)
        if zone is None or not needs_local_time(priced):
            return until  # no local time is read (or, without a zone, it cannot be priced)
        change = pricing.next_local_change(priced, at, within=_LOOKAHEAD)
    except (TariffError, TypeError, ValueError, KeyError, ArithmeticError):
        return until  # unreadable: shown as such whatever the time
    # The longest estimated session, rounded up to the second (the engine ends it within a
    # microsecond of energy / power): every session starting before `steady` ends before the
    # change, and one starting at `at` reads the restrictions as any of them does.
    seconds = max(estimate_kwh) / power_kw * 3600
    session = timedelta(seconds=int(seconds.to_integral_value(rounding=ROUND_CEILING)) + 1)
    steady = (change if change is not None else at + _LOOKAHEAD) - session
    if steady <= at:
        return at  # already within a session's length of the change: nothing to keep
    return steady if until is None or steady < until else until


def _gross_unknown(tariff: Tariff, location: Location, locale: Locale) -> str:
    """Why the price incl. VAT cannot be stated, in the driver's language."""
    with translation.override(locale):
        if not tariff.vat_stated:
            return gettext(
                "its prices exclude VAT and we know no VAT rate for the country %(country)s"
            ) % {"country": location.country}
        return gettext(
            "its operator states no VAT for some of its prices, so we cannot state the "
            "price including VAT"
        )


def _estimate(
    priced: pricing.Tariff,
    connector: Connector,
    kwh: Decimal,
    power_kw: Decimal,
    at: datetime,
    locale: Locale,
    vat_fallback: Decimal | None,
) -> Estimate:
    cost = pricing.estimate(
        priced,
        energy_kwh=kwh,
        power_kw=power_kw,
        start=at,
        current_a=_summed_current(connector, power_kw),
        vat_fallback=vat_fallback,
    ).total
    incl = cost.incl_vat is not None
    amount = round_to_minor(
        cost.incl_vat if cost.incl_vat is not None else cost.excl_vat, priced.currency
    )
    text = wording.describe_estimate(kwh, amount, priced.currency, locale, incl_vat=incl)
    return Estimate(energy_kwh=kwh, cost=cost, amount=amount, incl_vat=incl, text=text)


# --- checking a CDR ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TariffPeriod:
    """A charging period with the tariff the CPO says applied in it (2.2.1 `tariff_id`; None:
    no tariff, or, where `CdrPricing.tariff_ids_stated` is False, not said)."""

    period: ChargingPeriod
    tariff_id: str | None = None


@dataclass(frozen=True, slots=True)
class CdrPricing:
    """What pricing needs from a CDR, in any version. Tariff ids are upper-case (CiString);
    `tariffs` are the CDR's own, as they were at the start, in the location's zone."""

    start: datetime
    end: datetime
    currency: str
    country: str
    time_zone: str | None
    tariffs: Mapping[str, pricing.Tariff] = field(hash=False)
    periods: tuple[TariffPeriod, ...]
    total_cost: Price
    total_energy: Decimal
    total_time: Decimal
    total_parking_time: Decimal | None = None
    tariff_ids_stated: bool = True  # False for 2.1.1: its periods carry no tariff_id

    def __post_init__(self) -> None:
        object.__setattr__(self, "tariffs", MappingProxyType(dict(self.tariffs)))
        object.__setattr__(self, "periods", tuple(self.periods))


def tariff_period(fields: Mapping[str, Any]) -> TariffPeriod:
    """A charging period from what a version's ChargingPeriodSerializer validates into:
    `start`, `dimensions` (type to volume) and `tariff_id`."""
    return TariffPeriod(
        period=ChargingPeriod(start=fields["start"], dimensions=fields["dimensions"]),
        tariff_id=fields.get("tariff_id"),
    )


def cdr_pricing(fields: Mapping[str, Any]) -> CdrPricing:
    """What pricing needs from a CDR, from what a version's CdrPricingSerializer validates
    into: its tariffs and time restrictions are read in the zone its location names, else the
    country's when the country keeps one clock (`resolve_zone`)."""
    zone = resolve_zone(fields["time_zone"], fields["country"])
    own = {t["ocpi_id"].upper(): from_fields(t, time_zone=zone) for t in fields["tariffs"]}
    return CdrPricing(
        start=fields["start"],
        end=fields["end"],
        currency=fields["currency"],
        country=fields["country"],
        time_zone=zone,
        tariffs=own,
        periods=tuple(tariff_period(p) for p in fields["periods"]),
        total_cost=Price(fields["total_cost_excl_vat"], fields["total_cost_incl_vat"]),
        total_energy=fields["total_energy"],
        total_time=fields["total_time"],
        total_parking_time=fields["total_parking_time"],
        tariff_ids_stated=fields["tariff_ids_stated"],
    )


@dataclass(frozen=True, slots=True)
class CdrCheck:
    """A CDR recomputed with one tariff. `difference` is the CDR's total minus ours (exact;
    positive: the CDR asks more); its incl. VAT is None when either side lacks one."""

    cost: SessionCost
    cdr_total: Price
    difference: Price
    warnings: tuple[str, ...]


_ZERO = Decimal(0)


def check_cdr(
    cdr: CdrPricing,
    tariff: pricing.Tariff,
    *,
    tariff_id: str,
    memo: pricing.PricingMemo | None = None,
) -> CdrCheck:
    """Recompute `cdr` with `tariff` (the one we showed or hold; TA-03, CDR-05).

    Periods the CDR says had no tariff cost nothing (2.2.1 ChargingPeriod.tariff_id); when no
    period names any tariff, or the version cannot say (2.1.1), every period is priced. What
    an operator should look at (another tariff named, embedded tariff differing, totals that
    disagree with the periods) comes back as warnings. Raises TariffError for what cannot be
    priced (another currency, local-time restrictions without a zone, periods after the end).
    `memo`: a running session's, from one update to the next (`pricing.price_session`)."""
    if tariff.currency != cdr.currency:
        raise TariffError(f"the tariff is in {tariff.currency}, the CDR in {cdr.currency}")
    reason = _unpriceable(tariff, "the CDR's location names no time zone we can use")
    if reason is not None:
        raise TariffError(f"the tariff cannot be priced: {reason}")
    wanted = tariff_id.upper()
    warnings = []
    named = {p.tariff_id for p in cdr.periods if p.tariff_id is not None}
    select = cdr.tariff_ids_stated and bool(named)
    if cdr.tariff_ids_stated and not named:
        warnings.append(f"no charging period names a tariff; all are priced with {tariff_id}")
    for other in sorted(named - {wanted}):
        warnings.append(f"charging periods name tariff {other}; priced with {tariff_id}")
    embedded = cdr.tariffs.get(wanted)
    if embedded is not None and embedded != _in_zone(tariff, embedded.time_zone):
        warnings.append(f"the CDR's own tariff {tariff_id} differs from the one priced")
    periods = [
        p.period if p.tariff_id is not None or not select else ChargingPeriod(p.period.start, {})
        for p in cdr.periods
    ]
    warnings += _totals_disagree(cdr)
    vat_fallback = fallback_rate(tariff, cdr.country)
    cost = pricing.price_session(tariff, periods, end=cdr.end, vat_fallback=vat_fallback, memo=memo)
    incl = None
    if cdr.total_cost.incl_vat is not None and cost.total.incl_vat is not None:
        incl = cdr.total_cost.incl_vat - cost.total.incl_vat
    difference = Price(cdr.total_cost.excl_vat - cost.total.excl_vat, incl)
    return CdrCheck(
        cost=cost, cdr_total=cdr.total_cost, difference=difference, warnings=tuple(warnings)
    )


def _totals_disagree(cdr: CdrPricing) -> list[str]:
    """The CDR's totals against its own periods, where the periods state the dimension."""

    def total(dimension: str) -> Decimal | None:
        volumes = [
            p.period.dimensions[dimension] for p in cdr.periods if dimension in p.period.dimensions
        ]
        return sum(volumes, _ZERO) if volumes else None

    energy, charging, parking = total("ENERGY"), total("TIME"), total("PARKING_TIME")
    found = []
    if energy is None:
        found.append(f"total_energy is {cdr.total_energy} kWh; no period states its energy")
    elif energy != cdr.total_energy:
        found.append(f"total_energy is {cdr.total_energy} kWh, the periods add up to {energy}")
    if charging is not None or parking is not None:
        hours = (charging or _ZERO) + (parking or _ZERO)
        if hours != cdr.total_time:
            found.append(f"total_time is {cdr.total_time} h, the periods add up to {hours}")
    stated = cdr.total_parking_time
    if parking is not None and stated is not None and parking != stated:
        found.append(
            f"total_parking_time is {cdr.total_parking_time} h, the periods add up to {parking}"
        )
    return found


def _in_zone(tariff: pricing.Tariff, time_zone: str | None) -> pricing.Tariff:
    return pricing.Tariff(
        currency=tariff.currency,
        elements=tariff.elements,
        min_price=tariff.min_price,
        max_price=tariff.max_price,
        time_zone=time_zone,
        vat_stated=tariff.vat_stated,
        missing_vat_is_fallback=tariff.missing_vat_is_fallback,
        tax_included=tariff.tax_included,
    )
