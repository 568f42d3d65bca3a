"""A hub (or a CPMS) tells us how its parties are connected to it (HubClientInfo receiver)."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from ocpi_peer import parties
from ocpi_peer.models import ClientInfo, Partner, PartyOwnership

pytestmark = pytest.mark.django_db(transaction=True)


def client_info(
    status: str = "CONNECTED", last_updated: str = "2026-01-01T10:00:00Z", **changes: str
) -> dict:
    return {
        "country_code": "NL",
        "party_id": "SIM",
        "role": "CPO",
        "status": status,
        "last_updated": last_updated,
        **changes,
    }


def test_a_pushed_client_info_is_stored_and_read_back(connected_cpo) -> None:
    cpo = connected_cpo()
    created = cpo.call_us("PUT", "hubclientinfo/NL/SIM", json=client_info("OFFLINE"))
    assert created.status_code == 201 and created.json()["status_code"] == 1000
    read = cpo.call_us("GET", "hubclientinfo/NL/SIM")
    assert read.json()["data"] == client_info("OFFLINE")
    assert "OCPI-from-party-id" not in read.headers  # a configuration module (T-16)
    partner = Partner.objects.get()
    assert parties.client_info(partner=partner, country_code="nl", party_id="sim").status == (
        "OFFLINE"
    )


def test_a_newer_client_info_replaces_the_status_and_an_older_one_changes_nothing(
    connected_cpo,
) -> None:
    cpo = connected_cpo()
    cpo.call_us("PUT", "hubclientinfo/NL/SIM", json=client_info("OFFLINE"))
    newer = client_info("CONNECTED", "2026-01-01T11:00:00Z")
    assert cpo.call_us("PUT", "hubclientinfo/NL/SIM", json=newer).status_code == 200
    older = client_info("SUSPENDED", "2026-01-01T10:30:00Z")
    assert cpo.call_us("PUT", "hubclientinfo/NL/SIM", json=older).json()["status_code"] == 1000
    assert ClientInfo.objects.get().status == "CONNECTED"


def test_the_client_info_of_a_party_the_connection_does_not_own_is_refused(
    connected_cpo,
) -> None:
    cpo = connected_cpo()
    other = client_info(country_code="DE", party_id="XYZ")
    response = cpo.call_us("PUT", "hubclientinfo/DE/XYZ", json=other)
    assert response.status_code == 404 and response.json()["status_code"] == 2001
    assert cpo.call_us("GET", "hubclientinfo/DE/XYZ").status_code == 404
    assert not ClientInfo.objects.exists()


def test_a_body_naming_another_party_than_the_url_is_refused(connected_cpo) -> None:
    cpo = connected_cpo()
    response = cpo.call_us("PUT", "hubclientinfo/NL/SIM", json=client_info(party_id="XYZ"))
    assert response.status_code == 200 and response.json()["status_code"] == 2001
    assert not ClientInfo.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"country_code": "NL", "party_id": "SIM", "role": "CPO", "status": "OFFLINE"},
        {**client_info(), "last_updated": "yesterday"},
        [1, 2],
        "OFFLINE",
    ],
)
def test_a_bad_client_info_is_refused_without_a_server_error(connected_cpo, body) -> None:
    cpo = connected_cpo()
    response = cpo.call_us("PUT", "hubclientinfo/NL/SIM", json=body)
    assert response.status_code < 500 and response.json()["status_code"] == 2001
    assert not ClientInfo.objects.exists()


def test_an_unknown_party_has_no_client_info_to_read(connected_cpo) -> None:
    cpo = connected_cpo()
    response = cpo.call_us("GET", "hubclientinfo/NL/SIM")
    assert response.status_code == 404 and response.json()["status_code"] == 2000


def test_we_offer_hubclientinfo_as_receiver_in_221_only(connected_cpo) -> None:
    cpo = connected_cpo()
    listed = {v["version"]: v["url"] for v in cpo.call_us("GET", "versions").json()["data"]}
    details = cpo.call_us("GET", listed["2.2.1"]).json()["data"]["endpoints"]
    assert {e["identifier"]: e["role"] for e in details}["hubclientinfo"] == "RECEIVER"
    old_details = cpo.call_us("GET", listed["2.1.1"]).json()["data"]["endpoints"]
    assert "hubclientinfo" not in {e["identifier"] for e in old_details}
    response = cpo.call_us("PUT", f"{listed['2.1.1']}/hubclientinfo/NL/SIM", json=client_info())
    assert response.status_code == 404
    assert not ClientInfo.objects.exists()


def test_the_admin_shows_each_partys_client_info_status(connected_cpo, client: Client) -> None:
    cpo = connected_cpo()
    client.force_login(User.objects.create_superuser("operator", "", "secret-pass"))
    partner = Partner.objects.get()
    page = client.get(f"/admin/ocpi_peer/partner/{partner.pk}/change/")
    assert "none sent (taken as connected)" in page.content.decode()
    cpo.call_us("PUT", "hubclientinfo/NL/SIM", json=client_info("SUSPENDED"))
    page = client.get(f"/admin/ocpi_peer/partner/{partner.pk}/change/")
    assert "SUSPENDED (as of 2026-01-01 10:00 UTC)" in page.content.decode()
    owners = client.get("/admin/ocpi_peer/partyownership/").content.decode()
    assert "SUSPENDED" in owners and PartyOwnership.objects.get().partner == partner
