"""The yardsticks of `python -m bench patch` and `python -m bench landing`, served by
`bench.settings_bare` only (no middleware); the product never routes to them.

`evse_status`: the same EVSE status write as our Locations Receiver's PATCH
(`stations.services.patch_evse_status`, the same conditional UPDATEs), in a bare Django view:
no DRF, no token, no validation, no traffic log, no envelope.

`charge_page`: the same template as our `/charge/<evse_id>/` from the same data, with one query
a request (the EVSE, with its location and partner): the page's data (`describe_evse`) is built
once per EVSE and language in a process and kept, which is the least any page showing a live
status must do."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET, require_http_methods

from ocpi_peer.models import Partner
from payments import api
from payments.views import PAGE_ESTIMATE, charge_page_context
from stations import l10n, services
from stations.models import Evse, Location, evse_lookup_key

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


_PAGES: dict[tuple[int, str], dict[str, Any]] = {}


@require_GET
def charge_page(request: HttpRequest, evse_id: str) -> HttpResponse:
    translation.activate(translation.get_language_from_request(request))
    evse = Evse.objects.select_related("location__partner").get(lookup_key=evse_lookup_key(evse_id))
    locale = l10n.active_locale()
    if (evse.pk, locale) not in _PAGES:
        _PAGES[(evse.pk, locale)] = api.describe_evse(
            evse, locale=locale, estimate_kwh=PAGE_ESTIMATE
        )
    info = {**_PAGES[(evse.pk, locale)], "status": evse.status}
    context = charge_page_context(evse, info)
    return render(request, "payments/charge.html", context)
