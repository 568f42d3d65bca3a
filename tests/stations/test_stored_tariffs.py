"""A stored tariff (numbers kept as strings) reads into the engine exactly as its OCPI JSON
does, and a float never gets into a price."""

import pytest

from stations.models import Tariff
from stations.tariffs import to_pricing
from tests.ocpi.examples import example, example_names
from tests.stations.station_data import store_tariff
from tests.stations.tariff_json import read_tariff

TARIFFS = [n for n in example_names("tariff*.json") if n != "tariff_put_example.json"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", TARIFFS)
def test_every_official_tariff_reads_the_same_stored_as_from_json(name: str) -> None:
    data = example(name)
    fields = {k: data[k] for k in ("type", "min_price", "max_price") if k in data}
    stored = store_tariff(data["elements"], tariff_id=data["id"], **fields)
    assert to_pricing(stored, time_zone="Europe/Berlin") == read_tariff(
        data, time_zone="Europe/Berlin"
    )


def test_a_float_in_stored_elements_is_refused() -> None:
    tariff = Tariff(
        currency="EUR",
        elements=[{"price_components": [{"type": "ENERGY", "price": 0.25, "step_size": 1}]}],
    )
    with pytest.raises(TypeError, match="not an exact number"):
        to_pricing(tariff, time_zone=None)


def test_a_211_tariff_reads_as_excluding_an_unstated_vat() -> None:
    tariff = Tariff(
        currency="EUR",
        elements=[{"price_components": [{"type": "ENERGY", "price": "0.25", "step_size": 1}]}],
        vat_stated=False,
    )
    assert to_pricing(tariff, time_zone=None).vat_stated is False
