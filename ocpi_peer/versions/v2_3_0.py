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

from ocpi_peer.transport import format_datetime
from ocpi_peer.versions import v2_2_1
from ocpi_peer.versions.fields import (
    COLUMN_LIMIT,
    RECEIVER,
    SENDER,
    VAT_LIMIT,
    CiStringField,
    Credentials,
    DateTimeField,
    GeoLocationSerializer,
    JsonList,
    NumberField,
    OpenEnumField,
    Party,
    blank,
    coordinate_columns,
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


# --- payments (we are the Sender: the PTP owns Terminals and Financial Advice Confirmations) --


class TerminalSerializer(serializers.Serializer):
    """A Terminal as a CPO sends it to our Payments Sender (PUT, PATCH, activate), read into the
    fields given (checklist §14.2). Everything is optional: an activation has no `terminal_id`
    (we set it), the spec's PUT example is partial and a PATCH assigns only `location_ids` and
    `evse_uids` (B-26); `last_updated` is ours to set, since we own the object.
    `invoice_base_url` is an OCPI URL, a string(255): the spec's own PUT example sends
    "someNewURL", so it is kept as given and linked only when it is an absolute http(s) URL."""

    terminal_id = optional(serializers.CharField, max_length=36)
    customer_reference = optional(serializers.CharField, max_length=36)
    party_id = optional(CiStringField, max_length=3)
    country_code = optional(CiStringField, max_length=2, min_length=2)
    address = optional(serializers.CharField, max_length=45)
    city = optional(serializers.CharField, max_length=45)
    postal_code = optional(serializers.CharField, max_length=10)
    state = optional(serializers.CharField, max_length=20)
    country = optional(serializers.CharField, max_length=3)
    coordinates = optional(GeoLocationSerializer)
    invoice_base_url = optional(serializers.CharField, max_length=255)
    invoice_creator = optional(serializers.ChoiceField, choices=("CPO", "PTP"))
    reference = optional(serializers.CharField, max_length=36)
    location_ids = serializers.ListField(
        child=serializers.CharField(max_length=36), required=False, allow_null=True
    )
    evse_uids = serializers.ListField(
        child=serializers.CharField(max_length=36), required=False, allow_null=True
    )
    last_updated = optional(DateTimeField)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Domain names: coordinates as two strings, lists never None; the CPO's
        `last_updated` is dropped (ours says when we last changed our object)."""
        attrs.pop("last_updated", None)
        coordinate_columns(attrs)
        for name in ("location_ids", "evse_uids"):
            if name in attrs and attrs[name] is None:
                attrs[name] = []
        if attrs.get("invoice_creator", "") is None:  # null: not stated, ours stands
            del attrs["invoice_creator"]
        for name, value in list(attrs.items()):
            if value is None:
                attrs[name] = ""
        return dict(attrs)

    def to_representation(self, terminal: Any) -> dict[str, Any]:
        data = {
            "terminal_id": terminal.terminal_id,
            "customer_reference": terminal.customer_reference,
            "party_id": terminal.party_id,
            "country_code": terminal.country_code,
            "address": terminal.address,
            "city": terminal.city,
            "postal_code": terminal.postal_code,
            "state": terminal.state,
            "country": terminal.country,
            "coordinates": (
                {"latitude": terminal.latitude, "longitude": terminal.longitude}
                if terminal.latitude
                else None
            ),
            "invoice_base_url": terminal.invoice_base_url,
            "invoice_creator": terminal.invoice_creator,
            "reference": terminal.reference,
            "location_ids": list(terminal.location_ids),
            "evse_uids": list(terminal.evse_uids),
            "last_updated": format_datetime(terminal.last_updated),
        }
        return without_empty(data, keep=("location_ids", "evse_uids"))


class AdvicePriceSerializer(serializers.Serializer):
    """A FinancialAdviceConfirmation's `total_costs`: a 2.3.0 Price (`before_taxes`, `taxes`)
    as the object's definition says, or `excl_vat`/`incl_vat` as all three of the spec's
    examples write it (B-23): both are read (PAY-10), into the amount excl. and incl. VAT."""

    before_taxes = optional(NumberField, max_value=COLUMN_LIMIT)
    taxes = serializers.ListField(child=TaxAmountSerializer(), required=False, allow_null=True)
    excl_vat = optional(NumberField, max_value=COLUMN_LIMIT)
    incl_vat = optional(NumberField, max_value=COLUMN_LIMIT)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Decimal]:
        if attrs.get("before_taxes") is not None:
            taxes = attrs.get("taxes") or []
            net = attrs["before_taxes"]
            return {
                "excl_vat": net,
                "incl_vat": net + sum((t["amount"] for t in taxes), Decimal(0)),
            }
        if attrs.get("excl_vat") is not None:
            gross = attrs.get("incl_vat")
            return {
                "excl_vat": attrs["excl_vat"],
                "incl_vat": attrs["excl_vat"] if gross is None else gross,
            }
        raise serializers.ValidationError("before_taxes is required")


class FinancialAdviceSerializer(serializers.Serializer):
    """A FinancialAdviceConfirmation (checklist §14.2): written by us in the 2.3.0 Price shape,
    with the tax as VAT at the rate applied; read (the spec's examples, a CPO's copy) into
    plain values. `eft_data` is `+` in the spec, yet its failure example has none: read
    leniently, always written with at least one line."""

    id = serializers.CharField(max_length=36)  # CiStrings, kept as written
    authorization_reference = serializers.CharField(max_length=36)
    total_costs = AdvicePriceSerializer()
    currency = serializers.RegexField(r"^[A-Z]{3}$")
    eft_data = serializers.ListField(
        child=serializers.CharField(max_length=255), required=False, allow_null=True
    )
    capture_status_code = OpenEnumField()
    capture_status_message = optional(serializers.CharField, max_length=255)
    last_updated = DateTimeField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        total = attrs.pop("total_costs")
        return {
            "advice_id": attrs["id"],
            "authorization_reference": attrs["authorization_reference"],
            "total_excl_vat": total["excl_vat"],
            "total_incl_vat": total["incl_vat"],
            "currency": attrs["currency"],
            "eft_data": list(attrs.get("eft_data") or []),
            "capture_status_code": attrs["capture_status_code"],
            "capture_status_message": attrs.get("capture_status_message") or "",
            "last_updated": attrs["last_updated"],
        }

    def to_representation(self, advice: Any) -> dict[str, Any]:
        tax = advice.total_incl_vat - advice.total_excl_vat
        taxes = (
            [
                {
                    "name": "VAT",
                    **({"percentage": advice.vat_rate} if advice.vat_rate is not None else {}),
                    "amount": tax,
                }
            ]
            if tax
            else []
        )
        data = {
            "id": advice.advice_id,
            "authorization_reference": advice.authorization_reference,
            "total_costs": {"before_taxes": advice.total_excl_vat, "taxes": taxes},
            "currency": advice.currency,
            "eft_data": list(advice.eft_data),
            "capture_status_code": advice.capture_status_code,
            "capture_status_message": advice.capture_status_message,
            "last_updated": format_datetime(advice.last_updated),
        }
        return without_empty(data)


class Version(v2_2_1.Version):
    number = "2.3.0"
    # What we serve, with the role we play in each: 2.2.1's, and the Payments module's Sender
    # interface (Terminals and Financial Advice Confirmations live under its URL).
    modules: dict[str, str] = {**v2_2_1.Version.modules, "payments": SENDER}
    # The CPO's Payments Receiver: where we create our Terminals and POST each FAC.
    uses: dict[str, str] = {**v2_2_1.Version.uses, "payments": RECEIVER}
    terminal = TerminalSerializer
    financial_advice = FinancialAdviceSerializer
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
