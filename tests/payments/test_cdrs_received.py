"""The CPO POSTs its CDRs (checklist §7): each is stored once as received, answered with a
Location to read it back, linked to the checkout it bills, or kept and flagged."""

from decimal import Decimal

import pytest
import simplejson

from payments.models import Cdr
from tests.ocpi.examples import meaningful
from tests.payments.charging import pay, push_stations, reaches
from tests.payments.settling import cdr

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_cdr_is_stored_once_and_read_back_as_sent(connected_cpo) -> None:
    cpo = connected_cpo()
    sent = cdr()
    first = cpo.call_us("POST", "cdrs", json=sent)
    assert first.status_code == 201 and first.json()["status_code"] == 1000
    location = first.headers["Location"]
    assert location.endswith("/cdrs/NL/SIM/CDR-1")
    again = cpo.call_us("POST", "cdrs", json=sent)
    assert again.status_code == 200 and again.headers["Location"] == location
    assert Cdr.objects.count() == 1
    read = simplejson.loads(cpo.call_us("GET", location).content, use_decimal=True)["data"]
    assert meaningful(read) == meaningful(sent)  # exact numbers, signed data untouched
    stored = Cdr.objects.get()
    assert stored.total_cost_excl_vat == Decimal(str(sent["total_cost"]["excl_vat"]))
    assert stored.checkout is None and "no checkout" in stored.flag  # kept, not dropped


def test_the_same_id_with_other_content_is_refused_and_flagged(connected_cpo) -> None:
    cpo = connected_cpo()
    cpo.call_us("POST", "cdrs", json=cdr())
    changed = cpo.call_us("POST", "cdrs", json=cdr(total_energy=99))
    assert changed.json()["status_code"] == 2001
    stored = Cdr.objects.get()
    assert stored.total_energy != 99 and "different content" in stored.flag


def test_a_credit_cdr_needs_its_reference(connected_cpo) -> None:
    cpo = connected_cpo()
    answer = cpo.call_us("POST", "cdrs", json=cdr("CDR-1-C", credit=True))
    assert (
        answer.json()["status_code"] == 2001
        and "credit_reference_id" in answer.json()["status_message"]
    )
    ok = cpo.call_us("POST", "cdrs", json=cdr("CDR-1-C", credit=True, credit_reference_id="CDR-1"))
    assert ok.status_code == 201 and Cdr.objects.get().credit


def test_another_partys_cdr_is_refused(connected_cpo) -> None:
    cpo = connected_cpo()
    answer = cpo.call_us("POST", "cdrs", json=cdr(country_code="DE", party_id="XYZ"))
    assert answer.status_code == 404 and not Cdr.objects.exists()


def test_a_cdr_is_linked_to_the_checkout_by_its_authorization_reference(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout = reaches(pay(live_server.url, stripe_settings, push_stations(cpo)), "charging")
    data = cdr("CDR-9", authorization_reference=checkout.authorization_reference)
    assert cpo.call_us("POST", "cdrs", json=data).status_code == 201
    assert Cdr.objects.get().checkout == checkout


def test_211_cdrs_are_owned_by_the_connection_and_linked_by_auth_id(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(version="2.1.1", location_count=1, update_interval=0.2)
    checkout = reaches(pay(live_server.url, stripe_settings, push_stations(cpo)), "charging")
    data = {
        "id": "CDR-211",
        "start_date_time": "2026-01-01T10:00:00Z",
        "stop_date_time": "2026-01-01T11:00:00Z",
        "auth_id": checkout.token.auth_id,
        "auth_method": "AUTH_REQUEST",
        "location": cpo.location(0),
        "currency": "EUR",
        "charging_periods": [
            {
                "start_date_time": "2026-01-01T10:00:00Z",
                "dimensions": [{"type": "ENERGY", "volume": 10}],
            }
        ],
        "total_cost": Decimal("5.45"),
        "total_energy": 10,
        "total_time": 1,
        "last_updated": "2026-01-01T11:00:00Z",
    }
    answer = cpo.call_us("POST", "cdrs", json=data)
    assert answer.status_code == 201, answer.text
    stored = Cdr.objects.get()
    assert (stored.country_code, stored.party_id, stored.checkout) == ("NL", "SIM", checkout)
    assert stored.total_cost_incl_vat is None  # 2.1.1 totals exclude VAT
