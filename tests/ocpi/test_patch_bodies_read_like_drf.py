"""`read_partial` reads a PATCH body field by field when all its fields are plain ones, the way
the busiest request (an EVSE status PATCH) comes: it must accept, convert and refuse exactly as
DRF's partial serializer does, with the same messages."""

from decimal import Decimal
from typing import Any

import pytest
from rest_framework import serializers

from ocpi_peer import versions
from ocpi_peer.versions.fields import partial_validator, read_partial

BODIES: list[Any] = [
    {"status": "CHARGING", "last_updated": "2030-01-02T00:00:00.250Z"},
    {"status": "CHARGING", "last_updated": "2030-01-02T00:00:00+02:00"},
    {"status": "SOMETHING_NEW", "last_updated": "2030-01-02T00:00:00"},
    {"status": "", "last_updated": "2030-01-02T00:00:00Z"},
    {"status": None, "last_updated": "yesterday"},
    {"status": 7, "last_updated": 12},
    {"status": "AVAILABLE", "last_updated": "9999-12-31T23:59:59-23:59"},
    {"floor_level": "12345", "physical_reference": None, "last_updated": "2030-01-02T00:00Z"},
    {"evse_id": None, "capabilities": ["RFID_READER"], "last_updated": "2030-01-02T00:00Z"},
    {"coordinates": {"latitude": "52.100000", "longitude": "4.500000"}},
    {"coordinates": {"latitude": "952.1", "longitude": "4.5"}},
    {"connectors": []},
    {"status": "CHARGING", "unknown_field": 1},
    {"max_electric_power": Decimal("22000"), "tariff_ids": ["T1"]},
    ["not", "an", "object"],
]


def through_drf(serializer: type[serializers.Serializer], body: Any) -> Any:
    try:
        return ("ok", dict(partial_validator(serializer).run_validation(body)))
    except serializers.ValidationError as exc:
        return ("refused", exc.detail)


def through_ours(serializer: type[serializers.Serializer], body: Any) -> Any:
    try:
        return ("ok", read_partial(serializer, body))
    except serializers.ValidationError as exc:
        return ("refused", exc.detail)


@pytest.mark.parametrize("version", ["2.1.1", "2.2.1", "2.3.0"])
@pytest.mark.parametrize("level", ["location", "evse", "connector"])
@pytest.mark.parametrize("body", BODIES)
def test_it_reads_a_body_as_drf_does(version: str, level: str, body: Any) -> None:
    serializer = getattr(versions.get(version), level)
    assert through_ours(serializer, body) == through_drf(serializer, body)


def test_a_bad_status_patch_names_both_fields_in_drf_order() -> None:
    serializer = versions.get("2.2.1").evse
    outcome, detail = through_ours(serializer, {"last_updated": "soon", "status": None})
    assert outcome == "refused" and list(detail) == ["status", "last_updated"]
