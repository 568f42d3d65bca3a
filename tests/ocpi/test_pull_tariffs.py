"""We pull a CPO's tariffs like its locations, and the driver sees the ad-hoc one."""

import pytest
from django.utils import timezone

from ocpi_peer import sync
from ocpi_peer.client import PeerError
from ocpi_peer.registration import register_with_cpo
from stations import tariffs
from stations.models import Connector, Location, Tariff
from tests.conftest import StartCpo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("version", ["2.2.1", "2.1.1"])
def test_tariffs_are_pulled_and_linked_to_connectors(cpo_simulator: StartCpo, version: str) -> None:
    cpo = cpo_simulator(
        version=version, location_count=3, page_size=2, ad_hoc_tariffs=version == "2.2.1"
    )
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    sync.pull(partner_id=partner.pk, module="locations")
    outcome = sync.pull(partner_id=partner.pk, module="tariffs")
    assert outcome.rejected == 0 and outcome.written == Tariff.objects.count() > 0
    connector = Connector.objects.order_by("pk").first()
    shown = tariffs.shown_price(connector, at=timezone.now(), locale="en")
    assert shown is not None and shown.lines and shown.unpriceable_reason is None
    if version == "2.2.1":
        assert shown.tariff.type == "AD_HOC_PAYMENT"
    else:
        assert shown.tariff.vat_stated is False and shown.vat_fallback is not None


def test_a_pull_failing_after_some_pages_keeps_them_and_resumes(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator(location_count=100, page_size=20)
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    cpo.fail_after_pages = 2
    with pytest.raises(PeerError):
        sync.pull(partner_id=partner.pk, module="locations")
    assert Location.objects.count() == 40  # the pages that came are kept
    cpo.fail_after_pages = None
    resumed = sync.pull(partner_id=partner.pk, module="locations")
    assert Location.objects.count() == 100
    assert resumed.written == 60  # the first 40 were not written again


def test_status_pushes_reach_the_driver_view(connected_cpo) -> None:
    cpo = connected_cpo(location_count=2)
    assert cpo.push_location(0).json()["status_code"] == 1000
    assert cpo.push_evse_status(0, 1, "CHARGING").json()["status_code"] == 1000
    location = Location.objects.get()
    assert sorted(location.evses.values_list("status", flat=True)) == ["AVAILABLE", "CHARGING"]
