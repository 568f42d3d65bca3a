from rest_framework.request import Request
from rest_framework.response import Response

from ocpi_peer import versions
from ocpi_peer.openapi import PARTY, object_id, operation
from ocpi_peer.transport import OcpiError, OcpiView, Status, envelope, own_party, same_id
from ocpi_peer.versions.v2_2_1 import TariffSerializer
from stations import selectors, services
from stations.ocpi.errors import DOMAIN_ERRORS

WHERE = {"parameters": [*PARTY, object_id("tariff_id")]}


class TariffsReceiverView(OcpiView):
    """The CPO pushes and retires its tariffs here (checklist §5.1)."""

    functional = True
    domain_errors = DOMAIN_ERRORS

    @operation(summary="The tariff we hold", data=TariffSerializer(), data_name="Tariff", **WHERE)
    def get(
        self, request: Request, version: str, country_code: str, party_id: str, tariff_id: str
    ) -> Response:
        own_party(request.auth.partner, country_code, party_id)
        tariff = selectors.tariff(request.auth.partner, country_code, party_id, tariff_id)
        if tariff is None:
            raise OcpiError(Status.CLIENT_ERROR, "we hold no such tariff", http_status=404)
        return envelope(versions.get(version).tariff().to_representation(tariff))

    @operation(summary="A tariff, whole", request=TariffSerializer, created=True, **WHERE)
    def put(
        self, request: Request, version: str, country_code: str, party_id: str, tariff_id: str
    ) -> Response:
        partner = request.auth.partner
        own_party(partner, country_code, party_id)
        spec = versions.get(version)
        _, data = versions.read_owned(
            spec, spec.tariff, request.data, party=(country_code, party_id)
        )
        same_id(tariff_id, data["ocpi_id"], "tariff id")
        created, _ = services.store_tariffs(partner=partner, items=[(country_code, party_id, data)])
        return envelope(None, http_status=201 if created else 200)

    @operation(
        summary="Part of a tariff (2.1.1 only; 405 in 2.2.1)",
        request=TariffSerializer(partial=True),
        **WHERE,
    )
    def patch(
        self, request: Request, version: str, country_code: str, party_id: str, tariff_id: str
    ) -> Response:
        own_party(request.auth.partner, country_code, party_id)
        spec = versions.get(version)
        if not spec.tariff_patch:
            raise OcpiError(
                Status.CLIENT_ERROR,
                f"OCPI {version} tariffs have no PATCH: use PUT",
                http_status=405,
            )
        changes = spec.read_patch(spec.tariff, request.data)
        for key in ("ocpi_id", "country_code", "party_id"):
            changes.pop(key, None)
        services.patch_tariff(
            partner=request.auth.partner,
            country_code=country_code,
            party_id=party_id,
            tariff_id=tariff_id,
            changes=changes,
        )
        return envelope(None)

    @operation(summary="Retire a tariff", **WHERE)
    def delete(
        self, request: Request, version: str, country_code: str, party_id: str, tariff_id: str
    ) -> Response:
        own_party(request.auth.partner, country_code, party_id)
        services.delete_tariff(
            partner=request.auth.partner,
            country_code=country_code,
            party_id=party_id,
            tariff_id=tariff_id,
        )
        return envelope(None)
