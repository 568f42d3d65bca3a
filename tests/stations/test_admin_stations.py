"""Operators see every partner's locations, EVSEs, connectors and tariffs in the admin, and can
pull a partner's data now."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from ocpi_peer.models import SyncState
from ocpi_peer.registration import register_with_cpo
from stations.models import Location
from tests.conftest import StartCpo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("operator", "", "secret-pass"))
    return client


def test_pull_now_fills_locations_and_tariffs_and_shows_the_result(
    operator: Client, cpo_simulator: StartCpo, eager_tasks: None
) -> None:
    cpo = cpo_simulator(location_count=12, page_size=5)
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    page = operator.post(
        "/admin/ocpi_peer/partner/",
        {"action": "pull_now", "_selected_action": [partner.pk]},
        follow=True,
    )
    assert "pull queued" in page.content.decode()
    assert Location.objects.count() == 12
    state = SyncState.objects.get(partner=partner, module="locations")
    assert state.last_ok and state.written == 12
    change = operator.get(f"/admin/ocpi_peer/partner/{partner.pk}/change/").content.decode()
    assert "12 received, 12 written, 0 rejected" in change


def test_locations_are_listed_with_evses_and_connectors(
    operator: Client, cpo_simulator: StartCpo, eager_tasks: None
) -> None:
    cpo = cpo_simulator(location_count=3, page_size=5)
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    operator.post(
        "/admin/ocpi_peer/partner/", {"action": "pull_now", "_selected_action": [partner.pk]}
    )
    listing = operator.get("/admin/stations/location/").content.decode()
    assert "LOC00001" in listing or "LOC00000" in listing
    location = Location.objects.order_by("ocpi_id").first()
    page = operator.get(f"/admin/stations/location/{location.pk}/change/").content.decode()
    evse = location.evses.first()
    assert evse.evse_id in page
    assert "kW" in page  # connectors with their power
    filtered = operator.get(f"/admin/stations/location/?city={location.city}").content.decode()
    assert location.ocpi_id in filtered
