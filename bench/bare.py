"""The yardstick for `python -m bench patch`: the same EVSE status write as our Locations
Receiver's PATCH (`stations.services.patch_evse_status`, the same conditional UPDATEs), in a
bare Django view: no middleware, no DRF, no token, no validation, no traffic log, no envelope.
Served by `bench.settings_bare` only; the product never routes to it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from ocpi_peer.models import Partner
from stations import services
from stations.models import Location

_OK = b'{"status_code": 1000}'
# The connection that holds each party's locations, looked up once: the real view has it from
# the token it authenticated.
_HOLDERS: dict[tuple[str, str], Partner] = {}


def _holder(country_code: str, party_id: str) -> Partner:
    key = (country_code.upper(), party_id.upper())
    if key not in _HOLDERS:
        rows = Location.objects.filter(country_code=key[0], party_id=key[1])
        _HOLDERS[key] = Partner(pk=rows.values_list("partner_id", flat=True).first())
    return _HOLDERS[key]


@require_http_methods(["PATCH"])
def evse_status(
    request: HttpRequest, country_code: str, party_id: str, location_id: str, evse_uid: str
) -> HttpResponse:
    body = json.loads(request.body)
    at = datetime.fromisoformat(body["last_updated"]).astimezone(UTC)
    services.patch_evse_status(
        partner=_holder(country_code, party_id),
        country_code=country_code,
        party_id=party_id,
        location_id=location_id,
        evse_uid=evse_uid,
        status=body["status"],
        at=at,
    )
    response = HttpResponse(_OK, content_type="application/json")
    response["Content-Length"] = str(len(_OK))  # CommonMiddleware's job for our own views
    return response
