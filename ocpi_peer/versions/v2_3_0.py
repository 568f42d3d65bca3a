"""OCPI 2.3.0: every difference from 2.2.1, and nothing else (checklist §13, §14).

What we are: the Payment Terminal Provider (role `PTP`) as well as the eMSP whose single-use
`AD_HOC_USER` tokens the Commands carry. Credentials: `HUB` is no role any more; a platform with
hub functionality names itself in `hub_party_id` and lists every party reachable through it in
`roles`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from ocpi_peer.versions import v2_2_1
from ocpi_peer.versions.fields import CiStringField, Credentials, Party

# The 2.3.0 Role enum has no PTP, though the spec's role table and its Payments module name it
# one (checklist B-21): we send it, and read it, alongside the enum's values.
ROLES = ("CPO", "EMSP", "NAP", "NSP", "OTHER", "SCSP", "PTP")
HUB_ROLE = "HUB"  # what the rest of the platform knows a hub by (a 2.2.1 hub's role)

# --- credentials ------------------------------------------------------------------------------


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


class Version(v2_2_1.Version):
    number = "2.3.0"
    # What we serve, with the role we play in each: 2.2.1's (the Payments module joins here).
    modules: dict[str, str] = {**v2_2_1.Version.modules}
    # The roles our one party plays: a PTP, and the eMSP that owns the tokens StartSession names.
    our_roles = ("PTP", "EMSP")
    credentials = CredentialsSerializer
