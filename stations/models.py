"""What CPOs offer, version-neutral: locations with their EVSEs and connectors, and tariffs.
Keys are (country_code, party_id, id) upper-cased, as OCPI's CiStrings compare (T-17). Parts of
an object we only show and send back (opening hours, images, energy mix …) are kept as JSON."""

from __future__ import annotations

from django.db import models

from ocpi_peer.models import Partner


class Location(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="locations")
    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)
    ocpi_id = models.CharField("id", max_length=39)
    publish = models.BooleanField(default=True)
    publish_allowed_to = models.JSONField(default=list, blank=True)
    name = models.CharField(max_length=255, blank=True)
    address = models.CharField(max_length=255)
    city = models.CharField(max_length=45)
    postal_code = models.CharField(max_length=10, blank=True)
    state = models.CharField(max_length=45, blank=True)
    country = models.CharField(max_length=3)
    latitude = models.CharField(max_length=11)
    longitude = models.CharField(max_length=12)
    related_locations = models.JSONField(default=list, blank=True)
    parking_type = models.CharField(max_length=32, blank=True)
    directions = models.JSONField(default=list, blank=True)
    operator = models.JSONField(null=True, blank=True)
    suboperator = models.JSONField(null=True, blank=True)
    owner = models.JSONField(null=True, blank=True)
    facilities = models.JSONField(default=list, blank=True)
    time_zone = models.CharField(max_length=255, blank=True)
    opening_times = models.JSONField(null=True, blank=True)
    charging_when_closed = models.BooleanField(null=True, blank=True)
    images = models.JSONField(default=list, blank=True)
    energy_mix = models.JSONField(null=True, blank=True)
    parking_places = models.JSONField(default=list, blank=True)  # 2.3.0 on (AFIR reporting)
    help_phone = models.CharField(max_length=25, blank=True)  # 2.3.0 on
    last_updated = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["country_code", "party_id", "ocpi_id"], name="unique_location"
            )
        ]

    def __str__(self) -> str:
        return self.name or f"{self.address}, {self.city}"


class Evse(models.Model):
    class Status(models.TextChoices):
        AVAILABLE = "AVAILABLE"
        BLOCKED = "BLOCKED"
        CHARGING = "CHARGING"
        INOPERATIVE = "INOPERATIVE"
        OUTOFORDER = "OUTOFORDER"
        PLANNED = "PLANNED"
        REMOVED = "REMOVED"
        RESERVED = "RESERVED"
        UNKNOWN = "UNKNOWN"

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="evses")
    uid = models.CharField(max_length=39)
    evse_id = models.CharField(max_length=48, blank=True)
    # The eMI3 id as QR stickers and drivers write it varies in case and separators: this key
    # (upper case, no `*`, `-` or spaces) is what `/charge/<evse_id>/` looks up.
    lookup_key = models.CharField(max_length=48, blank=True, db_index=True)
    # OCPI enums: unknown values are kept as sent (L-10), as long as the reader takes them.
    status = models.CharField(max_length=40)
    status_schedule = models.JSONField(default=list, blank=True)
    capabilities = models.JSONField(default=list, blank=True)
    floor_level = models.CharField(max_length=4, blank=True)
    latitude = models.CharField(max_length=11, blank=True)
    longitude = models.CharField(max_length=12, blank=True)
    physical_reference = models.CharField(max_length=16, blank=True)
    directions = models.JSONField(default=list, blank=True)
    parking_restrictions = models.JSONField(default=list, blank=True)
    images = models.JSONField(default=list, blank=True)
    parking = models.JSONField(default=list, blank=True)  # 2.3.0 on: EVSEParking
    accepted_service_providers = models.JSONField(default=list, blank=True)  # 2.3.0 on
    last_updated = models.DateTimeField()

    class Meta:
        verbose_name = "EVSE"
        constraints = [models.UniqueConstraint(fields=["location", "uid"], name="unique_evse")]

    def __str__(self) -> str:
        return self.evse_id or self.uid


