"""Token rotation by PUT, in both directions, while traffic goes on (C-06, C-07)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ocpi_peer.models import Partner, PartnerToken
from ocpi_peer.registration import (
    RegistrationError,
    invite_partner,
    register_with_cpo,
    rotate_credentials,
)
from tests.conftest import StartCpo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("version", ["2.2.1", "2.1.1"])
def test_we_rotate_and_both_sides_use_the_new_tokens(cpo_simulator: StartCpo, version: str) -> None:
    cpo = cpo_simulator(version=version)
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    old_theirs, old_ours = partner.token, cpo.emsp_token
    partner = rotate_credentials(partner=partner)
    assert partner.token != old_theirs
    assert cpo.emsp_token != old_ours
    assert cpo.call_us("GET", "versions").status_code == 200  # the new token works
    assert (
        cpo.call_us("GET", "versions", token=old_ours).status_code == 200
    )  # the old one, for a while
    PartnerToken.objects.filter(expires_at__isnull=False).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert cpo.call_us("GET", "versions", token=old_ours).status_code == 401
    assert cpo.call_us("GET", "versions").status_code == 200
    rotate_credentials(partner=partner)  # their new token C works for our next call


def test_they_rotate_and_we_follow(cpo_simulator: StartCpo, ocpi_base: str) -> None:
    partner, token_a = invite_partner(name="Rotating CPO")
    cpo = cpo_simulator()
    cpo.register_with(f"{ocpi_base}/versions", token_a)
    partner.refresh_from_db()
    old_theirs, old_ours = partner.token, cpo.emsp_token
    answer = cpo.rotate_with_us()
    assert answer.json()["status_code"] == 1000
    partner.refresh_from_db()
    assert partner.token != old_theirs  # we call them with their new token from now on
    assert cpo.emsp_token != old_ours
    assert cpo.call_us("GET", "versions").status_code == 200
    rotate_credentials(partner=partner)  # proves we can still reach them with what they gave us


def test_a_put_with_a_new_versions_url_moves_us_to_the_new_host(
    cpo_simulator: StartCpo, ocpi_base: str
) -> None:
    partner, token_a = invite_partner(name="Moving CPO")
    cpo = cpo_simulator()
    cpo.register_with(f"{ocpi_base}/versions", token_a)
    new_home = cpo_simulator()  # the same CPO answering from a new host, with a new token
    credentials = {
        "token": new_home.token_a,
        "url": new_home.versions_url,
        "roles": [
            {
                "role": "CPO",
                "business_details": {"name": "Moved"},
                "party_id": "SIM",
                "country_code": "NL",
            }
        ],
    }
    answer = cpo.call_us("PUT", "credentials", json=credentials)
    assert answer.json()["status_code"] == 1000
    partner.refresh_from_db()
    assert partner.versions_url == new_home.versions_url
    assert partner.endpoint("locations", "SENDER").startswith(new_home.base_url)
    assert partner.token == new_home.token_a


def test_a_failed_rotation_keeps_the_old_tokens(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator()
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    old_theirs = partner.token
    cpo.fault = "http500"
    with pytest.raises(RegistrationError, match=r"not an OCPI envelope|OCPI 3000"):
        rotate_credentials(partner=partner)
    partner.refresh_from_db()
    assert partner.token == old_theirs
    assert partner.status == Partner.Status.REGISTERED
    assert partner.last_error
    assert cpo.call_us("GET", "versions").status_code == 200
    assert PartnerToken.objects.usable().filter(partner=partner).count() == 1
