"""An EVSE ID that a CPO publishes for a second payable charger reaches an operator at once, as
one case, before any driver scans it and is turned away; publishing it again opens no second
case. An ID naming another operator, which is not payable here, is no duplicate until an
operator approves that operator for its publisher."""

import copy

import pytest

from ocpi_peer import sync
from ocpi_peer.models import Partner
from payments.models import Case, Checkout
from stations import evse_ids
from tests.payments.charging import push_stations
from tests.payments.stickers import landing, publish_as_own

pytestmark = pytest.mark.django_db(transaction=True)


def _second_cpo(connected_cpo):
    """Another CPO (DE*XYZ), its own connection, its stations pushed."""
    cpo = connected_cpo(name="Second CPO", country_code="DE", party_id="XYZ", location_count=1)
    push_stations(cpo)
    return cpo


def _republish(cpo, last_updated: str, **evse_changes) -> None:
    """`cpo` PUTs its COPY location (see `publish_as_own`) again, newer, its EVSE changed."""
    location = copy.deepcopy(cpo.location(0))
    evse = location["evses"][0] | {"uid": "COPY-1", "last_updated": last_updated}
    location |= {"id": "COPY", "evses": [evse | evse_changes], "last_updated": last_updated}
    url = f"locations/{location['country_code']}/{location['party_id']}/COPY"
    assert cpo.call_us("PUT", url, json=location).json()["status_code"] == 1000


def test_it_opens_one_case_when_a_second_cpo_publishes_an_id_it_may_publish(
    connected_cpo, live_server
) -> None:
    first = connected_cpo(country_code="DE", party_id="ABC", location_count=1)
    sticker = push_stations(first)
    second = _second_cpo(connected_cpo)
    evse_ids.approve_alias(
        country_code="DE", party_id="XYZ", operator=evse_ids.Operator("DE", "ABC"), by="operator"
    )
    assert not Case.objects.exists()

    publish_as_own(second, sticker)

    case = Case.objects.get()  # at publish time: nobody has scanned it
    assert case.kind == "duplicate_evse_id" and case.resolved_at is None
    assert sticker in case.summary and "DE*ABC" in case.summary and "DE*XYZ" in case.summary
    assert case.partner is not None and case.partner.name == "Second CPO"
    _republish(second, "2030-01-02T00:00:00Z", evse_id=sticker, status="CHARGING")
    status = second.call_us(
        "PATCH",
        "locations/DE/XYZ/COPY/COPY-1",
        json={"status": "AVAILABLE", "last_updated": "2030-01-03T00:00:00Z"},
    )
    assert status.json()["status_code"] == 1000
    assert landing(live_server.url, sticker).status_code == 409
    assert Case.objects.count() == 1 and not Checkout.objects.exists()


def test_it_opens_none_for_an_id_naming_another_operator_until_that_is_approved(
    connected_cpo, live_server
) -> None:
    first = connected_cpo(country_code="DE", party_id="ABC", location_count=1)
    sticker = push_stations(first)
    second = _second_cpo(connected_cpo)

    publish_as_own(second, sticker)  # DE*XYZ publishing DE*ABC's ID: not payable here

    assert not Case.objects.exists()
    assert landing(live_server.url, sticker).status_code == 200  # DE*ABC's own charger opens
    evse_ids.approve_alias(
        country_code="DE", party_id="XYZ", operator=evse_ids.Operator("DE", "ABC"), by="operator"
    )
    assert Case.objects.get().kind == "duplicate_evse_id"


def test_it_opens_one_when_a_removed_twin_comes_back(connected_cpo, live_server) -> None:
    cpo = connected_cpo(country_code="DE", party_id="ABC", location_count=1)
    sticker = push_stations(cpo)
    _republish(cpo, "2030-01-02T00:00:00Z", evse_id=sticker, status="REMOVED")
    assert not Case.objects.exists()  # a removed charger is not found by anyone

    back = cpo.call_us(
        "PATCH",
        "locations/DE/ABC/COPY/COPY-1",
        json={"status": "AVAILABLE", "last_updated": "2030-01-03T00:00:00Z"},
    )

    assert back.json()["status_code"] == 1000
    assert Case.objects.get().kind == "duplicate_evse_id"


def test_it_opens_one_when_a_pull_brings_the_second_charger(connected_cpo, live_server) -> None:
    first = connected_cpo(country_code="DE", party_id="ABC", location_count=1)
    push_stations(first)
    second = connected_cpo(name="Second CPO", country_code="DE", party_id="XYZ", location_count=1)
    its_id = second.location(0)["evses"][0]["evse_id"]
    evse_ids.approve_alias(
        country_code="DE", party_id="ABC", operator=evse_ids.Operator("DE", "XYZ"), by="operator"
    )
    publish_as_own(first, its_id)  # DE*ABC publishes the ID first, approved
    assert not Case.objects.exists()

    sync.pull(partner_id=Partner.objects.get(name="Second CPO").pk, module="locations", full=True)

    case = Case.objects.get()
    assert case.kind == "duplicate_evse_id" and its_id in case.summary
