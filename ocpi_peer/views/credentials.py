from rest_framework.request import Request
from rest_framework.response import Response

from ocpi_peer import registration
from ocpi_peer.openapi import either, operation
from ocpi_peer.transport import OcpiView, envelope
from ocpi_peer.versions import v2_1_1, v2_2_1, v2_3_0

CREDENTIALS = either(
    "AnyCredentials",
    v2_3_0.CredentialsSerializer,
    v2_2_1.CredentialsSerializer,
    v2_1_1.CredentialsSerializer,
)
OURS = {"data": CREDENTIALS, "data_name": "Credentials"}


class CredentialsView(OcpiView):
    """Registration, rotation and unregistration by the peer (C-03); token A may POST here."""

    accepts_token_a = True

    @operation(summary="Our credentials for the caller", **OURS)
    def get(self, request: Request, version: str) -> Response:
        return envelope(registration.our_credentials(version=version, token=request.auth.plain))

    @operation(summary="Register with token A", request=CREDENTIALS, **OURS)
    def post(self, request: Request, version: str) -> Response:
        return envelope(
            registration.accept_registration(token=request.auth, version=version, body=request.data)
        )

    @operation(summary="Rotate the token or move the endpoints", request=CREDENTIALS, **OURS)
    def put(self, request: Request, version: str) -> Response:
        return envelope(
            registration.update_registration(token=request.auth, version=version, body=request.data)
        )

    @operation(summary="Unregister")
    def delete(self, request: Request, version: str) -> Response:
        registration.remove_registration(token=request.auth)
        return envelope(None)
