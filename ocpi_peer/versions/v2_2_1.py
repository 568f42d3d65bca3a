"""OCPI 2.2.1, the reference version: serializers that turn its JSON into our domain values and
back, and the table of modules we serve. What every version shares (field types, values,
helpers) is in `fields`; `v2_1_1` redefines only what differs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from ocpi_peer.transport import format_datetime
from ocpi_peer.versions.fields import (
    COLUMN_LIMIT,
    RECEIVER,
    SENDER,
    VAT_LIMIT,
    WHOLE_LIMIT,
    AnyJson,
    BusinessDetailsSerializer,
    CiStringField,
    Credentials,
    DateTimeField,
    Endpoint,
    GeoLocationSerializer,
    JsonList,
    JsonObject,
    NumberField,
    OpenEnumField,
    Party,
    TokenField,
    UrlField,
    VersionDetailsSerializer,
    blank,
    coordinate_columns,
    optional,
    plain,
    plain_attrs,
    read_nested,
    read_partial,
    rename,
    shaped_like,
    validate,
    without_empty,
)

ROLES = ("CPO", "EMSP", "HUB", "NAP", "NSP", "OTHER", "SCSP")


# --- credentials ------------------------------------------------------------------------------


class CredentialsRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ROLES)
    business_details = BusinessDetailsSerializer()
    party_id = CiStringField(max_length=3)
    country_code = CiStringField(max_length=2, min_length=2)


class CredentialsSerializer(serializers.Serializer):
    token = TokenField()
    url = UrlField()
    roles = serializers.ListField(child=CredentialsRoleSerializer(), min_length=1)

    def validate(self, attrs: dict[str, Any]) -> Credentials:
        parties = tuple(
            Party(
                role=r["role"],
                country_code=r["country_code"],
                party_id=r["party_id"],
                name=r["business_details"]["name"],
                website=r["business_details"].get("website") or "",
            )
            for r in attrs["roles"]
        )
        if len(set(parties)) != len(parties):
            raise serializers.ValidationError("each role, party_id and country_code only once")
        return Credentials(token=attrs["token"], url=attrs["url"], parties=parties)


# --- versions ---------------------------------------------------------------------------------


class EndpointSerializer(serializers.Serializer):
    identifier = serializers.CharField(max_length=64)
    role = serializers.ChoiceField(choices=(SENDER, RECEIVER))
    url = UrlField()

    def validate(self, attrs: dict[str, Any]) -> Endpoint:
        return Endpoint(module=attrs["identifier"], role=attrs["role"], url=attrs["url"])


# --- locations --------------------------------------------------------------------------------


class ConnectorSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=36)
    standard = OpenEnumField()
    format = OpenEnumField()
    power_type = OpenEnumField()
    max_voltage = serializers.IntegerField(min_value=0, max_value=WHOLE_LIMIT)
    max_amperage = serializers.IntegerField(min_value=0, max_value=WHOLE_LIMIT)
    max_electric_power = optional(serializers.IntegerField, min_value=0, max_value=WHOLE_LIMIT)
    tariff_ids = serializers.ListField(
        child=serializers.CharField(max_length=36), required=False, allow_null=True
    )
    terms_and_conditions = optional(UrlField)
    last_updated = DateTimeField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Domain field names: `connector_id`, and a list of tariff ids in every version. Only
        keys present are touched, so the same code serves PUT (full) and PATCH (partial)."""
        rename(attrs, "id", "connector_id")
        blank(attrs, "tariff_ids", "terms_and_conditions")
        return attrs

    def to_representation(self, connector: Any) -> dict[str, Any]:
        data = {
            "id": connector.connector_id,
            "standard": connector.standard,
            "format": connector.format,
            "power_type": connector.power_type,
            "max_voltage": connector.max_voltage,
            "max_amperage": connector.max_amperage,
            "max_electric_power": connector.max_electric_power,
            "tariff_ids": connector.tariff_ids,
            "terms_and_conditions": connector.terms_and_conditions,
            "last_updated": format_datetime(connector.last_updated),
        }
        return without_empty(data, keep=("tariff_ids",) if connector.tariff_ids else ())


class EvseSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=36)
    evse_id = optional(serializers.CharField, max_length=48)
    status = OpenEnumField()
    status_schedule = JsonList()
    capabilities = serializers.ListField(child=OpenEnumField(), required=False, allow_null=True)
    connectors = serializers.ListField(child=shaped_like(ConnectorSerializer), min_length=1)
    floor_level = optional(serializers.CharField, max_length=4)
    coordinates = optional(GeoLocationSerializer)
    physical_reference = optional(serializers.CharField, max_length=16)
    directions = JsonList()
    parking_restrictions = serializers.ListField(
        child=OpenEnumField(), required=False, allow_null=True
    )
    images = JsonList()
    last_updated = DateTimeField()

    connector = ConnectorSerializer

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "connectors" in attrs:
            attrs["connectors"] = [
                read_nested(self.connector, c, "connectors") for c in attrs["connectors"]
            ]
        coordinate_columns(attrs)
        blank(attrs, "evse_id", "floor_level", "physical_reference", "capabilities")
        blank(attrs, "parking_restrictions", "status_schedule", "directions", "images")
        return plain_attrs(attrs)

    def to_representation(self, evse: Any) -> dict[str, Any]:
        data = {
            "uid": evse.uid,
            "evse_id": evse.evse_id,
            "status": evse.status,
            "status_schedule": evse.status_schedule,
            "capabilities": evse.capabilities,
            "connectors": [self.connector().to_representation(c) for c in evse.connectors.all()],
            "floor_level": evse.floor_level,
            "coordinates": {"latitude": evse.latitude, "longitude": evse.longitude}
            if evse.latitude
            else None,
            "physical_reference": evse.physical_reference,
            "directions": evse.directions,
            "parking_restrictions": evse.parking_restrictions,
            "images": evse.images,
            "last_updated": format_datetime(evse.last_updated),
        }
        return without_empty(data)


class LocationSerializer(serializers.Serializer):
    country_code = CiStringField(max_length=2, min_length=2)
    party_id = CiStringField(max_length=3)
    id = serializers.CharField(max_length=36)
    publish = serializers.BooleanField()
    publish_allowed_to = JsonList()
    name = optional(serializers.CharField, max_length=255)
    address = serializers.CharField(max_length=255)
    city = serializers.CharField(max_length=45)
    postal_code = optional(serializers.CharField, max_length=10)
    state = optional(serializers.CharField, max_length=45)
    country = serializers.CharField(max_length=3)
    coordinates = GeoLocationSerializer()
    related_locations = JsonList()
    parking_type = optional(OpenEnumField)
    evses = serializers.ListField(
        child=shaped_like(EvseSerializer), required=False, allow_null=True
    )
    directions = JsonList()
    operator = JsonObject()
    suboperator = JsonObject()
    owner = JsonObject()
    facilities = serializers.ListField(child=OpenEnumField(), required=False, allow_null=True)
    time_zone = serializers.CharField(max_length=255)
    opening_times = JsonObject()
    charging_when_closed = serializers.BooleanField(required=False, allow_null=True)
    images = JsonList()
    energy_mix = JsonObject()
    last_updated = DateTimeField()

    evse = EvseSerializer

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        rename(attrs, "id", "ocpi_id")
        if "evses" in attrs or not self.partial:
            attrs["evses"] = [read_nested(self.evse, e, "evses") for e in attrs.get("evses") or []]
        coordinate_columns(attrs)
        blank(attrs, "name", "postal_code", "state", "parking_type", "time_zone", "facilities")
        blank(attrs, "publish_allowed_to", "related_locations", "directions", "images")
        return plain_attrs(attrs)

    def to_representation(self, location: Any) -> dict[str, Any]:
        data = {
            "country_code": location.country_code,
            "party_id": location.party_id,
            "id": location.ocpi_id,
            "publish": location.publish,
            "publish_allowed_to": location.publish_allowed_to,
            "name": location.name,
            "address": location.address,
            "city": location.city,
            "postal_code": location.postal_code,
            "state": location.state,
            "country": location.country,
            "coordinates": {"latitude": location.latitude, "longitude": location.longitude},
            "related_locations": location.related_locations,
            "parking_type": location.parking_type,
            "evses": [self.evse().to_representation(e) for e in location.evses.all()],
            "directions": location.directions,
            "operator": location.operator,
            "suboperator": location.suboperator,
            "owner": location.owner,
            "facilities": location.facilities,
            "time_zone": location.time_zone,
            "opening_times": location.opening_times,
            "charging_when_closed": location.charging_when_closed,
            "images": location.images,
            "energy_mix": location.energy_mix,
            "last_updated": format_datetime(location.last_updated),
        }
        return without_empty(data, keep=("publish",))


