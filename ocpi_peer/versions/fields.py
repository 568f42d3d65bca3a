"""What every OCPI version we speak reads and writes alike: the field types (tokens, URLs,
CiStrings, DateTimes, exact numbers, open enums), the serializers that are the same in every
version, the values registration deals in, and the helpers the version modules build their
serializers with. A version module holds only what is its own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField, get_error_detail
from rest_framework.serializers import as_serializer_error

from ocpi_peer.transport import TimestampOutOfRange, format_datetime, parse_datetime

SENDER, RECEIVER = "SENDER", "RECEIVER"  # the interface a module is offered as

# --- what registration deals in -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Party:
    role: str
    country_code: str
    party_id: str
    name: str
    website: str = ""


@dataclass(frozen=True, slots=True)
class Credentials:
    token: str
    url: str
    parties: tuple[Party, ...]


@dataclass(frozen=True, slots=True)
class Endpoint:
    module: str
    role: str  # "" where the version has no roles
    url: str


# --- shared field types -----------------------------------------------------------------------


class TokenField(serializers.CharField):
    """A credentials token: 1 to 64 printable ASCII characters, no spaces (C-01)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=64, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value: str = super().to_internal_value(data)
        if not all("!" <= c <= "~" for c in value):
            raise serializers.ValidationError("only printable ASCII without spaces is allowed")
        return value


