"""OCPI 2.1.1: every difference from 2.2.1, and nothing else."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from ocpi_peer.versions import v2_2_1
from ocpi_peer.versions.fields import (
    COLUMN_LIMIT,
    DROPPED,
    WHOLE_LIMIT,
    BusinessDetailsSerializer,
    CiStringField,
    Credentials,
    DateTimeField,
    Endpoint,
    NumberField,
    OpenEnumField,
    Party,
    TokenField,
    UrlField,
    optional,
    rename,
)


@extend_schema_serializer(component_name="Credentials211")
class CredentialsSerializer(serializers.Serializer):
    """2.1.1 credentials are flat: one party, implicitly the CPO, no roles list (C-02)."""

    token = TokenField()
    url = UrlField()
    business_details = BusinessDetailsSerializer()
    party_id = CiStringField(max_length=3)
    country_code = CiStringField(max_length=2, min_length=2)

    def validate(self, attrs: dict[str, Any]) -> Credentials:
        party = Party(
            role="CPO",
            country_code=attrs["country_code"],
            party_id=attrs["party_id"],
            name=attrs["business_details"]["name"],
            website=attrs["business_details"].get("website") or "",
        )
        return Credentials(token=attrs["token"], url=attrs["url"], parties=(party,))


class EndpointSerializer(serializers.Serializer):
    """2.1.1 endpoints have no role."""

    identifier = serializers.CharField(max_length=64)
    url = UrlField()

    def validate(self, attrs: dict[str, Any]) -> Endpoint:
        return Endpoint(module=attrs["identifier"], role="", url=attrs["url"])


class ConnectorSerializer(v2_2_1.ConnectorSerializer):
    """`voltage`/`amperage` without `max_`, one `tariff_id`, no `max_electric_power`."""

    max_voltage = DROPPED
    max_amperage = DROPPED
    max_electric_power = DROPPED
    tariff_ids = DROPPED
    voltage = serializers.IntegerField(min_value=0, max_value=WHOLE_LIMIT)
    amperage = serializers.IntegerField(min_value=0, max_value=WHOLE_LIMIT)
    tariff_id = optional(serializers.CharField, max_length=36)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        rename(attrs, "voltage", "max_voltage")
        rename(attrs, "amperage", "max_amperage")
        if "tariff_id" in attrs:
            tariff_id = attrs.pop("tariff_id")
            attrs["tariff_ids"] = [tariff_id] if tariff_id else []
        return super().validate(attrs)

    def to_representation(self, connector: Any) -> dict[str, Any]:
        data = super().to_representation(connector)
        data["voltage"] = data.pop("max_voltage")
        data["amperage"] = data.pop("max_amperage")
        data.pop("max_electric_power", None)
        tariff_ids = data.pop("tariff_ids", [])
        if tariff_ids:
            data["tariff_id"] = tariff_ids[0]
        return data


class EvseSerializer(v2_2_1.EvseSerializer):
    """`uid` is string(39) in 2.1.1 (string(36) in 2.2.1), and the connectors are 2.1.1's."""

    uid = serializers.CharField(max_length=39)
    connector = ConnectorSerializer


class LocationSerializer(v2_2_1.LocationSerializer):
    """No country_code/party_id (they come from the URL), publish or state; a required `type`
    instead of `parking_type`; `postal_code` required; `time_zone` optional (checklist 4.5)."""

    country_code = DROPPED
    party_id = DROPPED
    publish = DROPPED
    publish_allowed_to = DROPPED
    state = DROPPED
    parking_type = DROPPED
    id = serializers.CharField(max_length=39)
    type = OpenEnumField()
    address = serializers.CharField(max_length=45)
    postal_code = serializers.CharField(max_length=10)
    time_zone = optional(serializers.CharField, max_length=255)

    evse = EvseSerializer

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        rename(attrs, "type", "parking_type")
        return super().validate(attrs)

    def to_representation(self, location: Any) -> dict[str, Any]:
        data = super().to_representation(location)
        for key in ("country_code", "party_id", "publish", "publish_allowed_to", "state"):
            data.pop(key, None)
        data["type"] = data.pop("parking_type", "UNKNOWN")
        return data


class PriceComponentSerializer(v2_2_1.PriceComponentSerializer):
    """2.1.1 prices exclude VAT and state no rate: a `vat` sent anyway is ignored, since the
    rate we apply is the location country's (checklist TA-07)."""

    vat = DROPPED


