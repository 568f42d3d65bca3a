from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from ocpi_peer import versions
from ocpi_peer.openapi import PARTY, object_id, operation
from ocpi_peer.transport import OcpiError, OcpiView, Status, envelope, own_party, same_id
from ocpi_peer.versions.fields import DateTimeField, NumberField
from ocpi_peer.versions.v2_2_1 import SessionSerializer
from payments import charging
from payments.models import ChargingSession
from payments.ocpi.errors import DOMAIN_ERRORS

WHERE = {"parameters": [*PARTY, object_id("session_id")]}
HELD = inline_serializer(
    "SessionHeld",
    {
        "id": serializers.CharField(),
        "status": serializers.CharField(),
        "kwh": NumberField(),
        "last_updated": DateTimeField(),
    },
)


class SessionsReceiverView(OcpiView):
    """The CPO pushes its Sessions (checklist §6): PUT whole, PATCH partial (charging periods
    are appended). Our GET returns what we hold."""

    functional = True
    domain_errors = DOMAIN_ERRORS

    @operation(summary="What we hold of a session", data=HELD, data_name="SessionHeld", **WHERE)
    def get(
        self, request: Request, version: str, country_code: str, party_id: str, session_id: str
    ) -> Response:
        own_party(request.auth.partner, country_code, party_id)
        session = ChargingSession.objects.filter(
            partner=request.auth.partner,
            country_code=country_code.upper(),
            party_id=party_id.upper(),
            session_id=session_id,
        ).first()
        if session is None:
            raise OcpiError(Status.CLIENT_ERROR, "we hold no such session", http_status=404)
        return envelope(
            {
                "id": session.session_id,
                "status": session.status,
                "kwh": session.kwh,
                "last_updated": session.last_updated,
            }
        )

    @operation(summary="A session, whole", request=SessionSerializer, created=True, **WHERE)
    def put(
        self, request: Request, version: str, country_code: str, party_id: str, session_id: str
    ) -> Response:
        partner = request.auth.partner
        own_party(partner, country_code, party_id)
        spec = versions.get(version)
        _, data = versions.read_owned(
            spec, spec.session, request.data, party=(country_code, party_id)
        )
        same_id(session_id, data.pop("session_id"), "session id")
        created = charging.record_session(
            partner=partner,
            country_code=country_code,
            party_id=party_id,
            session_id=session_id,
            data=data,
            patch=False,
        )
        return envelope(None, http_status=201 if created else 200)

    @operation(
        summary="Part of a session: last_updated and what changed (charging periods are added)",
        request=SessionSerializer(partial=True),
        **WHERE,
    )
    def patch(
        self, request: Request, version: str, country_code: str, party_id: str, session_id: str
    ) -> Response:
        partner = request.auth.partner
        own_party(partner, country_code, party_id)
        spec = versions.get(version)
        changes = spec.read_patch(spec.session, request.data)
        for key in ("session_id", "country_code", "party_id"):
            changes.pop(key, None)
        charging.record_session(
            partner=partner,
            country_code=country_code,
            party_id=party_id,
            session_id=session_id,
            data=changes,
            patch=True,
        )
        return envelope(None)