class UrlField(serializers.CharField):
    """An absolute http(s) URL; Django's URLField would refuse hosts without a dot."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=255, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value: str = super().to_internal_value(data)
        if not value.startswith(("http://", "https://")) or " " in value:
            raise serializers.ValidationError("must be an absolute http(s) URL")
        return value


class CiStringField(serializers.CharField):
    """Case-insensitive identifiers (T-21) are kept upper-case so that keys compare equal. At
    most 255 characters unless a shorter length is given (OCPI's are 2 to 39)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 255)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value: str = super().to_internal_value(data)
        return value.upper()


# --- serializers alike in every version -------------------------------------------------------


class BusinessDetailsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    website = UrlField(required=False, allow_null=True, allow_blank=True)


class VersionSerializer(serializers.Serializer):
    version = serializers.CharField(max_length=10)
    url = UrlField()


class VersionDetailsSerializer(serializers.Serializer):
    version = serializers.CharField(max_length=10)
    endpoints = serializers.ListField(child=serializers.DictField(), min_length=1)


# --- common field types for objects -----------------------------------------------------------


@extend_schema_field(OpenApiTypes.DATETIME)
class DateTimeField(serializers.Field):
    """OCPI DateTime: read as CPMS write it (`Z`, `+00:00`, or no zone = UTC), written with `Z`."""

    default_error_messages = {
        "invalid": "not an RFC 3339 date-time: {value!r}",
        "range": "{why}",
    }

    def to_internal_value(self, data: Any) -> datetime:
        try:
            return parse_datetime(data)
        except TimestampOutOfRange as exc:
            self.fail("range", why=str(exc))
            raise  # unreachable: fail() raises
        except (TypeError, ValueError):
            self.fail("invalid", value=data)
            raise  # unreachable: fail() raises

    def to_representation(self, value: datetime) -> str:
        return format_datetime(value)


# What partners' numbers may be (OCPI says only "number"). Large enough for any price, energy,
# power or duration a charger sees, in any currency; small enough for our columns and for the
# arithmetic of every page that shows them: 1e1000 is a finite Decimal no price can be shown of.
LIMIT = Decimal(10**9)  # prices and quantities (kWh, A, kW, hours), and the tariff columns
COLUMN_LIMIT = Decimal(99_999_999)  # a session's or CDR's totals: their columns hold 8 digits
PLACES = 20  # more decimals than a float prints (0.30000000000000004): no CPMS is refused
VAT_LIMIT = Decimal(100)  # VAT is a percentage
# Whole numbers (V, A, W, seconds, Wh): 10**30 V is a valid JSON integer no column holds.
WHOLE_LIMIT = 10**9


@extend_schema_field(OpenApiTypes.NUMBER)
class NumberField(serializers.Field):
    """A JSON number kept exact (Decimal, never float), written back exactly as it came, within
    bounds: between `min_value` (default `-max_value`) and `max_value`, with at most `places`
    decimals. Out of bounds is a 2001 naming the field, never an overflow later."""

    default_error_messages = {
        "invalid": "not a number: {value!r}",
        "max_value": "must be at most {limit}",
        "min_value": "must be at least {limit}",
        "places": "must have at most {places} decimal places",
    }

    def __init__(
        self,
        *,
        max_value: Decimal = LIMIT,
        min_value: Decimal | None = None,
        places: int = PLACES,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_value = max_value
        self.min_value = -max_value if min_value is None else min_value
        self.places = places

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, bool) or not isinstance(data, Decimal | int | str):
            self.fail("invalid", value=data)
        if isinstance(data, str) and len(data) > 64:
            self.fail("invalid", value=data[:64] + "…")
        try:
            value = Decimal(data)
        except InvalidOperation:
            self.fail("invalid", value=data)
        if not value.is_finite():
            self.fail("invalid", value=data)
        if value > self.max_value:  # comparisons are exact, whatever the exponent
            self.fail("max_value", limit=self.max_value)
        if value < self.min_value:
            self.fail("min_value", limit=self.min_value)
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -self.places:
            self.fail("places", places=self.places)
        return value

    def to_representation(self, value: Any) -> Decimal:
        return Decimal(value)


class OpenEnumField(serializers.CharField):
    """Enums are read as strings: an unknown value is kept, never a reason to refuse (L-10)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)


def optional(field: type[serializers.Field], *args: Any, **kwargs: Any) -> serializers.Field:
    """An optional field: absent, null (and for strings, empty) all mean "not given". DRF
    rebuilds fields from their constructor arguments, so these must be passed, not set after."""
    kwargs |= {"required": False, "allow_null": True}
    if issubclass(field, serializers.CharField):
        kwargs["allow_blank"] = True
    return field(*args, **kwargs)


@extend_schema_field(OpenApiTypes.ANY)
class AnyJson(serializers.Field):
    """Any JSON value, as parsed (Decimal numbers included: DRF's JSONField would re-encode it
    with the standard library and refuse a Decimal), but no NUL character in its text."""

    def to_internal_value(self, data: Any) -> Any:
        refuse_nul(data)
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class JsonList(serializers.ListField):
    """A list we keep as JSON without reading into it (images, directions …); null means empty."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=AnyJson(), required=False, allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> list[Any]:
        return [] if data is None else super().to_internal_value(data)


@extend_schema_field({"type": "object", "additionalProperties": {}, "nullable": True})
class JsonObject(serializers.JSONField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if data is not None and not isinstance(data, dict):
            raise serializers.ValidationError("must be an object")
        refuse_nul(data)
        return plain(data)


def refuse_nul(value: Any) -> None:
    """JSON we store as it came may hold any text but NUL (`\\u0000`), which PostgreSQL cannot
    store in text or jsonb; DRF's CharField refuses it for single strings."""
    if isinstance(value, str):
        if "\x00" in value:
            raise serializers.ValidationError("text may not contain the NUL character")
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_nul(key)
            refuse_nul(item)
    elif isinstance(value, list):
        for item in value:
            refuse_nul(item)


def plain(value: Any) -> Any:
    """JSON for a JSONField: Decimals become strings there, so nothing is turned into a float."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def coordinate_columns(attrs: dict[str, Any]) -> None:
    """A GeoLocation given (or nulled) becomes our two columns, `""` for none."""
    if "coordinates" in attrs:
        coordinates = attrs.pop("coordinates") or {}
        attrs["latitude"] = coordinates.get("latitude", "")
        attrs["longitude"] = coordinates.get("longitude", "")


def plain_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    """`plain` for a serializer's validated fields, which stay a dict."""
    return {k: plain(v) for k, v in attrs.items()}


LATITUDE = r"^-?[0-9]{1,2}\.[0-9]{5,7}$"
LONGITUDE = r"^-?[0-9]{1,3}\.[0-9]{5,7}$"


class GeoLocationSerializer(serializers.Serializer):
    latitude = serializers.RegexField(LATITUDE, max_length=10)
    longitude = serializers.RegexField(LONGITUDE, max_length=11)


# --- helpers for the version modules' serializers --------------------------------------------

# A serializer leaves out a field its parent declares when it binds that name to None (DRF's own
# way). Typed Any, as to mypy this is not a field whose type is overridden but one taken away.
DROPPED: Any = None


def rename(attrs: dict[str, Any], old: str, new: str) -> None:
    """A wire name to its domain name. Only a key that is present moves, so the same code
    serves PUT (full) and PATCH (partial) bodies."""
    if old in attrs:
        attrs[new] = attrs.pop(old)


_LISTS = frozenset(
    {
        "tariff_ids",
        "capabilities",
        "parking_restrictions",
        "status_schedule",
        "directions",
        "images",
        "facilities",
        "publish_allowed_to",
        "related_locations",
        "tariff_alt_text",
    }
)


def blank(attrs: dict[str, Any], *keys: str) -> None:
    """A present but null optional field means "none": our empty value for its kind."""
    for key in keys:
        if key in attrs and attrs[key] is None:
            attrs[key] = [] if key in _LISTS else ""


@cache
def _validator(serializer: type[serializers.Serializer]) -> serializers.Serializer:
    """One instance per serializer class, reused: DRF deep-copies every field each time a
    serializer is built, which dominated the cost of reading a page of 1,000 locations."""
    return serializer()


@cache
def partial_validator(serializer: type[serializers.Serializer]) -> serializers.Serializer:
    """As `_validator`, for PATCH bodies (only the fields given)."""
    return serializer(partial=True)


def read_partial(serializer: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """A PATCH body validated as `serializer(partial=True)` does, field by field and then the
    serializer's `validate`, with the same errors. DRF walks every field the serializer has
    to find the two an EVSE status PATCH (the busiest request we answer) carries, which cost
    it a tenth of its CPU; here only the fields given are visited, when all of them are plain
    ones (no `source`, no `validate_<field>`), and DRF does the rest."""
    # mypy takes a class derived from Any (DRF's, unstubbed) for unhashable (python/mypy#11470).
    validator = partial_validator(serializer)  # type: ignore[arg-type]
    plain = _plain_fields(serializer)  # type: ignore[arg-type]
    if not isinstance(data, Mapping) or not data.keys() <= plain.keys():
        return dict(validator.run_validation(data))
    attrs: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for name in [name for name in plain if name in data]:  # DRF's order, for its messages
        try:
            attrs[name] = plain[name].run_validation(data[name])
        except serializers.ValidationError as exc:
            errors[name] = exc.detail
        except DjangoValidationError as exc:
            errors[name] = get_error_detail(exc)
        except SkipField:
            pass
    if errors:
        raise serializers.ValidationError(errors)
    try:
        validator.run_validators(attrs)
        return dict(validator.validate(attrs))
    except (serializers.ValidationError, DjangoValidationError) as exc:
        raise serializers.ValidationError(detail=as_serializer_error(exc)) from exc


@cache
def _plain_fields(serializer: type[serializers.Serializer]) -> dict[str, serializers.Field]:
    validator = partial_validator(serializer)  # type: ignore[arg-type]
    return {
        name: field
        for name, field in validator.fields.items()
        if not field.read_only
        and field.source_attrs == [name]
        and not hasattr(validator, f"validate_{name}")
    }


def validate(serializer: type[serializers.Serializer], data: Any) -> Any:
    """`data` validated into the serializer's domain value; ValidationError names the field."""
    # mypy takes a class derived from Any (DRF's, unstubbed) for unhashable (python/mypy#11470).
    return _validator(serializer).run_validation(data)  # type: ignore[arg-type]


def read_nested(serializer: type[serializers.Serializer], data: Any, where: str) -> Any:
    """A nested object validated by its own (cached) serializer; an error names where it sits."""
    try:
        return validate(serializer, data)
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({where: exc.detail}) from exc


@cache
def _shaped(serializer: type[serializers.Serializer]) -> type[serializers.DictField]:
    shaped: type[serializers.DictField] = extend_schema_field(serializer)(
        type(f"{serializer.__name__}Object", (serializers.DictField,), {})
    )
    return shaped


def shaped_like(serializer: type[serializers.Serializer]) -> serializers.DictField:
    """A JSON object that the parent reads later with `read_nested` (by the serializer its
    version names), described in the schema as `serializer`'s object rather than any object."""
    # mypy takes a class derived from Any (DRF's, unstubbed) for unhashable (python/mypy#11470).
    return _shaped(serializer)()  # type: ignore[arg-type]


def without_empty(data: dict[str, Any], keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """Optional fields we do not have are left out rather than sent as null or ""."""
    return {k: v for k, v in data.items() if k in keep or v not in (None, "", [])}
