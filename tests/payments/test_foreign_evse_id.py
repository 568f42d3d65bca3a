"""An EVSE ID names its operator (`DE*ABC*E…`): a CPO party that publishes another operator's
ID is stored but takes no payment, and the sticker keeps opening its own operator's charger."""

import pytest

from payments.models import Checkout
from stations.models import Evse
from tests.payments.charging import push_stations
from tests.payments.stickers import (
    connected,
    evse_api,
    landing,
    publish_as_own,
    start_checkout,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_evse_whose_id_names_another_operator_is_stored_but_not_payable(
    connected_cpo, live_server, stripe_settings
) -> None:
    impostor = connected_cpo(country_code="DE", party_id="XYZ", name="XYZ", location_count=1)
    publish_as_own(impostor, "DE*ABC*E1")
    assert Evse.objects.filter(evse_id="DE*ABC*E1", location__party_id="XYZ").exists()
    page = landing(live_server.url, "de*abc*e1")
    assert page.status_code == 200
    assert "not payable here" in page.text and "DE*ABC" in page.text
    assert 'id="pay"' not in page.text
    described = evse_api(live_server.url, "DE*ABC*E1").json()
    assert described["payable"] is False and "DE*ABC" in described["reason"]
    refused = start_checkout(live_server.url, "DE*ABC*E1")
    assert refused.status_code == 409 and refused.json()["error"] == "not_payable"
    assert not Checkout.objects.exists()


def test_the_driver_is_told_why_in_german_too(connected_cpo, live_server, stripe_settings) -> None:
    impostor = connected_cpo(country_code="DE", party_id="XYZ", name="XYZ", location_count=1)
    publish_as_own(impostor, "DE*ABC*E1")
    page = landing(live_server.url, "DE*ABC*E1", "de-DE,de;q=0.9")
    assert "hier nicht bezahlbar" in page.text and 'id="pay"' not in page.text


def test_the_sticker_opens_its_operators_charger_when_an_impostor_publishes_it_later(
    cpo_simulator, ocpi_base, live_server, stripe_settings
) -> None:
    owner = connected(
        cpo_simulator,
        ocpi_base,
        partner_name="ABC",
        name="ABC Strom",
        party_id="ABC",
        country_code="DE",
        location_count=1,
    )
    sticker = push_stations(owner)
    assert sticker.startswith("DE*ABC*")
    impostor = connected(
        cpo_simulator,
        ocpi_base,
        partner_name="XYZ",
        name="ABC Strom!",
        party_id="XYZ",
        country_code="DE",
        location_count=1,
    )
    publish_as_own(impostor, sticker)  # newer than the owner's
    page = landing(live_server.url, sticker)
    assert page.status_code == 200
    assert "operated by ABC Strom<" in page.text and 'id="pay"' in page.text
    assert "COPY site" not in page.text and owner.location(0)["name"] in page.text
    assert evse_api(live_server.url, sticker).json()["location"]["operator"] == "ABC Strom"
    started = start_checkout(live_server.url, sticker)
    assert started.status_code == 201, started.text
    checkout = Checkout.objects.get(public_id=started.json()["id"])
    assert checkout.evse.location.party_id == "ABC" and checkout.partner.name == "ABC"
