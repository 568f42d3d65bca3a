"""Two chargers that may both be paid for under one EVSE ID are never picked between: the
driver is refused with a page that says why (no 500), and an operator gets one case."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from payments.models import Case, Checkout
from tests.payments.charging import push_stations
from tests.payments.stickers import evse_api, landing, publish_as_own, start_checkout

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_id_published_for_two_chargers_is_refused_and_opens_one_case(
    connected_cpo, live_server, stripe_settings, client: Client
) -> None:
    cpo = connected_cpo(country_code="DE", party_id="ABC", location_count=1)
    sticker = push_stations(cpo)
    publish_as_own(cpo, sticker.lower().replace("*", ""))  # the same ID, written otherwise

    page = landing(live_server.url, sticker)
    assert page.status_code == 409
    assert "More than one charger is listed under" in page.text and 'id="pay"' not in page.text
    described = evse_api(live_server.url, sticker)
    assert described.status_code == 409 and described.json()["error"] == "ambiguous_evse"
    refused = start_checkout(live_server.url, sticker)
    assert refused.status_code == 409 and refused.json()["error"] == "ambiguous_evse"
    assert not Checkout.objects.exists()

    case = Case.objects.get()  # one, however often drivers scan
    assert case.kind == "duplicate_evse_id" and case.resolved_at is None
    assert case.partner is not None and case.partner.name == "Pushing CPO"
    assert sticker in case.summary and "COPY" in case.summary and "LOC00001" in case.summary
    client.force_login(User.objects.create_superuser("operator", "", "pw-operator-1"))
    queue = client.get("/admin/payments/case/").content.decode()
    assert "EVSE ID published for two chargers" in queue


def test_the_refusal_speaks_german_to_a_german_browser(
    connected_cpo, live_server, stripe_settings
) -> None:
    cpo = connected_cpo(country_code="DE", party_id="ABC", location_count=1)
    sticker = push_stations(cpo)
    publish_as_own(cpo, sticker)
    page = landing(live_server.url, sticker, "de-DE,de;q=0.9")
    assert page.status_code == 409 and "sind mehrere Ladepunkte eingetragen" in page.text


def test_a_removed_twin_leaves_the_other_payable(
    connected_cpo, live_server, stripe_settings
) -> None:
    cpo = connected_cpo(country_code="DE", party_id="ABC", location_count=1)
    sticker = push_stations(cpo)
    publish_as_own(cpo, sticker)
    gone = cpo.call_us(
        "PATCH",
        "locations/DE/ABC/COPY/COPY-1",
        json={"status": "REMOVED", "last_updated": "2030-01-02T00:00:00Z"},
    )
    assert gone.json()["status_code"] == 1000
    page = landing(live_server.url, sticker)
    assert page.status_code == 200 and 'id="pay"' in page.text