# --- tariffs ----------------------------------------------------------------------------------

TIME = r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$"
DATE = r"^([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


class PriceSerializer(serializers.Serializer):
    """A tariff's min_price or max_price: not negative, and kept in columns of 4 decimals."""

    excl_vat = NumberField(min_value=Decimal(0), places=4)
    incl_vat = optional(NumberField, min_value=Decimal(0), places=4)


class TotalCostSerializer(serializers.Serializer):
    """A session's or CDR's total_cost: negative in a credit CDR, kept in columns of 8 digits
    before the point (the body keeps its exact figures)."""

    excl_vat = NumberField(max_value=COLUMN_LIMIT)
    incl_vat = optional(NumberField, max_value=COLUMN_LIMIT)


class PriceComponentSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=("ENERGY", "FLAT", "PARKING_TIME", "TIME"))
    price = NumberField(min_value=Decimal(0))
    vat = optional(NumberField, min_value=Decimal(0), max_value=VAT_LIMIT)
    step_size = serializers.IntegerField(min_value=0, max_value=WHOLE_LIMIT)


class TariffRestrictionsSerializer(serializers.Serializer):
    start_time = optional(serializers.RegexField, TIME)
    end_time = optional(serializers.RegexField, TIME)
    start_date = optional(serializers.RegexField, DATE)
    end_date = optional(serializers.RegexField, DATE)
    min_kwh = optional(NumberField, min_value=Decimal(0))
    max_kwh = optional(NumberField, min_value=Decimal(0))
    min_current = optional(NumberField, min_value=Decimal(0))
    max_current = optional(NumberField, min_value=Decimal(0))
    min_power = optional(NumberField, min_value=Decimal(0))
    max_power = optional(NumberField, min_value=Decimal(0))
    min_duration = optional(serializers.IntegerField, min_value=0, max_value=WHOLE_LIMIT)
    max_duration = optional(serializers.IntegerField, min_value=0, max_value=WHOLE_LIMIT)
    day_of_week = serializers.ListField(
        child=serializers.ChoiceField(
            choices=("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
        ),
        required=False,
        allow_null=True,
    )
    reservation = optional(serializers.ChoiceField, choices=("RESERVATION", "RESERVATION_EXPIRES"))

    def validate_start_date(self, value: str | None) -> str | None:
        return _calendar_day(value)

    def validate_end_date(self, value: str | None) -> str | None:
        return _calendar_day(value)


def _calendar_day(value: str | None) -> str | None:
    """DATE's pattern lets 2026-02-31 through; pricing would find it unreadable only later."""
    if value:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise serializers.ValidationError(f"{value} is no day of the calendar") from None
    return value


class TariffElementSerializer(serializers.Serializer):
    price_components = serializers.ListField(child=PriceComponentSerializer(), min_length=1)
    restrictions = optional(TariffRestrictionsSerializer)


class TariffSerializer(serializers.Serializer):
    country_code = CiStringField(max_length=2, min_length=2)
    party_id = CiStringField(max_length=3)
    id = serializers.CharField(max_length=36)
    currency = serializers.RegexField(r"^[A-Z]{3}$")
    type = optional(OpenEnumField)
    tariff_alt_text = JsonList()
    tariff_alt_url = optional(UrlField)
    min_price = optional(PriceSerializer)
    max_price = optional(PriceSerializer)
    elements = serializers.ListField(child=TariffElementSerializer(), min_length=1)
    start_date_time = optional(DateTimeField)
    end_date_time = optional(DateTimeField)
    energy_mix = JsonObject()
    last_updated = DateTimeField()

    vat_stated = True

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        rename(attrs, "id", "ocpi_id")
        for name in ("min_price", "max_price"):
            if name in attrs:
                price = attrs.pop(name) or {}
                attrs[f"{name}_excl_vat"] = price.get("excl_vat")
                attrs[f"{name}_incl_vat"] = price.get("incl_vat")
        if "elements" in attrs:
            attrs["elements"] = [
                {
                    "price_components": [
                        without_empty(dict(c), keep=("step_size",)) for c in e["price_components"]
                    ],
                    **(
                        {"restrictions": without_empty(dict(e["restrictions"]))}
                        if e.get("restrictions")
                        else {}
                    ),
                }
                for e in attrs["elements"]
            ]
        blank(attrs, "type", "tariff_alt_url", "tariff_alt_text")
        if not self.partial:
            attrs["vat_stated"] = self.vat_stated
        return plain_attrs(attrs)

    def to_representation(self, tariff: Any) -> dict[str, Any]:
        data = {
            "country_code": tariff.country_code,
            "party_id": tariff.party_id,
            "id": tariff.ocpi_id,
            "currency": tariff.currency,
            "type": tariff.type,
            "tariff_alt_text": tariff.tariff_alt_text,
            "tariff_alt_url": tariff.tariff_alt_url,
            "min_price": _price(tariff.min_price_excl_vat, tariff.min_price_incl_vat),
            "max_price": _price(tariff.max_price_excl_vat, tariff.max_price_incl_vat),
            "elements": _exact(tariff.elements),
            "start_date_time": tariff.start_date_time and format_datetime(tariff.start_date_time),
            "end_date_time": tariff.end_date_time and format_datetime(tariff.end_date_time),
            "energy_mix": tariff.energy_mix,
            "last_updated": format_datetime(tariff.last_updated),
        }
        return without_empty(data)


_NUMERIC_KEYS = frozenset(
    {"price", "vat", "min_kwh", "max_kwh", "min_current", "max_current", "min_power", "max_power"}
)


def _exact(elements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored elements hold numbers as strings; OCPI wants JSON numbers, exactly as they came."""

    def convert(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: convert(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return Decimal(value) if key in _NUMERIC_KEYS and isinstance(value, str) else value

    converted: list[dict[str, Any]] = convert(elements)
    return converted


def _price(excl: Decimal | None, incl: Decimal | None) -> dict[str, Any] | None:
    if excl is None:
        return None
    return {"excl_vat": excl, **({"incl_vat": incl} if incl is not None else {})}


# --- CDRs and session charging periods: what pricing reads ------------------------------------

CDR_DIMENSION_TYPES = (
    "CURRENT",
    "ENERGY",
    "ENERGY_EXPORT",
    "ENERGY_IMPORT",
    "MAX_CURRENT",
    "MIN_CURRENT",
    "MAX_POWER",
    "MIN_POWER",
    "PARKING_TIME",
    "POWER",
    "RESERVATION_TIME",
    "STATE_OF_CHARGE",
    "TIME",
)


class CdrDimensionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=CDR_DIMENSION_TYPES)
    volume = NumberField()


class ChargingPeriodSerializer(serializers.Serializer):
    """A Session's or CDR's ChargingPeriod as plain values for pricing (`stations.tariffs.
    tariff_period` makes the engine's period of them): `start`, `dimensions` (type to volume)
    and the `tariff_id` the CPO says applied (None: none did)."""

    start_date_time = DateTimeField()
    dimensions = serializers.ListField(child=shaped_like(CdrDimensionSerializer), min_length=1)
    tariff_id = optional(CiStringField, max_length=36)

    dimension = CdrDimensionSerializer
    tariff_ids_stated = True  # periods say which tariff applied

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        volumes: dict[str, Decimal] = {}
        for raw in attrs["dimensions"]:
            dimension = read_nested(self.dimension, raw, "dimensions")
            if dimension["type"] in volumes:  # which volume would count is anyone's guess
                raise serializers.ValidationError(
                    {"dimensions": f"{dimension['type']} is given twice"}
                )
            volumes[dimension["type"]] = dimension["volume"]
        return {
            "start": attrs["start_date_time"],
            "dimensions": volumes,
            "tariff_id": attrs.get("tariff_id") or None,
        }


class CdrLocationPricingSerializer(serializers.Serializer):
    """What pricing needs of a CdrLocation: the country, and the `time_zone` some CPOs add
    (2.2.1's CdrLocation has none; then the country's zone, when it has only one)."""

    country = serializers.CharField(max_length=3)
    time_zone = optional(serializers.CharField, max_length=255)


class CdrPricingSerializer(serializers.Serializer):
    """The parts of a CDR that pricing reads (TA-03, CDR-05), as plain values that
    `stations.tariffs.cdr_pricing` turns into the engine's; the other fields are neither read
    nor checked here. Its tariffs are read as the Tariffs module reads them, its periods as
    `ChargingPeriodSerializer` does; the location's `time_zone` is given as it came."""

    start_date_time = DateTimeField()
    end_date_time = DateTimeField()
    currency = serializers.RegexField(r"^[A-Z]{3}$")
    cdr_location = CdrLocationPricingSerializer()
    tariffs = serializers.ListField(
        child=shaped_like(TariffSerializer), required=False, allow_null=True
    )
    charging_periods = serializers.ListField(
        child=shaped_like(ChargingPeriodSerializer), min_length=1
    )
    total_cost = TotalCostSerializer()
    total_energy = NumberField()
    total_time = NumberField()
    total_parking_time = optional(NumberField)

    tariff = TariffSerializer
    charging_period = ChargingPeriodSerializer

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        location = attrs["cdr_location"]
        total = attrs["total_cost"]
        return {
            "start": attrs["start_date_time"],
            "end": attrs["end_date_time"],
            "currency": attrs["currency"],
            "country": location["country"].upper(),
            "time_zone": location.get("time_zone") or None,
            "tariffs": [
                read_nested(self.tariff, raw, "tariffs") for raw in attrs.get("tariffs") or []
            ],
            "periods": [
                read_nested(self.charging_period, p, "charging_periods")
                for p in attrs["charging_periods"]
            ],
            "total_cost_excl_vat": total["excl_vat"],
            "total_cost_incl_vat": total.get("incl_vat"),
            "total_energy": attrs["total_energy"],
            "total_time": attrs["total_time"],
            "total_parking_time": attrs.get("total_parking_time"),
            "tariff_ids_stated": self.charging_period.tariff_ids_stated,
        }


# --- tokens (we are the Sender) ----------------------------------------------------------------


class TokenSerializer(serializers.Serializer):
    """Our single-use ad-hoc token as CPOs see it (checklist §8.3). Written only: CPOs never
    send us our tokens. `whitelist` NEVER: the CPO asks us in real time (TK-04)."""

    token_type = "AD_HOC_USER"  # noqa: S105 — an OCPI TokenType, not a secret

    def to_representation(self, token: Any) -> dict[str, Any]:
        return {
            "country_code": settings.OCPI_COUNTRY_CODE.upper(),
            "party_id": settings.OCPI_PARTY_ID.upper(),
            "uid": token.uid,
            "type": self.token_type,
            "contract_id": token.contract_id,
            "issuer": settings.OCPI_BUSINESS_NAME,
            "valid": token.valid,
            "whitelist": "NEVER",
            "last_updated": format_datetime(token.last_updated),
        }


class LocationReferencesSerializer(serializers.Serializer):
    location_id = serializers.CharField(max_length=39)
    evse_uids = serializers.ListField(
        child=serializers.CharField(max_length=39), required=False, allow_null=True
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["evse_uids"] = attrs.get("evse_uids") or []
        return attrs


class AuthorizationInfoSerializer(serializers.Serializer):
    token = TokenSerializer

    def to_representation(self, answer: Any) -> dict[str, Any]:
        data: dict[str, Any] = {
            "allowed": answer.allowed,
            "token": self.token().to_representation(answer.token),
        }
        if answer.location_id:
            data["location"] = {"location_id": answer.location_id, "evse_uids": answer.evse_uids}
        if answer.authorization_reference:
            data["authorization_reference"] = answer.authorization_reference
        if answer.info:
            data["info"] = {"language": "en", "text": answer.info}
        return data


# --- commands (we are the Sender) --------------------------------------------------------------


class CommandResponseSerializer(serializers.Serializer):
    """The CPO's synchronous answer to a command (checklist §9.3)."""

    result = OpenEnumField()
    timeout = optional(serializers.IntegerField, min_value=0, max_value=WHOLE_LIMIT)
    message = JsonList()


class CommandResultSerializer(serializers.Serializer):
    """What the charger did, POSTed later to our response_url."""

    result = OpenEnumField()
    message = JsonList()


# --- sessions (we are the Receiver) -------------------------------------------------------------


class CdrTokenSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=36)
    type = OpenEnumField()
    contract_id = optional(serializers.CharField, max_length=36)


class SessionSerializer(serializers.Serializer):
    """A CPO's Session (checklist §6.3) into domain fields; for PATCH, only what is given."""

    country_code = CiStringField(max_length=2, min_length=2)
    party_id = CiStringField(max_length=3)
    id = serializers.CharField(max_length=36)
    start_date_time = DateTimeField()
    end_date_time = optional(DateTimeField)
    kwh = NumberField(max_value=COLUMN_LIMIT)
    cdr_token = CdrTokenSerializer()
    auth_method = OpenEnumField()
    authorization_reference = optional(serializers.CharField, max_length=36)
    location_id = serializers.CharField(max_length=36)
    evse_uid = serializers.CharField(max_length=36)
    connector_id = serializers.CharField(max_length=36)
    currency = serializers.RegexField(r"^[A-Z]{3}$")
    charging_periods = JsonList()
    total_cost = optional(TotalCostSerializer)
    status = OpenEnumField()
    last_updated = DateTimeField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        rename(attrs, "id", "session_id")
        rename(attrs, "start_date_time", "start")
        rename(attrs, "end_date_time", "end")
        if "cdr_token" in attrs:
            token = attrs.pop("cdr_token")
            if "uid" not in token:  # a PATCH reads its objects partially: the uid is the token
                raise serializers.ValidationError({"cdr_token": {"uid": "required"}})
            attrs["token_uid"] = token["uid"]
        if "total_cost" in attrs:
            cost = attrs.pop("total_cost") or {}
            attrs["total_cost_excl_vat"] = cost.get("excl_vat")
            attrs["total_cost_incl_vat"] = cost.get("incl_vat")
        attrs.pop("auth_method", None)
        blank(attrs, "authorization_reference")
        return _plain_periods(attrs)


def _plain_periods(attrs: dict[str, Any]) -> dict[str, Any]:
    if "charging_periods" in attrs:
        attrs["charging_periods"] = plain(attrs["charging_periods"] or [])
    return attrs


# --- CDRs (we are the Receiver) ---------------------------------------------------------------


class CdrSerializer(serializers.Serializer):
    """What we keep of a CDR beside its body: totals, credit fields and the keys that link it
    to a checkout (checklist §7.3, §10). The body itself is stored as received."""

    country_code = CiStringField(max_length=2, min_length=2)
    party_id = CiStringField(max_length=3)
    id = serializers.CharField(max_length=39)
    start_date_time = DateTimeField()
    end_date_time = DateTimeField()
    session_id = optional(serializers.CharField, max_length=36)
    cdr_token = CdrTokenSerializer()
    authorization_reference = optional(serializers.CharField, max_length=36)
    currency = serializers.RegexField(r"^[A-Z]{3}$")
    charging_periods = serializers.ListField(child=AnyJson(), min_length=1)
    total_cost = TotalCostSerializer()
    total_energy = NumberField(max_value=COLUMN_LIMIT)
    credit = serializers.BooleanField(required=False, allow_null=True)
    credit_reference_id = optional(serializers.CharField, max_length=39)
    last_updated = DateTimeField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("credit") and not attrs.get("credit_reference_id"):
            raise serializers.ValidationError({"credit_reference_id": "required for a credit CDR"})
        cost = attrs.pop("total_cost")
        token = attrs.pop("cdr_token")
        return {
            "country_code": attrs["country_code"],
            "party_id": attrs["party_id"],
            "cdr_id": attrs["id"],
            "start": attrs["start_date_time"],
            "end": attrs["end_date_time"],
            "session_id": attrs.get("session_id") or "",
            "token_uid": token["uid"],
            "auth_id": "",
            "authorization_reference": attrs.get("authorization_reference") or "",
            "currency": attrs["currency"],
            "total_cost_excl_vat": cost["excl_vat"],
            "total_cost_incl_vat": cost.get("incl_vat"),
            "total_energy": attrs["total_energy"],
            "credit": bool(attrs.get("credit")),
            "credit_reference_id": attrs.get("credit_reference_id") or "",
        }


# --- hubclientinfo (we are the Receiver) -------------------------------------------------------


class ClientInfoSerializer(serializers.Serializer):
    """A party's connection to its hub (checklist HubClientInfo): role and status are open enums,
    kept as sent."""

    party_id = CiStringField(max_length=3)
    country_code = CiStringField(max_length=2, min_length=2)
    role = OpenEnumField()
    status = OpenEnumField()
    last_updated = DateTimeField()

    def to_representation(self, info: Any) -> dict[str, Any]:
        return {
            "party_id": info.party_id,
            "country_code": info.country_code,
            "role": info.role,
            "status": info.status,
            "last_updated": format_datetime(info.last_updated),
        }


class Version:
    number = "2.2.1"
    token_base64 = True  # T-02: the header carries Base64(token)
    routing_headers = True  # T-16: OCPI-to/from-* headers on functional modules
    # What we serve, with the role we play in each (V-07). Later modules add themselves here.
    modules: dict[str, str] = {
        "credentials": SENDER,
        "locations": RECEIVER,
        "tariffs": RECEIVER,
        "tokens": SENDER,
        "commands": SENDER,
        "sessions": RECEIVER,
        "cdrs": RECEIVER,
        "hubclientinfo": RECEIVER,
    }
    # What we use of a CPO, with the interface we call (C-04: what is missing is recorded).
    uses: dict[str, str] = {
        "locations": SENDER,
        "tariffs": SENDER,
        "sessions": SENDER,
        "cdrs": SENDER,
        "tokens": RECEIVER,
        "commands": RECEIVER,
    }
    our_roles: tuple[str, ...] = ("EMSP",)  # the roles our party plays in our credentials
    credentials = CredentialsSerializer
    endpoint = EndpointSerializer
    location = LocationSerializer
    evse = EvseSerializer
    connector = ConnectorSerializer
    tariff = TariffSerializer
    charging_period = ChargingPeriodSerializer
    cdr_pricing = CdrPricingSerializer
    token = TokenSerializer
    location_references = LocationReferencesSerializer
    authorization_info = AuthorizationInfoSerializer
    unknown_token_status = 2004  # real-time authorization of a token we do not know (TK-03)
    command_response = CommandResponseSerializer
    command_result = CommandResultSerializer
    session = SessionSerializer
    cdr = CdrSerializer
    client_info: type[serializers.Serializer] | None = ClientInfoSerializer  # 2.2+ only
    # The Payments module (2.3.0 on): our Terminals and Financial Advice Confirmations.
    terminal: type[serializers.Serializer] | None = None
    financial_advice: type[serializers.Serializer] | None = None
    command_timeout: int | None = None  # the CPO states one in its CommandResponse
    token_type_in_url = True  # the Tokens receiver's ?type= (absent means RFID)
    objects_carry_party = True  # Location and Tariff bodies name their country_code/party_id
    tariff_patch = False  # the Tariffs receiver has no PATCH in 2.2.1 (TA-01)
    patch_needs_last_updated = True
    # A Session PATCH's `charging_periods` are added to those held (mod_sessions, PATCH: "a
    # request to add all the ChargingPeriod objects"; an empty list changes nothing).
    session_patch_appends_periods = True

    @classmethod
    def read(cls, serializer: type[serializers.Serializer], data: Any) -> Any:
        """Validate `data` into the serializer's domain value; ValidationError names the field."""
        return validate(serializer, data)

    @classmethod
    def start_session(
        cls,
        *,
        response_url: str,
        token: dict[str, Any],
        location_id: str,
        evse_uid: str,
        connector_id: str | None,
        authorization_reference: str | None,
    ) -> dict[str, Any]:
        """StartSession (CMD-04): `connector_id` only when the EVSE requires it."""
        body = {
            "response_url": response_url,
            "token": token,
            "location_id": location_id,
            "evse_uid": evse_uid,
            "authorization_reference": authorization_reference,
        }
        if connector_id is not None:
            body["connector_id"] = connector_id
        return body

    @classmethod
    def read_patch(cls, serializer: type[serializers.Serializer], data: Any) -> Any:
        """A PATCH body: only the fields given, each validated; `last_updated` is required in
        2.2.1 (T-07)."""
        if not isinstance(data, dict) or not data:
            raise serializers.ValidationError("a PATCH body is a non-empty object")
        if cls.patch_needs_last_updated and "last_updated" not in data:
            raise serializers.ValidationError({"last_updated": "required in a PATCH"})
        changes = read_partial(serializer, data)
        changes.setdefault("last_updated", timezone.now())  # 2.1.1: when we received it (T-07)
        return changes

    @classmethod
    def read_endpoints(cls, details: Any) -> list[Endpoint]:
        """Their version details. Endpoints we cannot read are skipped, not fatal (T-11): one
        custom module with an odd role must not stop a registration."""
        checked = cls.read(VersionDetailsSerializer, details)
        endpoints = []
        for raw in checked["endpoints"]:
            item = cls.endpoint(data=raw)
            if item.is_valid():
                endpoints.append(item.validated_data)
        return endpoints

    @classmethod
    def write_credentials(cls, *, token: str, url: str, parties: list[Party]) -> dict[str, Any]:
        return {
            "token": token,
            "url": url,
            "roles": [
                {
                    "role": p.role,
                    "business_details": {
                        "name": p.name,
                        **({"website": p.website} if p.website else {}),
                    },
                    "party_id": p.party_id,
                    "country_code": p.country_code,
                }
                for p in parties
            ],
        }

    @classmethod
    def write_endpoint(cls, *, module: str, role: str, url: str) -> dict[str, Any]:
        return {"identifier": module, "role": role, "url": url}
