"""Operators invite, register, rotate and unregister partners from the admin, and never see a
token in full there except token A, once, right after minting it."""

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from ocpi_peer.models import Partner
from tests.conftest import StartCpo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("operator", "", "secret-pass"))
    return client


def test_invite_shows_token_a_once_and_the_cpo_can_register_with_it(
    operator: Client, cpo_simulator: StartCpo, ocpi_base: str
) -> None:
    page = operator.post(
        "/admin/ocpi_peer/partner/invite/", {"name": "Invited CPO"}
    ).content.decode()
    token_a = re.search(r'id="token-a">([^<]+)<', page).group(1)
    assert f"{ocpi_base}/versions" in page
    cpo = cpo_simulator()
    assert cpo.register_with(f"{ocpi_base}/versions", token_a).json()["status_code"] == 1000
    partner = Partner.objects.get(name="Invited CPO")
    change = operator.get(f"/admin/ocpi_peer/partner/{partner.pk}/change/").content.decode()
    assert partner.token not in change and cpo.emsp_token not in change and token_a not in change
    assert "NL*SIM" in operator.get("/admin/ocpi_peer/partner/").content.decode()


def test_register_with_a_cpo_from_the_admin(operator: Client, cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator(version="2.1.1")
    response = operator.post(
        "/admin/ocpi_peer/partner/register/",
        {"versions_url": cpo.versions_url, "token": cpo.token_a, "name": "From the admin"},
    )
    partner = Partner.objects.get(name="From the admin")
    assert response.status_code == 302
    assert partner.version == "2.1.1"
    page = operator.get(response["Location"]).content.decode()
    assert "locations" in page and "commands" in page  # its endpoints are listed


def test_a_failed_registration_explains_itself_and_saves_nothing(
    operator: Client, cpo_simulator: StartCpo
) -> None:
    cpo = cpo_simulator()
    cpo.fault = "garbage"
    response = operator.post(
        "/admin/ocpi_peer/partner/register/",
        {"versions_url": cpo.versions_url, "token": cpo.token_a},
    )
    assert response.status_code == 200
    assert "Registration failed (OCPI 3001)" in response.content.decode()
    assert not Partner.objects.exists()


def test_rotate_and_unregister_actions(operator: Client, cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator()
    operator.post(
        "/admin/ocpi_peer/partner/register/",
        {"versions_url": cpo.versions_url, "token": cpo.token_a},
    )
    partner = Partner.objects.get()
    old = partner.token
    url = "/admin/ocpi_peer/partner/"
    page = operator.post(url, {"action": "rotate", "_selected_action": [partner.pk]}, follow=True)
    assert "tokens rotated" in page.content.decode()
    partner.refresh_from_db()
    assert partner.token != old
    page = operator.post(
        url, {"action": "unregister", "_selected_action": [partner.pk]}, follow=True
    )
    assert "we unregistered" in page.content.decode()
    partner.refresh_from_db()
    assert partner.status == Partner.Status.UNREGISTERED
    assert not cpo.registered


def test_the_traffic_log_is_listed_per_partner(operator: Client, cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator()
    operator.post(
        "/admin/ocpi_peer/partner/register/",
        {"versions_url": cpo.versions_url, "token": cpo.token_a},
    )
    partner = Partner.objects.get()
    page = operator.get(
        f"/admin/ocpi_peer/trafficlog/?partner__id__exact={partner.pk}"
    ).content.decode()
    assert "/ocpi/2.2.1/credentials" in page
