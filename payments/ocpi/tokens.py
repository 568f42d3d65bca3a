from typing import Any

from drf_spectacular.utils import extend_schema_view, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from ocpi_peer import versions
from ocpi_peer.openapi import object_id, operation
from ocpi_peer.transport import OcpiError, OcpiView, Status, envelope, paginate
from ocpi_peer.versions.fields import DateTimeField
from ocpi_peer.versions.v2_2_1 import LocationReferencesSerializer
from payments import services
from payments.models import DriverToken
from payments.ocpi.errors import DOMAIN_ERRORS

TOKEN = inline_serializer(
    "OcpiToken",
    {
        "country_code": serializers.CharField(),
        "party_id": serializers.CharField(),
        "uid": serializers.CharField(),
        "type": serializers.CharField(),
        "contract_id": serializers.CharField(),
        "issuer": serializers.CharField(),
        "valid": serializers.BooleanField(),
        "whitelist": serializers.CharField(),
        "last_updated": DateTimeField(),
    },
)
AUTHORIZATION_INFO = inline_serializer(
    "AuthorizationInfo",
    {
        "allowed": serializers.CharField(),
        "token": TOKEN,
        "location": LocationReferencesSerializer(required=False),
        "authorization_reference": serializers.CharField(required=False),
        "info": serializers.DictField(required=False),
    },
)


class TokensSenderView(OcpiView):
    """CPOs pull our tokens to refresh their cache (TK-02)."""

    functional = True
    domain_errors = DOMAIN_ERRORS

    @operation(
        summary="Our tokens, a page at a time (offset, limit, date_from, date_to)",
        data=serializers.ListField(child=TOKEN),
        data_name="OcpiTokens",
        paginated=True,
        operation_id="ocpi_tokens_list",
    )
    def get(self, request: Request, version: str, token_uid: str | None = None) -> Response:
        spec = versions.get(version)
        serializer = spec.token()
        tokens = DriverToken.objects.filter(checkout__partner=request.auth.partner)
        if token_uid is not None:
            token = tokens.filter(uid__iexact=token_uid).first()
            if token is None:
                raise OcpiError(Status.CLIENT_ERROR, "we issued no such token", http_status=404)
            return envelope(serializer.to_representation(token))
        return paginate(
            request,
            tokens,
            lambda page: [serializer.to_representation(t) for t in page],
        )


@extend_schema_view(
    get=operation(
        summary="One of our tokens",
        data=TOKEN,
        data_name="OcpiToken",
        parameters=[object_id("token_uid")],
        operation_id="ocpi_token_get",
    )
)
class TokenSenderView(TokensSenderView):
    """One token (`/tokens/{token_uid}`): the same view, described apart in the schema."""


class TokenAuthorizeView(OcpiView):
    """Real-time authorization (TK-03): a refused token is still HTTP 200 with AuthorizationInfo;
    only a token we never issued is a 404."""

    functional = True
    domain_errors = DOMAIN_ERRORS

    @operation(
        summary="May this token charge here? (real-time authorization)",
        request=LocationReferencesSerializer,
        data=AUTHORIZATION_INFO,
        data_name="AuthorizationInfo",
        parameters=[object_id("token_uid")],
    )
    def post(self, request: Request, version: str, token_uid: str) -> Response:
        spec = versions.get(version)
        location: dict[str, Any] | None = None
        if request.data:
            location = spec.read(spec.location_references, request.data)
        answer = services.authorize_token(
            partner=request.auth.partner,
            uid=token_uid,
            location_id=location["location_id"] if location else None,
            evse_uids=location["evse_uids"] if location else [],
        )
        return envelope(spec.authorization_info().to_representation(answer))
