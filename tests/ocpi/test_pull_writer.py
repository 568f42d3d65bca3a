"""A pull hands each validated page, every object with its owner, to the writer it is given:
ocpi_peer stores nothing of the domain itself."""

import pytest

from ocpi_peer import sync
from ocpi_peer.models import Partner
from ocpi_peer.registration import register_with_cpo
from stations.models import Location
from tests.conftest import StartCpo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("version", ["2.2.1", "2.1.1"])
def test_each_page_goes_to_the_writer_with_its_owner(cpo_simulator: StartCpo, version: str) -> None:
    cpo = cpo_simulator(version=version, location_count=12, page_size=5)
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    pages: list[list[sync.Pulled]] = []

    def writer(to: Partner, objects: list[sync.Pulled]) -> int:
        assert to.pk == partner.pk
        pages.append(objects)
        return len(objects) - 1

    outcome = sync.pull(partner_id=partner.pk, module="locations", store=writer)
    assert [len(page) for page in pages] == [5, 5, 2]
    assert (outcome.received, outcome.written, outcome.rejected) == (12, 9, 0)
    owners = {(each.country_code, each.party_id) for page in pages for each in page}
    assert owners == {(p.country_code, p.party_id) for p in partner.parties.all()}
    assert all("country_code" not in each.fields for page in pages for each in page)
    assert Location.objects.count() == 0  # the registered writer was not used


def test_a_module_nobody_stores_cannot_be_pulled(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator()
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    with pytest.raises(sync.SyncImpossible):
        sync.pull(partner_id=partner.pk, module="tokens")
