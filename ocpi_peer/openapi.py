"""The OCPI endpoints we serve as `/api/schema/` describes them: the token security scheme, the
envelope every answer comes in, typed path parameters, and `operation`, the one decorator each
view method carries, saying only what is its own (body, data, the statuses it adds).

The request bodies are the versions' own serializers (2.2.1's: 2.1.1 differs in a few fields,
which the schema does not repeat), so what the schema promises is what we validate. The
description is also what `tests/fuzz/` generates requests from: a status code, a content type
or a body shape left out here fails there."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.serializers import PolymorphicProxySerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import serializers

from ocpi_peer.versions import SUPPORTED

VERSIONS = tuple(SUPPORTED)


class OcpiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """`Authorization: Token <token>`: Base64 of the token in 2.2.1 and 2.3.0, the token itself
    in 2.1.1 (we accept either form in all, as CPMS mix them up)."""

    target_class = "ocpi_peer.transport.OcpiTokenAuthentication"
    name = "ocpiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Token <Base64 of the token>` (2.2.1, 2.3.0) or `Token <token>` (2.1.1)"
            ),
        }


def _string(max_length: int, min_length: int = 1) -> dict[str, Any]:
    return {"type": "string", "minLength": min_length, "maxLength": max_length}


def _path(name: str, schema: dict[str, Any], description: str = "") -> OpenApiParameter:
    return OpenApiParameter(
        name, schema, OpenApiParameter.PATH, required=True, description=description
    )


def path_parameter(name: str, pattern: str, description: str = "") -> OpenApiParameter:
    return _path(name, {"type": "string", "pattern": pattern, "maxLength": 64}, description)


def version_parameter(versions: Sequence[str] = VERSIONS) -> OpenApiParameter:
    return _path("version", {"type": "string", "enum": list(versions)})


# The party in a URL: OCPI's CiString(2) and CiString(3).
PARTY = (
    _path("country_code", _string(2, 2), "ISO 3166-1 alpha-2 of the party"),
    _path("party_id", _string(3, 3), "the party's id (ISO 15118)"),
)


def object_id(name: str, max_length: int = 36) -> OpenApiParameter:
    """An object's id in a URL: OCPI's CiString(36) (39 for a CDR)."""
    return _path(name, _string(max_length))


_ENVELOPES: dict[str, type[serializers.Serializer]] = {}


def envelope_of(name: str, data: serializers.Field | None = None) -> type[serializers.Serializer]:
    """The OCPI response envelope (one schema component per kind of `data`). `data` is never
    required: an OCPI error (2xxx, 3xxx) comes without it, and most of them with HTTP 200."""
    if name not in _ENVELOPES:
        fields: dict[str, serializers.Field] = {
            "status_code": serializers.IntegerField(min_value=1000, max_value=4999),
            "status_message": serializers.CharField(required=False),
            "timestamp": serializers.DateTimeField(),
        }
        if data is not None:
            fields["data"] = _not_required(data)
        _ENVELOPES[name] = type(f"{name}Envelope", (serializers.Serializer,), fields)
    return _ENVELOPES[name]


def _not_required(field: serializers.Field) -> serializers.Field:
    """A copy of `field` that may be absent. Built anew from its arguments, as DRF itself copies
    fields (setting `required` on the instance would be lost in that copy)."""
    args, kwargs = copy.deepcopy(field._args), copy.deepcopy(field._kwargs)
    return type(field)(*args, **{**kwargs, "required": False})


class _AnyOf(PolymorphicProxySerializer):
    """A PolymorphicProxySerializer described as `anyOf`: versions' shapes may overlap."""


class _AnyOfExtension(PolymorphicProxySerializerExtension):  # type: ignore[no-untyped-call]
    target_class = "ocpi_peer.openapi._AnyOf"
    priority = 0

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        mapped = super().map_serializer(auto_schema, direction)  # type: ignore[no-untyped-call]
        return {"anyOf": mapped["oneOf"]}


def either(name: str, *by_version: type[serializers.Serializer]) -> serializers.Serializer:
    """An object whose shape differs by version (2.3.0's, 2.2.1's, 2.1.1's): any of them, not
    exactly one, as a later version's shape may include an earlier one's (a 2.2.1 Credentials
    object is a 2.3.0 one too)."""
    proxy: serializers.Serializer = _AnyOf(
        component_name=name, serializers=list(by_version), resource_type_field_name=None
    )
    return proxy


def _no_data() -> type[serializers.Serializer]:
    return envelope_of("Ocpi")


# Statuses every OCPI endpoint may answer, each in the envelope: body not JSON (400), no or an
# unknown token (401), path or object unknown (404), method not served (405), body too big (413).
_ERRORS = {
    400: "the body is not JSON (2001)",
    401: "no token, or one we did not issue (2000)",
    404: "no such object, or a party that is not the caller's (2000/2001)",
    405: "a method this endpoint does not serve (2000)",
    413: "a body beyond the size we read (2001)",
}


def operation(
    *,
    summary: str,
    request: Any = None,
    data: serializers.Field | None = None,
    data_name: str = "",
    parameters: Sequence[OpenApiParameter] = (),
    versions: Sequence[str] = VERSIONS,
    created: bool = False,
    paginated: bool = False,
    operation_id: str | None = None,
) -> Callable[[Any], Any]:
    """`extend_schema` for one OCPI view method: the version (none for the versions list) and
    the given path `parameters`, `request` as its JSON body, the envelope with `data` (named
    `data_name`) as its 200 (and 201 when `created` says the method can create), the OCPI
    errors beside them, and for a list the pagination parameters and headers (T-19)."""
    success = envelope_of(data_name, data) if data is not None else _no_data()
    responses: dict[int, Any] = {200: success}
    if created:
        responses[201] = OpenApiResponse(success, description="created")
    responses |= {code: OpenApiResponse(_no_data(), description=d) for code, d in _ERRORS.items()}
    all_parameters = [*([version_parameter(versions)] if versions else []), *parameters]
    if paginated:
        all_parameters += [
            OpenApiParameter("offset", OpenApiTypes.INT, description="first item (0)"),
            OpenApiParameter("limit", OpenApiTypes.INT, description="page size (at most 100)"),
            OpenApiParameter("date_from", OpenApiTypes.DATETIME, description="inclusive"),
            OpenApiParameter("date_to", OpenApiTypes.DATETIME, description="exclusive"),
            *(
                OpenApiParameter(name, str, OpenApiParameter.HEADER, response=[200], description=d)
                for name, d in (
                    ("X-Total-Count", "items matching the filters, on every page"),
                    ("X-Limit", "the most items a page holds"),
                    ("Link", '`<next page URL>; rel="next"` while there is one'),
                )
            ),
        ]
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        request=request,
        responses=responses,
        parameters=all_parameters,
        tags=["ocpi"],
    )
