"""A charger's page keeps what pricing a connector costs per web process, yet whatever a CPO
changes of the charger shows at the very next page view: its status, its connectors' power and
tariffs, its location's time zone, its removal. The rows are changed here in SQL, as another
process would change them, and without moving any `last_updated`: nothing but the rows' values
tells this process."""

import pytest
from django.db import connection
from django.test import Client

from tests.payments.charger import charger

pytestmark = pytest.mark.django_db

PAGE = "/charge/DE*ABC*ELOC1/"


def page(client: Client) -> str:
    return client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def sql(statement: str, *params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))


def test_a_connectors_power_shows_at_the_next_view(client: Client, stripe_settings) -> None:
    charger()
    assert "22 kW" in page(client)  # 230 V × 32 A × 3
    sql("UPDATE stations_connector SET max_amperage = 16")
    html = page(client)
    assert "11 kW" in html and "22 kW" not in html


def test_a_connectors_tariff_ids_show_at_the_next_view(client: Client, stripe_settings) -> None:
    charger()
    assert "€0.595 per kWh" in page(client)
    sql("UPDATE stations_connector SET tariff_ids = %s", '["NONE"]')
    html = page(client)
    assert "€0.595 per kWh" not in html and 'id="pay"' not in html
    sql("UPDATE stations_connector SET tariff_ids = %s", '["AC"]')
    assert "€0.595 per kWh" in page(client)


def test_the_status_shows_at_the_next_view(client: Client, stripe_settings) -> None:
    charger()
    assert 'id="pay"' in page(client)
    sql("UPDATE stations_evse SET status = 'CHARGING'")
    html = page(client)
    assert "another vehicle is charging there." in html and 'id="pay"' not in html
    sql("UPDATE stations_evse SET status = 'AVAILABLE'")
    assert 'id="pay"' in page(client)


def test_a_removed_charger_is_gone_at_the_next_view(client: Client, stripe_settings) -> None:
    charger()
    assert client.get(PAGE).status_code == 200
    sql("UPDATE stations_evse SET status = 'REMOVED'")
    assert client.get(PAGE).status_code == 404


def test_the_locations_time_zone_shows_at_the_next_view(client: Client, stripe_settings) -> None:
    """A day price needs the local clock: without a zone we know, it cannot be shown."""
    evse = charger(
        tariff={
            "id": "AC",
            "currency": "EUR",
            "type": "AD_HOC_PAYMENT",
            "elements": [
                {
                    "price_components": [
                        {"type": "ENERGY", "price": "0.50", "vat": "19", "step_size": 1}
                    ],
                    "restrictions": {
                        "day_of_week": [
                            "MONDAY",
                            "TUESDAY",
                            "WEDNESDAY",
                            "THURSDAY",
                            "FRIDAY",
                            "SATURDAY",
                            "SUNDAY",
                        ]
                    },
                }
            ],
            "last_updated": "2026-01-01T00:00:00Z",
        }
    )
    assert 'id="pay"' in page(client)
    sql(
        "UPDATE stations_location SET time_zone = 'Mars/Olympus', country = 'USA' WHERE id = %s",
        evse.location_id,
    )
    assert 'id="pay"' not in page(client)
    sql(
        "UPDATE stations_location SET time_zone = 'Europe/Berlin', country = 'DEU' WHERE id = %s",
        evse.location_id,
    )
    assert 'id="pay"' in page(client)
