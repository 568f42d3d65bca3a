"""A CPO registers with us using the token A we minted (flow 2, `ocpi_invite`)."""

import io
import json

import pytest
from django.core.management import call_command

from ocpi_peer.models import Partner
from ocpi_peer.registration import invite_partner
from tests.conftest import StartCpo
from tests.helpers import closed_port_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("version", ["2.2.1", "2.1.1"])
def test_a_cpo_registers_with_our_token_a(
    cpo_simulator: StartCpo, ocpi_base: str, version: str
) -> None:
    partner, token_a = invite_partner(name="Simulated CPO")
    cpo = cpo_simulator(version=version, country_code="BE", party_id="SIM")
    answer = cpo.register_with(f"{ocpi_base}/versions", token_a)
    assert answer.status_code == 200
    assert answer.json()["status_code"] == 1000
    partner.refresh_from_db()
    assert partner.status == Partner.Status.REGISTERED
    assert partner.version == version
    assert partner.versions_url == cpo.versions_url
    assert [(p.country_code, p.party_id) for p in partner.parties.all()] == [("BE", "SIM")]
    assert partner.token  # its token B, which we call it with
    assert cpo.emsp_token != token_a
    assert cpo.call_us("GET", "versions").status_code == 200
    assert cpo.call_us("GET", "versions", token=token_a).status_code == 401  # token A is spent


def test_the_invite_command_prints_our_versions_url_and_token_a(
    cpo_simulator: StartCpo, ocpi_base: str
) -> None:
    out = io.StringIO()
    call_command("ocpi_invite", "--name", "Acme", stdout=out)
    invite = json.loads(out.getvalue())
    assert invite["versions_url"] == f"{ocpi_base}/versions"
    cpo = cpo_simulator()
    assert cpo.register_with(invite["versions_url"], invite["token"]).json()["status_code"] == 1000
    assert Partner.objects.get(pk=invite["partner_id"]).is_registered


def test_registering_twice_is_refused_with_405(cpo_simulator: StartCpo, ocpi_base: str) -> None:
    _, token_a = invite_partner(name="Twice")
    cpo = cpo_simulator()
    cpo.register_with(f"{ocpi_base}/versions", token_a)
    again = cpo.call_us(
        "POST", "credentials", json={"token": "x", "url": cpo.versions_url, "roles": []}
    )
    assert again.status_code == 405
    assert again.json()["status_code"] == 2000


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_put_or_delete_before_registering_is_refused_with_405(
    ocpi_base: str, cpo_simulator: StartCpo, method: str
) -> None:
    _, token_a = invite_partner(name="Early")
    cpo = cpo_simulator()
    response = cpo.call_us(method, f"{ocpi_base}/2.2.1/credentials", token=token_a, json={})
    assert response.status_code == 405


def test_token_a_opens_nothing_but_versions_and_credentials(
    ocpi_base: str, cpo_simulator: StartCpo
) -> None:
    _, token_a = invite_partner(name="Curious")
    cpo = cpo_simulator()
    response = cpo.call_us("GET", f"{ocpi_base}/2.2.1/locations", token=token_a)
    assert response.status_code == 401
    assert response.json()["status_code"] == 2000


def _credentials(cpo_url: str, token: str = "CPO-TOKEN-B-1234567890") -> dict:
    return {
        "token": token,
        "url": cpo_url,
        "roles": [
            {
                "role": "CPO",
                "business_details": {"name": "X"},
                "party_id": "SIM",
                "country_code": "NL",
            }
        ],
    }


def test_we_answer_3001_when_their_versions_cannot_be_read(
    ocpi_base: str, cpo_simulator: StartCpo
) -> None:
    partner, token_a = invite_partner(name="Unreachable")
    cpo = cpo_simulator()
    response = cpo.call_us(
        "POST",
        f"{ocpi_base}/2.2.1/credentials",
        token=token_a,
        json=_credentials(closed_port_url()),
    )
    assert response.status_code == 200
    assert response.json()["status_code"] == 3001
    partner.refresh_from_db()
    assert partner.status == Partner.Status.INVITED
    assert "could not connect" in partner.last_error
    assert (
        cpo.call_us("GET", f"{ocpi_base}/versions", token=token_a).status_code == 200
    )  # A still works


def test_we_answer_3001_when_their_versions_are_garbage(
    ocpi_base: str, cpo_simulator: StartCpo
) -> None:
    partner, token_a = invite_partner(name="Garbage")
    cpo = cpo_simulator()
    cpo.fault = "garbage"
    body = _credentials(cpo.versions_url, token=cpo.token_a)
    response = cpo.call_us("POST", f"{ocpi_base}/2.2.1/credentials", token=token_a, json=body)
    assert response.json()["status_code"] == 3001
    assert "not an OCPI envelope" not in response.json()["status_message"]  # generic for them
    partner.refresh_from_db()
    assert "not an OCPI envelope" in partner.last_error  # the details are the operator's
    assert not partner.is_registered and not partner.endpoints.exists()


def test_we_answer_3002_when_they_do_not_speak_the_version_they_called(
    ocpi_base: str, cpo_simulator: StartCpo
) -> None:
    _, token_a = invite_partner(name="Old")
    cpo = cpo_simulator(version="2.1.1")
    body = _credentials(cpo.versions_url, token=cpo.token_a)
    response = cpo.call_us(
        "POST", f"{ocpi_base}/2.2.1/credentials", token=token_a, json=body, encode=True
    )
    assert response.json()["status_code"] == 3002


def test_we_answer_3003_when_they_offer_no_module_we_use(
    ocpi_base: str, cpo_simulator: StartCpo
) -> None:
    partner, token_a = invite_partner(name="Empty")
    cpo = cpo_simulator(
        omit_modules=("locations", "tariffs", "sessions", "cdrs", "tokens", "commands")
    )
    response = cpo.register_with(f"{ocpi_base}/versions", token_a)
    assert response.json()["status_code"] == 3003
    partner.refresh_from_db()
    assert not partner.is_registered


def test_missing_modules_are_recorded(ocpi_base: str, cpo_simulator: StartCpo) -> None:
    partner, token_a = invite_partner(name="Partial")
    cpo = cpo_simulator(version="2.1.1", omit_modules=("commands",))
    cpo.register_with(f"{ocpi_base}/versions", token_a)
    partner.refresh_from_db()
    assert partner.is_registered
    assert partner.missing_modules == ["commands"]
