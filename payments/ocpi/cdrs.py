import simplejson
from django.conf import settings
from rest_framework.request import Request
from rest_framework.response import Response

from ocpi_peer import versions
from ocpi_peer.openapi import PARTY, object_id, operation
from ocpi_peer.transport import OcpiError, OcpiView, Status, envelope, own_party
from ocpi_peer.versions.fields import AnyJson
from ocpi_peer.versions.v2_2_1 import CdrSerializer
from payments import settlement
from payments.models import Cdr
from payments.ocpi.errors import DOMAIN_ERRORS


def cdr_url(version: str, cdr: Cdr) -> str:
    owner = f"{cdr.country_code}/{cdr.party_id}"
    return f"{settings.PUBLIC_BASE_URL}/ocpi/{version}/cdrs/{owner}/{cdr.cdr_id}"


class CdrsReceiverView(OcpiView):
    """The CPO POSTs each final CDR here (checklist §7.1): 201 with a `Location` to GET it back;
    the same CDR again is answered the same way and stores nothing (CDR-02)."""

    functional = True
    domain_errors = DOMAIN_ERRORS

    @operation(
        summary="A final CDR: 201 with its Location, the same again 200",
        request=CdrSerializer,
        created=True,
    )
    def post(self, request: Request, version: str) -> Response:
        partner = request.auth.partner
        spec = versions.get(version)
        first = partner.party_keys[0].partition("*") if partner.party_keys else ("", "", "")
        owner, fields = versions.read_owned(
            spec,
            spec.cdr,
            request.data,
            otherwise=(first[0], first[2]),  # owns a 2.1.1 CDR
        )
        own_party(partner, *owner)
        received = settlement.record_cdr(
            partner=partner,
            version=version,
            fields={**fields, "country_code": owner[0], "party_id": owner[1]},
            body=request._request.body.decode("utf-8", errors="replace"),
            canonical=simplejson.dumps(request.data, sort_keys=True, use_decimal=True),
        )
        if received.conflict:
            raise OcpiError(
                Status.INVALID_PARAMETERS, "a different CDR with this id exists: CDRs are immutable"
            )
        location = cdr_url(version, received.cdr)
        return envelope(
            None, http_status=201 if received.created else 200, headers={"Location": location}
        )

    @operation(
        summary="A CDR we received, as it came",
        data=AnyJson(),
        data_name="CdrAsReceived",
        parameters=[*PARTY, object_id("cdr_id", 39)],
    )
    def get(
        self, request: Request, version: str, country_code: str, party_id: str, cdr_id: str
    ) -> Response:
        own_party(request.auth.partner, country_code, party_id)
        cdr = Cdr.objects.filter(
            partner=request.auth.partner,
            country_code=country_code.upper(),
            party_id=party_id.upper(),
            cdr_id=cdr_id,
        ).first()
        if cdr is None:
            raise OcpiError(Status.CLIENT_ERROR, "we hold no such CDR", http_status=404)
        return envelope(simplejson.loads(cdr.body, use_decimal=True))
