from rest_framework.request import Request
from rest_framework.response import Response

from ocpi_peer import registration
from ocpi_peer.transport import OcpiView, envelope


class CredentialsView(OcpiView):
    """Registration, rotation and unregistration by the peer (C-03); token A may POST here."""

    accepts_token_a = True

    def get(self, request: Request, version: str) -> Response:
        return envelope(registration.our_credentials(version=version, token=request.auth.plain))

    def post(self, request: Request, version: str) -> Response:
        return envelope(
            registration.accept_registration(token=request.auth, version=version, body=request.data)
        )

    def put(self, request: Request, version: str) -> Response:
        return envelope(
            registration.update_registration(token=request.auth, version=version, body=request.data)
        )

    def delete(self, request: Request, version: str) -> Response:
        registration.remove_registration(token=request.auth)
        return envelope(None)
