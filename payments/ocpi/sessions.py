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
    """The CPO pushes its Sessions (checklist §6): PUT replaces the whole Session, PATCH
    changes what it names (its charging periods appended in 2.2.1, replaced in 2.1.1: the
    version says which). Our GET returns the Session as we hold it."""

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
        body = charging.session_body(session)
        if body is not None:  # as the CPO stated it, so in its version's shape
            return envelope(body)
        return envelope(  # stored before whole Sessions were kept: what we hold of it
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
        outcome = charging.record_session(
            partner=partner,
            country_code=country_code,
            party_id=party_id,
            session_id=session_id,
            data=data,
            patch=False,
            raw=request.data,
        )
        return envelope(None, http_status=201 if outcome == "created" else 200)

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
            raw=request.data,
            append_periods=spec.session_patch_appends_periods,
        )
        return envelope(None)
