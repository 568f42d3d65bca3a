"""An app or kiosk that asks the driver API for a path it does not have, an EVSE id with
characters no EVSE id has among them, gets the API's JSON error, not an HTML page."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/evses/DE*ABC*É1", "/api/v1/evses/a/b", "/api/v1/nope"])
def test_it_answers_a_json_404(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_found"
