"""Bad input gets the right HTTP status and OCPI code with a message, never a 500 (T-13)."""

import pytest

from ocpi_peer.models import Partner
from ocpi_peer.registration import invite_partner
from tests.conftest import StartCpo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cpo_and_token_a(cpo_simulator: StartCpo) -> tuple:
    partner, token_a = invite_partner(name="Clumsy CPO")
    return cpo_simulator(), token_a, partner


def test_malformed_json_is_a_400_with_2001(cpo_and_token_a: tuple, ocpi_base: str) -> None:
    cpo, token_a, partner = cpo_and_token_a
    response = cpo.call_us(
        "POST", f"{ocpi_base}/2.2.1/credentials", token=token_a, content=b'{"token": '
    )
    assert response.status_code == 400
    assert response.json()["status_code"] == 2001
    assert "not valid JSON" in response.json()["status_message"]
    partner.refresh_from_db()
    assert partner.status == Partner.Status.INVITED


def test_missing_fields_are_a_2001_naming_them(cpo_and_token_a: tuple, ocpi_base: str) -> None:
    cpo, token_a, _ = cpo_and_token_a
    response = cpo.call_us(
        "POST", f"{ocpi_base}/2.2.1/credentials", token=token_a, json={"token": "abc"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status_code"] == 2001
    assert "url" in body["status_message"] and "roles" in body["status_message"]


def test_wrong_types_and_bad_tokens_are_a_2001(cpo_and_token_a: tuple, ocpi_base: str) -> None:
    cpo, token_a, _ = cpo_and_token_a
    body = {"token": "has space", "url": "not a url", "roles": [{"role": "KING"}]}
    response = cpo.call_us("POST", f"{ocpi_base}/2.2.1/credentials", token=token_a, json=body)
    message = response.json()["status_message"]
    assert response.json()["status_code"] == 2001
    assert "token" in message and "url" in message and "roles.0.role" in message


def test_a_json_list_instead_of_an_object_is_a_2001(cpo_and_token_a: tuple, ocpi_base: str) -> None:
    cpo, token_a, _ = cpo_and_token_a
    response = cpo.call_us(
        "POST", f"{ocpi_base}/2.1.1/credentials", token=token_a, json=[1, 2], encode=False
    )
    assert response.status_code == 200
    assert response.json()["status_code"] == 2001


def test_a_huge_body_is_refused_with_413(cpo_and_token_a: tuple, ocpi_base: str) -> None:
    cpo, token_a, _ = cpo_and_token_a
    huge = b'{"token": "' + b"x" * 3_000_000 + b'"}'
    response = cpo.call_us("POST", f"{ocpi_base}/2.2.1/credentials", token=token_a, content=huge)
    assert response.status_code == 413
    assert response.json()["status_code"] == 2001


def test_an_unknown_path_is_a_404_envelope(ocpi_base: str, cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator()
    cpo.register_with(f"{ocpi_base}/versions", invite_partner(name="X")[1])
    response = cpo.call_us("GET", f"{ocpi_base}/2.2.1/nothing-here")
    assert response.status_code == 404
    assert response.json()["status_code"] == 2000


def test_an_unknown_token_is_a_401_envelope(ocpi_base: str, cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator()
    response = cpo.call_us("GET", f"{ocpi_base}/versions", token="not-a-token-we-issued")
    assert response.status_code == 401
    assert response.json()["status_code"] == 2000
    assert response.headers["WWW-Authenticate"] == "Token"


def test_patch_on_credentials_is_a_405_envelope(cpo_and_token_a: tuple, ocpi_base: str) -> None:
    cpo, token_a, _ = cpo_and_token_a
    response = cpo.call_us("PATCH", f"{ocpi_base}/2.2.1/credentials", token=token_a, json={})
    assert response.status_code == 405
    assert response.json()["status_code"] == 2000
