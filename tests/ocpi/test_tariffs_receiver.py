"""A CPO pushes and retires its tariffs (Tariffs receiver, checklist §5.1)."""

import copy
from decimal import Decimal

import pytest

from ocpi_peer import versions
from ocpi_peer.models import Partner
from ocpi_peer.transport import dumps
from stations import selectors, services
from stations.models import Tariff
from tests.ocpi.examples import example, example_names, meaningful

pytestmark = pytest.mark.django_db(transaction=True)


def tariff(tariff_id: str = "14") -> dict:
    data = copy.deepcopy(example("tariff_4_complex.json"))
    return {**data, "country_code": "NL", "party_id": "SIM", "id": tariff_id}


def test_a_pushed_tariff_is_read_back_exactly(connected_cpo) -> None:
    cpo = connected_cpo()
    pushed = tariff()
    assert cpo.call_us("PUT", "tariffs/NL/SIM/14", content=dumps(pushed)).status_code == 201
    read = cpo.call_us("GET", "tariffs/NL/SIM/14")
    assert meaningful(read.json()["data"]) == meaningful(pushed)
    stored = Tariff.objects.get()
    assert stored.elements[1]["price_components"][0]["price"] == "1.00"  # never a float


def test_a_deleted_tariff_is_kept_but_no_longer_offered(connected_cpo) -> None:
    cpo = connected_cpo()
    cpo.call_us("PUT", "tariffs/NL/SIM/14", content=dumps(tariff()))
    assert cpo.call_us("DELETE", "tariffs/NL/SIM/14").json()["status_code"] == 1000
    assert cpo.call_us("GET", "tariffs/NL/SIM/14").status_code == 404
    assert Tariff.objects.get().deleted_at is not None  # sessions and CDRs may still name it
    partner = Tariff.objects.get().partner
    assert selectors.tariff(partner, "NL", "SIM", "14") is None
    cpo.call_us(
        "PUT",
        "tariffs/NL/SIM/14",
        content=dumps({**tariff(), "last_updated": "2030-01-01T00:00:00Z"}),
    )
    assert selectors.tariff(partner, "NL", "SIM", "14") is not None  # sent again: offered again


def test_221_tariffs_have_no_patch(connected_cpo) -> None:
    cpo = connected_cpo()
    cpo.call_us("PUT", "tariffs/NL/SIM/14", content=dumps(tariff()))
    response = cpo.call_us(
        "PATCH",
        "tariffs/NL/SIM/14",
        content=dumps({"currency": "USD", "last_updated": "2030-01-01T00:00:00Z"}),
    )
    assert response.status_code == 405
    assert Tariff.objects.get().currency == "EUR"


def test_211_tariffs_are_patched_and_stored_as_excl_vat(connected_cpo) -> None:
    cpo = connected_cpo(version="2.1.1")
    data = {
        "id": "T1",
        "currency": "EUR",
        "elements": [
            {"price_components": [{"type": "ENERGY", "price": Decimal("0.25"), "step_size": 1}]}
        ],
        "last_updated": "2026-01-01T00:00:00Z",
    }
    assert cpo.call_us("PUT", "tariffs/NL/SIM/T1", content=dumps(data)).status_code == 201
    cpo.call_us(
        "PATCH",
        "tariffs/NL/SIM/T1",
        content=dumps({"tariff_alt_url": "https://cpo.example/prices"}),
    )
    stored = Tariff.objects.get()
    assert stored.tariff_alt_url == "https://cpo.example/prices"
    assert stored.vat_stated is False
    read = cpo.call_us("GET", "tariffs/NL/SIM/T1").json()["data"]
    assert (
        "country_code" not in read and read["elements"][0]["price_components"][0]["price"] == 0.25
    )


def test_a_stale_tariff_does_not_overwrite_a_newer_one(connected_cpo) -> None:
    cpo = connected_cpo()
    cpo.call_us(
        "PUT",
        "tariffs/NL/SIM/14",
        content=dumps({**tariff(), "currency": "CHF", "last_updated": "2030-01-01T00:00:00Z"}),
    )
    cpo.call_us(
        "PUT",
        "tariffs/NL/SIM/14",
        content=dumps({**tariff(), "currency": "EUR", "last_updated": "2029-01-01T00:00:00Z"}),
    )
    assert Tariff.objects.get().currency == "CHF"


def test_a_tariff_without_elements_is_refused(connected_cpo) -> None:
    cpo = connected_cpo()
    response = cpo.call_us("PUT", "tariffs/NL/SIM/14", content=dumps({**tariff(), "elements": []}))
    assert response.json()["status_code"] == 2001
    assert not Tariff.objects.exists()


@pytest.mark.parametrize(
    "name", [n for n in example_names("tariff_*.json") if n != "tariff_put_example.json"]
)
def test_every_official_tariff_example_round_trips(name: str) -> None:
    data = example(name)
    spec = versions.get("2.2.1")
    parsed = spec.read(spec.tariff, copy.deepcopy(data))
    partner = Partner.objects.create(name="Examples")
    services.store_tariffs(
        partner=partner, items=[(parsed.pop("country_code"), parsed.pop("party_id"), parsed)]
    )
    stored = Tariff.objects.get(ocpi_id=data["id"])
    assert meaningful(spec.tariff().to_representation(stored)) == meaningful(data)


def test_the_put_example_without_last_updated_is_refused_with_a_reason(connected_cpo) -> None:
    cpo = connected_cpo()
    data = {**example("tariff_put_example.json"), "country_code": "NL", "party_id": "SIM"}
    response = cpo.call_us("PUT", f"tariffs/NL/SIM/{data['id']}", content=dumps(data))
    assert response.json()["status_code"] == 2001
    assert "last_updated" in response.json()["status_message"]


def test_a_vat_sent_by_a_211_cpo_is_not_taken_for_a_rate(connected_cpo) -> None:
    cpo = connected_cpo(version="2.1.1")
    component = {"type": "ENERGY", "price": Decimal("0.25"), "vat": Decimal("7"), "step_size": 1}
    data = {
        "id": "T1",
        "currency": "EUR",
        "elements": [{"price_components": [component]}],
        "last_updated": "2026-01-01T00:00:00Z",
    }
    cpo.call_us("PUT", "tariffs/NL/SIM/T1", content=dumps(data))
    assert "vat" not in Tariff.objects.get().elements[0]["price_components"][0]
