"""A charger's page keeps a connector's price per process only for as long as the clock cannot
change it: when the tariff shown ends (its end_date_time), the next page view shows the tariff
that applies then, however warm the page was a moment before."""

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from stations.models import Connector
from tests.payments.charger import charger
from tests.stations.station_data import energy, store_tariff

pytestmark = pytest.mark.django_db

PAGE = "/charge/DE*ABC*ELOC1/"


def page(client: Client) -> str:
    return client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_the_next_tariff_shows_once_the_one_shown_ends(client: Client, stripe_settings) -> None:
    charger()
    ends = timezone.now() + timedelta(seconds=2)
    store_tariff(
        [energy("0.40")],
        tariff_id="PROMO",
        type="AD_HOC_PAYMENT",
        end_date_time=ends.isoformat().replace("+00:00", "Z"),
    )
    Connector.objects.update(tariff_ids=["PROMO", "AC"])
    assert "€0.476 per kWh" in page(client)
    assert "€0.476 per kWh" in page(client)  # warm
    time.sleep(max((ends - timezone.now()).total_seconds(), 0) + 0.05)
    html = page(client)
    assert "€0.595 per kWh" in html and "€0.476 per kWh" not in html
