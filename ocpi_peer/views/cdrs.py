from typing import Any

import simplejson
from django.conf import settings
from rest_framework.request import Request
from rest_framework.response import Response

from ocpi_peer import versions
from ocpi_peer.transport import OcpiError, OcpiView, Status, envelope, own_party
from payments import settlement
from payments.models import Cdr


def cdr_url(version: str, cdr: Cdr) -> str:
    owner = f"{cdr.country_code}/{cdr.party_id}"
    return f"{settings.PUBLIC_BASE_URL}/ocpi/{version}/cdrs/{owner}/{cdr.cdr_id}"


class CdrsReceiverView(OcpiView):
    """The CPO POSTs each final CDR here (checklist §7.1): 201 with a `Location` to GET it back;
    the same CDR again is answered the same way and stores nothing (CDR-02)."""

    functional = True

    def post(self, request: Request, version: str) -> Response:
        partner = request.auth.partner
        spec = versions.get(version)
        fields: dict[str, Any] = spec.read(spec.cdr, request.data)
        if not spec.objects_carry_party:  # 2.1.1: the connection's single party owns it
            fields["country_code"], fields["party_id"] = partner.party_keys[0].split("*")
        own_party(partner, fields["country_code"], fields["party_id"])
        received = settlement.record_cdr(
            partner=partner,
            version=version,
            fields=fields,
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

    def get(
        self, request: Request, version: str, country_code: str, party_id: str, cdr_id: str
    ) -> Response:
        own_party(request.auth.partner, country_code, party_id)
        cdr = Cdr.objects.filter(
            country_code=country_code.upper(), party_id=party_id.upper(), cdr_id=cdr_id
        ).first()
        if cdr is None:
            raise OcpiError(Status.CLIENT_ERROR, "we hold no such CDR", http_status=404)
        return envelope(simplejson.loads(cdr.body, use_decimal=True))
