"""A hub tells us how its parties are connected to it (HubClientInfo Receiver, 2.2 on).
A configuration module: no routing headers (T-16)."""

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from ocpi_peer import parties, versions
from ocpi_peer.openapi import PARTY, operation
from ocpi_peer.transport import OcpiError, OcpiView, Status, envelope, own_party
from ocpi_peer.versions.v2_2_1 import ClientInfoSerializer

WHERE: dict[str, Any] = {
    "parameters": PARTY,
    "versions": tuple(n for n, spec in versions.SUPPORTED.items() if spec.client_info),
}


class HubClientInfoReceiverView(OcpiView):
    """PUT and GET `{url}/{country_code}/{party_id}`, for the parties the connection owns; a
    hub's first ClientInfo of a CPO party nobody holds claims that party for it."""

    @operation(
        summary="The ClientInfo we hold of a party",
        data=ClientInfoSerializer(),
        data_name="ClientInfo",
        **WHERE,
    )
    def get(self, request: Request, version: str, country_code: str, party_id: str) -> Response:
        partner = request.auth.partner
        own_party(partner, country_code, party_id)
        info = parties.client_info(partner=partner, country_code=country_code, party_id=party_id)
        if info is None:
            raise OcpiError(
                Status.CLIENT_ERROR, "we hold no ClientInfo of this party", http_status=404
            )
        serializer = versions.get(version).client_info
        assert serializer is not None  # the route exists from 2.2 on
        return envelope(serializer().to_representation(info))

    @operation(
        summary="A party's connection to its hub",
        request=ClientInfoSerializer,
        created=True,
        **WHERE,
    )
    def put(self, request: Request, version: str, country_code: str, party_id: str) -> Response:
        partner = request.auth.partner
        spec = versions.get(version)
        assert spec.client_info is not None  # the route exists from 2.2 on
        _, data = versions.read_owned(
            spec, spec.client_info, request.data, party=(country_code, party_id)
        )
        if data["role"] != "CPO" and parties.is_hub(partner):
            # A hub tells us of every party it connects, other eMSPs too; we keep the CPOs'.
            return envelope(None)
        own_party(partner, country_code, party_id)
        stored = parties.store_client_info(
            partner=partner,
            country_code=country_code,
            party_id=party_id,
            role=data["role"],
            status=data["status"],
            last_updated=data["last_updated"],
        )
        return envelope(None, http_status=201 if stored == "created" else 200)