class TariffElementSerializer(v2_2_1.TariffElementSerializer):
    """Its price components are 2.1.1's (no `vat`)."""

    price_components = serializers.ListField(child=PriceComponentSerializer(), min_length=1)


class TariffSerializer(v2_2_1.TariffSerializer):
    """No country_code/party_id, type, min/max price, validity window; prices excl. VAT."""

    elements = serializers.ListField(child=TariffElementSerializer(), min_length=1)
    country_code = DROPPED
    party_id = DROPPED
    type = DROPPED
    min_price = DROPPED
    max_price = DROPPED
    start_date_time = DROPPED
    end_date_time = DROPPED

    vat_stated = False

    def to_representation(self, tariff: Any) -> dict[str, Any]:
        data = super().to_representation(tariff)
        for key in ("country_code", "party_id", "type", "min_price", "max_price"):
            data.pop(key, None)
        for key in ("start_date_time", "end_date_time"):
            data.pop(key, None)
        return data


# --- CDRs and charging periods: what pricing reads --------------------------------------------


class CdrDimensionSerializer(v2_2_1.CdrDimensionSerializer):
    """2.1.1 adds FLAT (a fee, no unit). Its other five types are 2.2.1 types; the rest of the
    2.2.1 types are accepted too, as CPMS send them, and the engine ignores what it cannot use."""

    type = serializers.ChoiceField(choices=(*v2_2_1.CDR_DIMENSION_TYPES, "FLAT"))


class ChargingPeriodSerializer(v2_2_1.ChargingPeriodSerializer):
    """No `tariff_id`: a 2.1.1 period cannot say which tariff applied."""

    tariff_id = DROPPED
    dimension = CdrDimensionSerializer
    tariff_ids_stated = False  # so every period is priced, and none is warned about


class CdrPricingSerializer(v2_2_1.CdrPricingSerializer):
    """`location` (a whole Location, whose `time_zone` is optional) instead of `cdr_location`,
    `stop_date_time` instead of `end_date_time`, and `total_cost` a plain number excl. VAT.
    Periods name no tariff: every period is the CDR's tariff (TA-03's 2.1.1 policy)."""

    cdr_location = DROPPED
    end_date_time = DROPPED
    location = v2_2_1.CdrLocationPricingSerializer()
    stop_date_time = DateTimeField()
    total_cost = NumberField(max_value=COLUMN_LIMIT)

    tariff = TariffSerializer
    charging_period = ChargingPeriodSerializer

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        rename(attrs, "location", "cdr_location")
        rename(attrs, "stop_date_time", "end_date_time")
        attrs["total_cost"] = {"excl_vat": attrs["total_cost"]}  # no Price class in 2.1.1
        return super().validate(attrs)


class TokenSerializer(v2_2_1.TokenSerializer):
    """2.1.1 tokens: no party fields, `auth_id` instead of `contract_id`, and only RFID and
    OTHER exist, so the ad-hoc token is OTHER (checklist §8.4)."""

    token_type = "OTHER"  # noqa: S105 — an OCPI TokenType, not a secret

    def to_representation(self, token: Any) -> dict[str, Any]:
        data = super().to_representation(token)
        del data["country_code"], data["party_id"], data["contract_id"]
        return {**data, "auth_id": token.auth_id}


class LocationReferencesSerializer(v2_2_1.LocationReferencesSerializer):
    """2.1.1 can also name connectors (`connector_ids`, dropped in 2.2.1)."""

    connector_ids = serializers.ListField(
        child=serializers.CharField(max_length=36), required=False, allow_null=True
    )


class AuthorizationInfoSerializer(v2_2_1.AuthorizationInfoSerializer):
    """Only `allowed`, `location` and `info` in 2.1.1."""

    def to_representation(self, answer: Any) -> dict[str, Any]:
        data = super().to_representation(answer)
        data.pop("token", None)
        data.pop("authorization_reference", None)
        return data