def evse_lookup_key(evse_id: str) -> str:
    return "".join(c for c in evse_id.upper() if c.isalnum())


class Connector(models.Model):
    evse = models.ForeignKey(Evse, on_delete=models.CASCADE, related_name="connectors")
    connector_id = models.CharField("id", max_length=36)
    standard = models.CharField(max_length=40)
    format = models.CharField(max_length=40)
    power_type = models.CharField(max_length=40)
    max_voltage = models.PositiveIntegerField()
    max_amperage = models.PositiveIntegerField()
    max_electric_power = models.PositiveIntegerField(null=True, blank=True)
    tariff_ids = models.JSONField(default=list, blank=True)
    terms_and_conditions = models.CharField(max_length=255, blank=True)
    capabilities = models.JSONField(default=list, blank=True)  # 2.3.0 on: ConnectorCapability
    last_updated = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["evse", "connector_id"], name="unique_connector")
        ]

    def __str__(self) -> str:
        return f"{self.connector_id} {self.standard}"


class Tariff(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="tariffs")
    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)
    ocpi_id = models.CharField("id", max_length=36)
    currency = models.CharField(max_length=3)
    type = models.CharField(max_length=32, blank=True)
    tariff_alt_text = models.JSONField(default=list, blank=True)
    tariff_alt_url = models.CharField(max_length=255, blank=True)
    min_price_excl_vat = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    min_price_incl_vat = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    max_price_excl_vat = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    max_price_incl_vat = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    # Elements in the 2.2.1 shape, numbers as strings so that no float ever touches a price.
    elements = models.JSONField()
    start_date_time = models.DateTimeField(null=True, blank=True)
    end_date_time = models.DateTimeField(null=True, blank=True)
    energy_mix = models.JSONField(null=True, blank=True)
    vat_stated = models.BooleanField(
        default=True,
        help_text="False where a component without vat takes the country's rate "
        "(2.1.1: prices excl. VAT; 2.3.0: taxes by local law)",
    )
    tax_included = models.CharField(
        max_length=3,
        blank=True,
        help_text="2.3.0: whether the prices include tax (YES), have it added (NO) or carry "
        "none (N/A); empty before 2.3.0: prices excl. VAT",
    )
    preauthorize_amount = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="2.3.0: what to hold on the driver's card, incl. taxes",
    )
    last_updated = models.DateTimeField(db_index=True)
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="retired by the CPO; kept for sessions and CDRs (TA-01)"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["country_code", "party_id", "ocpi_id"], name="unique_tariff"
            )
        ]

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id} {self.ocpi_id}"


class EvseIdAlias(models.Model):
    """An operator's approval that a CPO party may publish EVSE IDs naming another operator id
    (`DE*ABC` publishing `NL*ABC*E…` abroad, or `DE*XYZ` that it also owns). Without one, an
    EVSE whose ID names another operator than its publisher is kept but not payable
    (`stations.evse_ids`): a party may not take the drivers who scan another operator's sticker."""

    country_code = models.CharField(max_length=2, help_text="the publishing CPO party")
    party_id = models.CharField(max_length=3)
    operator_prefix = models.CharField(
        max_length=5, help_text="the operator the IDs name, country and operator id: NL*ABC"
    )
    note = models.TextField(blank=True, help_text="why: a contract, the operator id's register")
    approved_by = models.CharField(max_length=150)
    approved_at = models.DateTimeField()

    class Meta:
        verbose_name = "EVSE ID alias"
        verbose_name_plural = "EVSE ID aliases"
        constraints = [
            models.UniqueConstraint(
                fields=["country_code", "party_id", "operator_prefix"], name="unique_evse_id_alias"
            )
        ]

    def __str__(self) -> str:
        prefix = f"{self.operator_prefix[:2]}*{self.operator_prefix[2:]}"
        return f"{self.country_code}*{self.party_id} may publish {prefix}"
