"""A party whose hub says it is not CONNECTED (ClientInfo OFFLINE, SUSPENDED, PLANNED) takes no
checkout; CONNECTED again, or no ClientInfo at all, and it is payable as before."""

import pytest

from payments.models import Checkout
from tests.payments.charging import push_stations
from tests.payments.stickers import evse_api, landing, start_checkout

pytestmark = pytest.mark.django_db(transaction=True)


def tell_status(cpo, status: str, last_updated: str) -> None:
    info = {
        "country_code": "NL",
        "party_id": "SIM",
        "role": "CPO",
        "status": status,
        "last_updated": last_updated,
    }
    answer = cpo.call_us("PUT", "hubclientinfo/NL/SIM", json=info)
    assert answer.json()["status_code"] == 1000, answer.text


def test_an_offline_party_is_not_payable_until_it_is_connected_again(
    connected_cpo, live_server, stripe_settings
) -> None:
    cpo = connected_cpo(location_count=1)
    evse_id = push_stations(cpo)
    tell_status(cpo, "OFFLINE", "2026-01-01T10:00:00Z")
    page = landing(live_server.url, evse_id)
    assert page.status_code == 200
    assert "offline at the moment" in page.text and 'id="pay"' not in page.text
    described = evse_api(live_server.url, evse_id).json()
    assert described["payable"] is False and "offline" in described["reason"]
    refused = start_checkout(live_server.url, evse_id)
    assert refused.status_code == 409 and refused.json()["error"] == "not_payable"
    assert not Checkout.objects.exists()

    tell_status(cpo, "CONNECTED", "2026-01-01T11:00:00Z")
    assert 'id="pay"' in landing(live_server.url, evse_id).text
    assert evse_api(live_server.url, evse_id).json()["payable"] is True
    assert start_checkout(live_server.url, evse_id).status_code == 201


@pytest.mark.parametrize(
    ("status", "english", "german"),
    [
        ("SUSPENDED", "connection is suspended", "Verbindung seines Betreibers ist ausgesetzt"),
        ("PLANNED", "is not connected yet", "ist noch nicht angebunden"),
    ],
)
def test_a_suspended_or_planned_party_is_not_payable_and_the_driver_is_told_why(
    connected_cpo, live_server, stripe_settings, status, english, german
) -> None:
    cpo = connected_cpo(location_count=1)
    evse_id = push_stations(cpo)
    tell_status(cpo, status, "2026-01-01T10:00:00Z")
    assert english in evse_api(live_server.url, evse_id).json()["reason"]
    page = landing(live_server.url, evse_id, "de-DE,de;q=0.9")
    assert german in page.text and 'id="pay"' not in page.text
    assert start_checkout(live_server.url, evse_id).status_code == 409


def test_a_party_without_client_info_is_payable(
    connected_cpo, live_server, stripe_settings
) -> None:
    cpo = connected_cpo(location_count=1)
    evse_id = push_stations(cpo)
    assert evse_api(live_server.url, evse_id).json()["payable"] is True
