"""OCPI 2.2.1, the reference version: serializers that turn its JSON into our domain values and
back, and the table of modules we serve. `v2_1_1` redefines only what differs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

SENDER, RECEIVER = "SENDER", "RECEIVER"
ROLES = ("CPO", "EMSP", "HUB", "NAP", "NSP", "OTHER", "SCSP")


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
        value = super().to_internal_value(data)
        if not all("!" <= c <= "~" for c in value):
            raise serializers.ValidationError("only printable ASCII without spaces is allowed")
        return value


class UrlField(serializers.CharField):
    """An absolute http(s) URL; Django's URLField would refuse hosts without a dot."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=255, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not value.startswith(("http://", "https://")) or " " in value:
            raise serializers.ValidationError("must be an absolute http(s) URL")
        return value


class CiStringField(serializers.CharField):
    """Case-insensitive identifiers (T-21) are kept upper-case so that keys compare equal."""

    def to_internal_value(self, data: Any) -> str:
        return super().to_internal_value(data).upper()


# --- credentials ------------------------------------------------------------------------------


class BusinessDetailsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    website = UrlField(required=False, allow_null=True, allow_blank=True)


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


class VersionSerializer(serializers.Serializer):
    version = serializers.CharField(max_length=10)
    url = UrlField()


class EndpointSerializer(serializers.Serializer):
    identifier = serializers.CharField(max_length=64)
    role = serializers.ChoiceField(choices=(SENDER, RECEIVER))
    url = UrlField()

    def validate(self, attrs: dict[str, Any]) -> Endpoint:
        return Endpoint(module=attrs["identifier"], role=attrs["role"], url=attrs["url"])


class VersionDetailsSerializer(serializers.Serializer):
    version = serializers.CharField(max_length=10)
    endpoints = serializers.ListField(child=serializers.DictField(), min_length=1)


class Version:
    number = "2.2.1"
    token_base64 = True  # T-02: the header carries Base64(token)
    # What we serve, with the role we play in each (V-07). Later modules add themselves here.
    modules: dict[str, str] = {"credentials": SENDER}
    # What we use of a CPO, with the interface we call (C-04: what is missing is recorded).
    uses: dict[str, str] = {
        "locations": SENDER,
        "tariffs": SENDER,
        "sessions": SENDER,
        "cdrs": SENDER,
        "tokens": RECEIVER,
        "commands": RECEIVER,
    }
    credentials = CredentialsSerializer
    endpoint = EndpointSerializer

    @classmethod
    def read(cls, serializer: type[serializers.Serializer], data: Any) -> Any:
        """Validate `data` into the serializer's domain value; ValidationError names the field."""
        checked = serializer(data=data)
        checked.is_valid(raise_exception=True)
        return checked.validated_data

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
