"""Either side ends the connection (credentials DELETE); all traffic stops both ways."""

import pytest

from ocpi_peer.models import Partner, PartnerToken
from ocpi_peer.registration import invite_partner, register_with_cpo, unregister_partner
from tests.conftest import StartCpo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("version", ["2.2.1", "2.1.1"])
def test_they_unregister_and_their_token_stops_working(
    cpo_simulator: StartCpo, ocpi_base: str, version: str
) -> None:
    partner, token_a = invite_partner(name="Leaving CPO")
    cpo = cpo_simulator(version=version)
    cpo.register_with(f"{ocpi_base}/versions", token_a)
    token = cpo.emsp_token
    assert cpo.unregister_from_us().json()["status_code"] == 1000
    partner.refresh_from_db()
    assert partner.status == Partner.Status.UNREGISTERED
    assert partner.token == ""
    assert cpo.call_us("GET", f"{ocpi_base}/versions", token=token).status_code == 401


def test_we_unregister_and_the_cpo_forgets_us(cpo_simulator: StartCpo, ocpi_base: str) -> None:
    cpo = cpo_simulator()
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    token = cpo.emsp_token
    note = unregister_partner(partner=partner)
    assert note == "we unregistered"
    assert not cpo.registered
    assert cpo.call_us("GET", f"{ocpi_base}/versions", token=token).status_code == 401
    assert not PartnerToken.objects.usable().exists()


def test_we_unregister_a_cpo_that_is_down_and_still_cut_the_link(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator()
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    cpo.stop()
    note = unregister_partner(partner=partner)
    assert "could not be told" in note
    partner.refresh_from_db()
    assert partner.status == Partner.Status.UNREGISTERED
    assert partner.last_error == note
    assert not PartnerToken.objects.usable().filter(partner=partner).exists()


def test_a_delete_after_unregistering_is_refused(cpo_simulator: StartCpo, ocpi_base: str) -> None:
    _, token_a = invite_partner(name="Twice")
    cpo = cpo_simulator()
    cpo.register_with(f"{ocpi_base}/versions", token_a)
    token = cpo.emsp_token
    cpo.unregister_from_us()
    again = cpo.call_us("DELETE", f"{ocpi_base}/2.2.1/credentials", token=token)
    assert again.status_code == 401  # its token is gone with the registration
