"""OCPI 2.3.0: every difference from 2.2.1, and nothing else (checklist §13, §14).

What we are: the Payment Terminal Provider (role `PTP`) as well as the eMSP whose single-use
`AD_HOC_USER` tokens the Commands carry. Credentials: `HUB` is no role any more; a platform with
hub functionality names itself in `hub_party_id` and lists every party reachable through it in
`roles`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from ocpi_peer.versions import v2_2_1
from ocpi_peer.versions.fields import (
    COLUMN_LIMIT,
    VAT_LIMIT,
    CiStringField,
    Credentials,
    JsonList,
    NumberField,
    OpenEnumField,
    Party,
    blank,
    optional,
    without_empty,
)

# The 2.3.0 Role enum has no PTP, though the spec's role table and its Payments module name it
# one (checklist B-21): we send it, and read it, alongside the enum's values.
ROLES = ("CPO", "EMSP", "NAP", "NSP", "OTHER", "SCSP", "PTP")
HUB_ROLE = "HUB"  # what the rest of the platform knows a hub by (a 2.2.1 hub's role)

# --- credentials ------------------------------------------------------------------------------


@extend_schema_serializer(component_name="CredentialsRole230")
class CredentialsRoleSerializer(v2_2_1.CredentialsRoleSerializer):
    role = serializers.ChoiceField(choices=ROLES)


@extend_schema_serializer(component_name="Credentials230")
class CredentialsSerializer(v2_2_1.CredentialsSerializer):
    """`hub_party_id` (country code and party id in one CiString(5)) is where a 2.3.0 hub names
    itself; it becomes a party with the HUB role, as a 2.2.1 hub names itself, so that routing
    and the parties behind it are handled in one way for both versions."""

    roles = serializers.ListField(child=CredentialsRoleSerializer(), min_length=1)
    hub_party_id = CiStringField(
        min_length=5, max_length=5, required=False, allow_null=True, allow_blank=True
    )

    def validate(self, attrs: dict[str, Any]) -> Credentials:
        credentials = super().validate(attrs)
        hub = attrs.get("hub_party_id")
        if not hub:
            return credentials
        cc, pid = hub[:2], hub[2:]  # no business details of its own: its key names it
        hub_party = Party(role=HUB_ROLE, country_code=cc, party_id=pid, name=f"{cc}*{pid}")
        return Credentials(
            token=credentials.token,
            url=credentials.url,
            parties=(hub_party, *(p for p in credentials.parties if p != hub_party)),
        )


# --- locations: what AFIR reporting added ------------------------------------------------------


class ConnectorSerializer(v2_2_1.ConnectorSerializer):
    """`capabilities` (ConnectorCapability, an OpenEnum: the ISO 15118 Plug & Charge ones)."""

    capabilities = serializers.ListField(child=OpenEnumField(), required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        blank(attrs, "capabilities")
        return super().validate(attrs)

    def to_representation(self, connector: Any) -> dict[str, Any]:
        data = super().to_representation(connector)
        return without_empty({**data, "capabilities": connector.capabilities})


class EvseSerializer(v2_2_1.EvseSerializer):
    """`parking` (EVSEParking: which parking places the EVSE serves, and on which side) and
    `accepted_service_providers` (the eMSPs whose contracts it takes), kept as sent."""

    parking = JsonList()
    accepted_service_providers = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, allow_null=True
    )
    connector = ConnectorSerializer

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "accepted_service_providers" in attrs:
            attrs["accepted_service_providers"] = attrs["accepted_service_providers"] or []
        return super().validate(attrs)

    def to_representation(self, evse: Any) -> dict[str, Any]:
        data = super().to_representation(evse)
        return without_empty(
            {
                **data,
                "parking": evse.parking,
                "accepted_service_providers": evse.accepted_service_providers,
            }
        )


class LocationSerializer(v2_2_1.LocationSerializer):
    """`parking_places` (Parking objects, for NAPs; kept as sent) and `help_phone`."""

    parking_places = JsonList()
    help_phone = optional(serializers.CharField, max_length=25)  # kept as written
    evse = EvseSerializer

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        blank(attrs, "help_phone")
        return super().validate(attrs)

    def to_representation(self, location: Any) -> dict[str, Any]:
        data = super().to_representation(location)
        extra = {"parking_places": location.parking_places, "help_phone": location.help_phone}
        return {**data, **without_empty(extra)}


# --- prices: Price is before_taxes with a list of taxes; tariff limits are PriceLimits ----------


class TaxAmountSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    account_number = optional(serializers.CharField, max_length=255)
    percentage = optional(NumberField, min_value=Decimal(0), max_value=VAT_LIMIT)
    amount = NumberField(max_value=COLUMN_LIMIT)


class TotalCostSerializer(serializers.Serializer):
    """A session's or CDR's Price, read into 2.2.1's two amounts (checklist V23-01): before
    taxes, and after them, that plus every tax listed. No taxes listed means none apply."""

    before_taxes = NumberField(max_value=COLUMN_LIMIT)
    taxes = serializers.ListField(child=TaxAmountSerializer(), required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "before_taxes" not in attrs:  # a PATCH replaces the whole Price, never a part of it
            raise serializers.ValidationError({"before_taxes": "required"})
        taxes = attrs.get("taxes") or []
        after = attrs["before_taxes"] + sum((t["amount"] for t in taxes), Decimal(0))
        return {"excl_vat": attrs["before_taxes"], "incl_vat": after}


class PriceLimitSerializer(serializers.Serializer):
    """A tariff's min_price or max_price: `before_taxes`, and `after_taxes` when stated."""

    before_taxes = NumberField(min_value=Decimal(0), places=4)
    after_taxes = optional(NumberField, min_value=Decimal(0), places=4)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return {"excl_vat": attrs.get("before_taxes"), "incl_vat": attrs.get("after_taxes")}


