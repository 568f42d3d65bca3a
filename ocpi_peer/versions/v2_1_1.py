"""OCPI 2.1.1: every difference from 2.2.1, and nothing else."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ocpi_peer.versions import v2_2_1
from ocpi_peer.versions.v2_2_1 import Credentials, Endpoint, Party


class CredentialsSerializer(serializers.Serializer):
    """2.1.1 credentials are flat: one party, implicitly the CPO, no roles list (C-02)."""

    token = v2_2_1.TokenField()
    url = v2_2_1.UrlField()
    business_details = v2_2_1.BusinessDetailsSerializer()
    party_id = v2_2_1.CiStringField(max_length=3)
    country_code = v2_2_1.CiStringField(max_length=2, min_length=2)

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
    url = v2_2_1.UrlField()

    def validate(self, attrs: dict[str, Any]) -> Endpoint:
        return Endpoint(module=attrs["identifier"], role="", url=attrs["url"])


class Version(v2_2_1.Version):
    number = "2.1.1"
    token_base64 = False  # 2.1.1 sends the token raw
    modules = {m: r for m, r in v2_2_1.Version.modules.items() if m != "hubclientinfo"}
    credentials = CredentialsSerializer
    endpoint = EndpointSerializer

    @classmethod
    def write_credentials(cls, *, token: str, url: str, parties: list[Party]) -> dict[str, Any]:
        party = parties[0]  # 2.1.1 carries a single party
        return {
            "token": token,
            "url": url,
            "business_details": {
                "name": party.name,
                **({"website": party.website} if party.website else {}),
            },
            "party_id": party.party_id,
            "country_code": party.country_code,
        }

    @classmethod
    def write_endpoint(cls, *, module: str, role: str, url: str) -> dict[str, Any]:
        return {"identifier": module, "url": url}
