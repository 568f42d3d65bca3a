from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from ocpi_peer import versions
from ocpi_peer.transport import OcpiError, OcpiView, Status, envelope, paginate
from payments import services
from payments.models import DriverToken
from payments.ocpi.errors import DOMAIN_ERRORS


class TokensSenderView(OcpiView):
    """CPOs pull our tokens to refresh their cache (TK-02)."""

    functional = True
    domain_errors = DOMAIN_ERRORS

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


class TokenAuthorizeView(OcpiView):
    """Real-time authorization (TK-03): a refused token is still HTTP 200 with AuthorizationInfo;
    only a token we never issued is a 404."""

    functional = True
    domain_errors = DOMAIN_ERRORS

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
