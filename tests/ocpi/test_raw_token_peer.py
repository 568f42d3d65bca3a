"""Many 2.2.1 CPMS send and expect the token raw, as 2.1.1 does (T-02): we cope both ways."""

import pytest

from ocpi_peer.models import Partner
from ocpi_peer.registration import invite_partner, register_with_cpo, rotate_credentials
from tests.conftest import StartCpo

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_raw_token_peer_registers_with_us(cpo_simulator: StartCpo, ocpi_base: str) -> None:
    partner, token_a = invite_partner(name="Raw CPO")
    cpo = cpo_simulator(version="2.2.1", raw_tokens=True)
    assert cpo.register_with(f"{ocpi_base}/versions", token_a).json()["status_code"] == 1000
    partner.refresh_from_db()
    assert partner.is_registered
    assert partner.inbound_token_base64 is False  # what it sends us is recorded
    assert partner.send_token_base64 is False  # and we answer in kind: our GETs retried raw
    rotate_credentials(partner=partner)  # later calls use the form that worked


def test_we_register_with_a_raw_token_peer_after_one_401(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator(version="2.2.1", raw_tokens=True)
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    assert partner.send_token_base64 is False
    first, second = cpo.requests[0], cpo.requests[1]
    assert first.path == second.path == "/ocpi/versions"
    assert first.headers["Authorization"] != second.headers["Authorization"]
    assert second.headers["Authorization"] == f"Token {cpo.token_a}"
    partner = rotate_credentials(partner=partner)
    assert Partner.objects.get(pk=partner.pk).is_registered


def test_a_strict_221_peer_is_called_with_base64(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator(version="2.2.1")
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    assert partner.send_token_base64 is None  # the version's own rule works
    assert len([r for r in cpo.requests if r.path == "/ocpi/versions"]) == 1  # no retry was needed
