"""Schemathesis fuzzes every operation `/api/schema/` describes, over real HTTP against the live
server: the OCPI endpoints as a registered CPO (token C, Base64), the driver API as anyone.
Each answer must not be a server error, and must be what the schema says: a documented status,
its content type, its headers and its body's shape. Examples are few per operation and
derandomized, so a run is the same every time and short.

Schemathesis runs the operations as subtests of one test, sharing its fixtures: one registered
CPO, one payable charger, one database for the whole run."""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cpo_simulator import CpoSimulator
from tests.payments.charger import EVSE_ID, charger

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _schema() -> Any:
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw))


# Left out: registering and rotating (POST, PUT) make us call the URL in the body, and a fuzzed
# one would send our traffic to any address; unregistering (DELETE) ends the partner's access,
# so every operation after it would meet a 401. Each has its own tests (tests/ocpi/).
schema = schemathesis.openapi.from_dict(_schema()).exclude(
    path_regex=r"/credentials/$", method=["POST", "PUT", "DELETE"]
)

# Every other example addresses what exists (the registered CPO's party, the seeded charger)
# with a body that names the URL's party and id, so that the fuzzing reaches past "not yours",
# "unknown" and "the body names another object" into the views and what they store. (Every
# other, counted: schemathesis's coverage phase applies `map_case` but draws nothing.)
OURS = {"country_code": "NL", "party_id": "SIM", "evse_id": EVSE_ID}
ID_IN_BODY = {"location_id": "id", "evse_uid": "uid", "connector_id": "id", "tariff_id": "id"}
ID_IN_BODY |= {"session_id": "id"}


def _ours(case: Any) -> Any:
    params = case.path_parameters or {}
    if isinstance(case.body, dict) and "evse_id" in case.body:  # a new checkout at our charger
        case.body = case.body | {"evse_id": EVSE_ID, "connector_id": "1"}
    if not any(name in params for name in OURS):
        return case
    case.path_parameters = params | {k: v for k, v in OURS.items() if k in params}
    if isinstance(case.body, dict):
        last = re.findall(r"\{(\w+)\}", case.operation.path)[-1]
        named = {k: case.path_parameters[k] for k in ("country_code", "party_id")}
        if last in ID_IN_BODY:
            named[ID_IN_BODY[last]] = case.path_parameters[last]
        case.body = case.body | {k: v for k, v in named.items() if k in case.body}
    return case


_turn = itertools.count()


@schema.hook
def map_case(context: Any, case: Any) -> Any:
    return _ours(case) if next(_turn) % 2 else case


@pytest.fixture
def ocpi_headers(connected_cpo: Callable[..., CpoSimulator]) -> dict[str, str]:
    """A CPO registered with us over OCPI 2.2.1 (party NL*SIM), and the header it calls us with."""
    cpo = connected_cpo(country_code=OURS["country_code"], party_id=OURS["party_id"])
    token = cpo.emsp_token
    assert token is not None
    return {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}


@pytest.fixture
def payable_charger(stripe_settings: Any) -> None:
    """A charger drivers can pay at, behind another CPO (DE*ABC), with the fake Stripe."""
    charger()


@schema.parametrize()
@pytest.mark.timeout(300)  # every operation, in one test
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_it_answers_every_request_as_documented(
    case: Any, live_server: Any, ocpi_headers: dict[str, str], payable_charger: None
) -> None:
    headers = ocpi_headers if case.path.startswith("/ocpi/") else {}
    response = case.call(base_url=live_server.url, headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)