TAX_INCLUDED = ("YES", "NO", "N/A")


class TariffSerializer(v2_2_1.TariffSerializer):
    """PriceLimits for min_price and max_price; `preauthorize_amount` (what a PTP holds on the
    card, incl. taxes); and the required `tax_included`: whether the components' prices include
    tax (YES), have it added (NO) or carry none (N/A). A component without `vat` names no rate:
    its tax is local law's (the North American tariffs), so the engine takes the location
    country's rate, as for 2.1.1 (`vat_stated` False); N/A means no tax at all."""

    min_price = optional(PriceLimitSerializer)
    max_price = optional(PriceLimitSerializer)
    preauthorize_amount = optional(NumberField, min_value=Decimal(0), places=4)
    tax_included = serializers.ChoiceField(choices=TAX_INCLUDED)

    vat_stated = False

    def to_representation(self, tariff: Any) -> dict[str, Any]:
        data = super().to_representation(tariff)
        for name in ("min_price", "max_price"):
            if name in data:
                price = data.pop(name)
                data[name] = {
                    "before_taxes": price["excl_vat"],
                    **({"after_taxes": price["incl_vat"]} if "incl_vat" in price else {}),
                }
        return without_empty(
            {
                **data,
                "preauthorize_amount": tariff.preauthorize_amount,
                # a tariff a CPO gave us in 2.2.1 or 2.1.1: prices excl. VAT, added on top
                "tax_included": tariff.tax_included or "NO",
            }
        )


class EmbeddedTariffSerializer(TariffSerializer):
    """A tariff inside a CDR. The spec's own CDR example leaves out the required
    `tax_included`; absent, it is NO: prices excl. tax with their VAT on top, as before 2.3.0."""

    tax_included = serializers.ChoiceField(choices=TAX_INCLUDED, required=False, default="NO")


# --- sessions and CDRs ----------------------------------------------------------------------


class CdrPricingSerializer(v2_2_1.CdrPricingSerializer):
    total_cost = TotalCostSerializer()
    tariff = EmbeddedTariffSerializer


class SessionSerializer(v2_2_1.SessionSerializer):
    total_cost = optional(TotalCostSerializer)


class CdrSerializer(v2_2_1.CdrSerializer):
    total_cost = TotalCostSerializer()


class Version(v2_2_1.Version):
    number = "2.3.0"
    # What we serve, with the role we play in each: 2.2.1's (the Payments module joins here).
    modules: dict[str, str] = {**v2_2_1.Version.modules}
    # The roles our one party plays: a PTP, and the eMSP that owns the tokens StartSession names.
    our_roles = ("PTP", "EMSP")
    credentials = CredentialsSerializer
    location = LocationSerializer
    evse = EvseSerializer
    connector = ConnectorSerializer
    tariff = TariffSerializer
    cdr_pricing = CdrPricingSerializer
    session = SessionSerializer
    cdr = CdrSerializer
