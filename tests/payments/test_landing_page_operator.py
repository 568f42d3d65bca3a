"""The QR landing page names who runs the charger: the CPO party's legal name from its terms,
else the business name it registered with, else its connection's name; never the operator a
location claims for itself."""

from decimal import Decimal

import pytest

from ocpi_peer.models import PartnerParty
from payments.models import CpoTerms
from tests.payments.charging import push_stations
from tests.payments.stickers import LATER, connected, landing

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def claimed(cpo_simulator, ocpi_base):
    """DE*ABC registered as "ABC Strom" over the connection "ABC link", with its first
    location claiming another operator's name."""
    cpo = connected(
        cpo_simulator,
        ocpi_base,
        partner_name="ABC link",
        name="ABC Strom",
        country_code="DE",
        party_id="ABC",
        location_count=1,
    )
    sticker = push_stations(cpo)
    location = {**cpo.location(0), "operator": {"name": "Big Brand"}, "last_updated": LATER}
    assert cpo.call_us("PUT", f"locations/DE/ABC/{location['id']}", json=location).status_code
    return sticker


def test_the_page_names_the_business_name_the_party_registered_with(
    claimed, live_server, stripe_settings
) -> None:
    page = landing(live_server.url, claimed).text
    assert "operated by ABC Strom<" in page and "Big Brand" not in page


def test_the_legal_name_from_the_partys_terms_comes_first(
    claimed, live_server, stripe_settings
) -> None:
    CpoTerms.objects.create(
        country_code="DE", party_id="ABC", default_hold=Decimal(40), legal_name="ABC Strom GmbH"
    )
    assert "operated by ABC Strom GmbH<" in landing(live_server.url, claimed).text


def test_without_a_business_name_the_connection_is_named(
    claimed, live_server, stripe_settings
) -> None:
    PartnerParty.objects.update(business_name="")
    assert "operated by ABC link<" in landing(live_server.url, claimed).text
