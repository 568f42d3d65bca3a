from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import extend_schema_view
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from ocpi_peer import versions
from ocpi_peer.openapi import PARTY, object_id, operation
from ocpi_peer.transport import OcpiError, OcpiView, Status, envelope, own_party, same_id
from ocpi_peer.versions.v2_2_1 import ConnectorSerializer, EvseSerializer, LocationSerializer
from stations import selectors, services
from stations.ocpi.errors import DOMAIN_ERRORS


def _described(
    name: str, serializer: type[serializers.Serializer], *ids: str
) -> Callable[[type[Any]], type[Any]]:
    """The schema of one of the three levels (location, EVSE, connector) the view serves."""
    where: dict[str, Any] = {"parameters": [*PARTY, *(object_id(i) for i in ids)]}
    level = name.lower()
    return extend_schema_view(
        get=operation(
            summary=f"The {name} we hold",
            data=serializer(),
            data_name=name.title(),
            operation_id=f"ocpi_{level}_get",
            **where,
        ),
        put=operation(
            summary=f"A {name}, whole",
            request=serializer,
            created=True,
            operation_id=f"ocpi_{level}_put",
            **where,
        ),
        patch=operation(
            summary=f"Part of a {name}: last_updated and what changed",
            request=serializer(partial=True),
            operation_id=f"ocpi_{level}_patch",
            **where,
        ),
    )


@_described("location", LocationSerializer, "location_id")
class LocationsReceiverView(OcpiView):
    """The CPO pushes its locations, EVSEs and connectors here (checklist §4) and may read back
    what we hold. A partner writes only under its own parties."""

    functional = True
    domain_errors = DOMAIN_ERRORS

    def get(
        self,
        request: Request,
        version: str,
        country_code: str,
        party_id: str,
        location_id: str,
        evse_uid: str | None = None,
        connector_id: str | None = None,
    ) -> Response:
        partner = request.auth.partner
        own_party(partner, country_code, party_id)
        spec = versions.get(version)
        found = selectors.location_object(
            partner, country_code, party_id, location_id, evse_uid, connector_id
        )
        if found is None:
            raise OcpiError(Status.CLIENT_ERROR, "we hold no such object", http_status=404)
        serializer = spec.connector if connector_id else spec.evse if evse_uid else spec.location
        return envelope(serializer().to_representation(found))

    def put(
        self,
        request: Request,
        version: str,
        country_code: str,
        party_id: str,
        location_id: str,
        evse_uid: str | None = None,
        connector_id: str | None = None,
    ) -> Response:
        partner = request.auth.partner
        own_party(partner, country_code, party_id)
        spec = versions.get(version)
        where = {
            "partner": partner,
            "country_code": country_code,
            "party_id": party_id,
            "location_id": location_id,
        }
        if connector_id is not None:
            data = spec.read(spec.connector, request.data)
            same_id(connector_id, data["connector_id"], "connector id")
            created = services.store_connector(**where, evse_uid=evse_uid, data=data)
        elif evse_uid is not None:
            data = spec.read(spec.evse, request.data)
            same_id(evse_uid, data["uid"], "EVSE uid")
            created = services.store_evse(**where, data=data)
        else:
            _, data = versions.read_owned(
                spec, spec.location, request.data, party=(country_code, party_id)
            )
            same_id(location_id, data["ocpi_id"], "location id")
            created = bool(
                services.store_locations(
                    partner=partner, country_code=country_code, party_id=party_id, locations=[data]
                )[0]
            )
        return envelope(None, http_status=201 if created else 200)

    def patch(
        self,
        request: Request,
        version: str,
        country_code: str,
        party_id: str,
        location_id: str,
        evse_uid: str | None = None,
        connector_id: str | None = None,
    ) -> Response:
        partner = request.auth.partner
        own_party(partner, country_code, party_id)
        spec = versions.get(version)
        serializer = spec.connector if connector_id else spec.evse if evse_uid else spec.location
        changes = spec.read_patch(serializer, request.data)
        where = {
            "partner": partner,
            "country_code": country_code,
            "party_id": party_id,
            "location_id": location_id,
        }
        if (
            evse_uid
            and not connector_id
            and set(changes) <= {"status", "last_updated"}
            and "status" in changes
        ):
            services.patch_evse_status(
                **where, evse_uid=evse_uid, status=changes["status"], at=changes["last_updated"]
            )
        else:
            for key in ("ocpi_id", "uid", "connector_id", "country_code", "party_id"):
                changes.pop(key, None)  # identity never changes (L-07)
            services.patch_location(
                **where, evse_uid=evse_uid, connector_id=connector_id, changes=changes
            )
        return envelope(None)


# The same view at each level, so that the schema can tell which object each path takes.
@_described("EVSE", EvseSerializer, "location_id", "evse_uid")
class EvseReceiverView(LocationsReceiverView):
    pass


@_described("connector", ConnectorSerializer, "location_id", "evse_uid", "connector_id")
class ConnectorReceiverView(LocationsReceiverView):
    pass