class SessionSerializer(v2_2_1.SessionSerializer):
    """2.1.1 Sessions: no party fields or authorization_reference, `start_datetime`, `auth_id`
    instead of a cdr_token, the whole Location (its one EVSE and connector name where), and
    `total_cost` a plain number excl. VAT."""

    country_code = DROPPED
    party_id = DROPPED
    start_date_time = DROPPED
    end_date_time = DROPPED
    cdr_token = DROPPED
    authorization_reference = DROPPED
    location_id = DROPPED
    evse_uid = DROPPED
    connector_id = DROPPED
    total_cost = DROPPED
    start_datetime = DateTimeField()
    end_datetime = optional(DateTimeField)
    auth_id = serializers.CharField(max_length=36)
    location = serializers.DictField()
    total_cost = optional(NumberField, max_value=COLUMN_LIMIT)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        rename(attrs, "start_datetime", "start_date_time")
        rename(attrs, "end_datetime", "end_date_time")
        if "location" in attrs:
            location = attrs.pop("location")
            evse = _first(location.get("evses"))
            connector = _first(evse.get("connectors"))
            for key, value, length in (
                ("location_id", location.get("id", ""), 39),
                ("evse_uid", evse.get("uid", ""), 39),
                ("connector_id", connector.get("id", ""), 36),
            ):
                attrs[key] = str(value)
                if len(attrs[key]) > length or not attrs[key].isprintable():
                    raise serializers.ValidationError(
                        {"location": f"its {key} must be at most {length} printable characters"}
                    )
        if "total_cost" in attrs:
            attrs["total_cost"] = {"excl_vat": attrs["total_cost"]}
        return super().validate(attrs)


def _first(objects: Any) -> dict[str, Any]:
    """The first of a list of objects, or an empty one when it is not that."""
    if isinstance(objects, list) and objects and isinstance(objects[0], dict):
        return objects[0]
    return {}


class CdrSerializer(v2_2_1.CdrSerializer):
    """2.1.1 CDRs: no party fields (the URL's party owns them), `stop_date_time`, `auth_id`
    instead of a cdr_token, `total_cost` a number excl. VAT, no credit CDRs (checklist §7.4)."""

    country_code = DROPPED
    party_id = DROPPED
    end_date_time = DROPPED
    session_id = DROPPED
    cdr_token = DROPPED
    authorization_reference = DROPPED
    total_cost = DROPPED
    credit = DROPPED
    credit_reference_id = DROPPED
    stop_date_time = DateTimeField()
    auth_id = serializers.CharField(max_length=36)
    total_cost = NumberField(max_value=COLUMN_LIMIT)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        rename(attrs, "stop_date_time", "end_date_time")
        auth_id = attrs.pop("auth_id")
        attrs["cdr_token"] = {"uid": ""}
        attrs["total_cost"] = {"excl_vat": attrs["total_cost"]}
        attrs.setdefault("country_code", "")
        attrs.setdefault("party_id", "")
        return {**super().validate(attrs), "auth_id": auth_id}


class Version(v2_2_1.Version):
    number = "2.1.1"
    token_base64 = False  # 2.1.1 sends the token raw
    routing_headers = False  # 2.1.1 has no routing headers
    modules = {m: r for m, r in v2_2_1.Version.modules.items() if m != "hubclientinfo"}  # 2.2+
    # the serializers above, where 2.1.1's objects differ from 2.2.1's
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
    unknown_token_status = 2000  # 2.1.1 has no 2004 (TK-03 policy)
    command_result = v2_2_1.CommandResponseSerializer  # the async answer is a CommandResponse
    session = SessionSerializer
    cdr = CdrSerializer
    client_info = None  # no hubclientinfo module before 2.2
    command_timeout = 120  # 2.1.1 states no timeout: our own (checklist §9.4)
    token_type_in_url = False  # no ?type= on 2.1.1 Tokens receiver URLs
    objects_carry_party = False  # the URL's country_code/party_id name the owner
    tariff_patch = True  # the 2.1.1 Tariffs receiver has PATCH
    patch_needs_last_updated = False  # absent: we use the time we received it (T-07)
    # A 2.1.1 PATCH replaces the fields it names, `charging_periods` too: "fields/objects that
    # are not specified are considered unchanged", and no appending is defined.
    session_patch_appends_periods = False

    @classmethod
    def write_credentials(cls, *, token: str, url: str, parties: list[Party]) -> dict[str, Any]:
        party = parties[0]  # 2.1.1 carries a single party
        details = {"name": party.name, **({"website": party.website} if party.website else {})}
        return {
            "token": token,
            "url": url,
            "business_details": details,
            "party_id": party.party_id,
            "country_code": party.country_code,
        }

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
        """2.1.1 StartSession has no connector_id and no authorization_reference."""
        return {
            "response_url": response_url,
            "token": token,
            "location_id": location_id,
            "evse_uid": evse_uid,
        }

    @classmethod
    def write_endpoint(cls, *, module: str, role: str, url: str) -> dict[str, Any]:
        return {"identifier": module, "url": url}
