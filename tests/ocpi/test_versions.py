"""A peer reads our versions and the modules we serve, with any token we issued (V-01 to V-07)."""

import httpx
import pytest

from ocpi_peer.registration import invite_partner
from ocpi_peer.transport import authorization_header

pytestmark = pytest.mark.django_db(transaction=True)


def _get(url: str, token: str, *, base64_form: bool = True) -> httpx.Response:
    return httpx.get(
        url, headers={"Authorization": authorization_header(token, base64_encoded=base64_form)}
    )


def test_versions_lists_230_221_and_211_with_absolute_urls(ocpi_base: str) -> None:
    _, token_a = invite_partner(name="Acme CPO")
    response = _get(f"{ocpi_base}/versions", token_a)
    body = response.json()
    assert response.status_code == 200
    assert body["status_code"] == 1000
    assert body["timestamp"].endswith("Z")
    assert body["data"] == [
        {"version": "2.3.0", "url": f"{ocpi_base}/2.3.0"},
        {"version": "2.2.1", "url": f"{ocpi_base}/2.2.1"},
        {"version": "2.1.1", "url": f"{ocpi_base}/2.1.1"},
    ]


def test_221_details_carry_roles_and_211_details_do_not(ocpi_base: str) -> None:
    _, token_a = invite_partner(name="Acme CPO")
    details_221 = _get(f"{ocpi_base}/2.2.1", token_a).json()["data"]
    details_211 = _get(f"{ocpi_base}/2.1.1/", token_a, base64_form=False).json()["data"]
    assert details_221["version"] == "2.2.1"
    assert {
        "identifier": "credentials",
        "role": "SENDER",
        "url": f"{ocpi_base}/2.2.1/credentials",
    } in (details_221["endpoints"])
    assert {"identifier": "credentials", "url": f"{ocpi_base}/2.1.1/credentials"} in details_211[
        "endpoints"
    ]
    assert all("role" not in e for e in details_211["endpoints"])


def test_versions_need_a_token(ocpi_base: str) -> None:
    response = httpx.get(f"{ocpi_base}/versions")
    assert response.status_code == 401
    assert response.json()["status_code"] == 2000
    assert response.headers["WWW-Authenticate"] == "Token"
