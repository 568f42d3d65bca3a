from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.response import Response

from ocpi_peer import versions
from ocpi_peer.openapi import operation
from ocpi_peer.transport import OcpiView, envelope
from ocpi_peer.versions.fields import VersionDetailsSerializer, VersionSerializer


def version_url(number: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/ocpi/{number}"


class VersionsView(OcpiView):
    """Every token we issued may read this, token A included (V-06); it has no side effects."""

    accepts_token_a = True

    @operation(
        summary="The OCPI versions we speak",
        data=VersionSerializer(many=True),
        data_name="Versions",
        versions=(),
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        return envelope([{"version": n, "url": version_url(n)} for n in versions.SUPPORTED])


class VersionDetailsView(OcpiView):
    accepts_token_a = True

    @operation(
        summary="Our endpoints in one version",
        data=VersionDetailsSerializer(),
        data_name="VersionDetails",
    )
    def get(self, request: Request, version: str) -> Response:
        spec = versions.get(version)
        endpoints = [
            spec.write_endpoint(module=module, role=role, url=f"{version_url(version)}/{module}")
            for module, role in spec.modules.items()
        ]
        return envelope({"version": version, "endpoints": endpoints})
