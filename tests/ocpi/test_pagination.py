"""We walk a CPO's long lists page by page, following `Link` (T-20)."""

import pytest

from ocpi_peer.client import Caller, next_link
from ocpi_peer.models import Partner
from ocpi_peer.registration import register_with_cpo
from tests.conftest import StartCpo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("version", ["2.2.1", "2.1.1"])
def test_we_follow_every_page_of_a_long_list(cpo_simulator: StartCpo, version: str) -> None:
    cpo = cpo_simulator(version=version, location_count=1234, page_size=100)
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    pages = list(Caller.for_partner(partner).pages(partner.endpoint("locations", "SENDER")))
    ids = [location["id"] for page in pages for location in page]
    assert len(pages) == 13
    assert len(ids) == len(set(ids)) == 1234


def test_the_profile_limits_the_page_size_we_ask_for(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator(location_count=120, page_size=100)
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    Partner.objects.filter(pk=partner.pk).update(max_page_size=25)
    partner.refresh_from_db()
    pages = list(Caller.for_partner(partner).pages(partner.endpoint("locations", "SENDER")))
    assert [len(p) for p in pages] == [25, 25, 25, 25, 20]


def test_date_filters_are_passed_on_and_kept_across_pages(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator(location_count=300, page_size=50)
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    url = partner.endpoint("locations", "SENDER")
    # The simulator's locations are updated one second apart from 2026-01-01T00:00:00Z.
    params = {"date_from": "2026-01-01T00:01:40Z", "date_to": "2026-01-01T00:03:20Z"}
    ids = [
        loc["id"] for page in Caller.for_partner(partner).pages(url, params=params) for loc in page
    ]
    assert len(ids) == 100


def test_221_list_calls_carry_routing_headers(cpo_simulator: StartCpo, settings) -> None:
    cpo = cpo_simulator(location_count=3, country_code="NL", party_id="SIM")
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    list(Caller.for_partner(partner).pages(partner.endpoint("locations", "SENDER")))
    pull = [r for r in cpo.requests if r.path.endswith("/locations")][-1]
    assert pull.headers["OCPI-to-party-id"] == "SIM"
    assert pull.headers["OCPI-to-country-code"] == "NL"
    assert pull.headers["OCPI-from-party-id"] == settings.OCPI_PARTY_ID
    credentials_calls = [r for r in cpo.requests if r.path.endswith("/credentials")]
    assert all("OCPI-to-party-id" not in r.headers for r in credentials_calls)


def test_link_headers_are_read_as_rfc_8288_says() -> None:
    assert next_link('<https://cpo.example/loc?offset=50&limit=50>; rel="next"') == (
        "https://cpo.example/loc?offset=50&limit=50"
    )
    assert next_link('<https://a/1>; rel="prev", <https://a/3>; rel=next') == "https://a/3"
    assert next_link("") is None
