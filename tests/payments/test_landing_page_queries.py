"""The page a QR code opens reads its CPO party's terms and tariffs once per charger, not once
per connector, and keeps them per process until a CPO pushes or an operator edits: what they
push shows at the very next page view."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from payments.models import CpoTerms
from stations import services
from tests.payments.charger import TARIFF, charger

pytestmark = pytest.mark.django_db

PAGE = "/charge/DE*ABC*ELOC1/"


def page(client: Client) -> str:
    return client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_it_reads_the_page_in_a_few_queries_and_fewer_once_warm(
    client: Client, stripe_settings
) -> None:
    charger()
    with CaptureQueriesContext(connection) as first:
        assert "€0.595 per kWh" in page(client)
    with CaptureQueriesContext(connection) as warm:
        assert "€0.595 per kWh" in page(client)
    # The EVSE, the generation its approved aliases stand at, its connectors, the generations
    # its party's offer and its connectors' prices stand at.
    assert len(warm.captured_queries) <= 4, [q["sql"] for q in warm.captured_queries]
    assert len(warm.captured_queries) < len(first.captured_queries)


def test_a_pushed_tariff_shows_at_the_next_page_view(client: Client, stripe_settings) -> None:
    evse = charger()
    assert "€0.595 per kWh" in page(client)
    changed = {**TARIFF, "last_updated": "2026-02-01T00:00:00Z"}
    changed["elements"] = [
        {
            "price_components": [
                {"type": "ENERGY", "price": Decimal("0.60"), "vat": Decimal("19"), "step_size": 1}
            ]
        }
    ]
    from ocpi_peer import versions

    spec = versions.get("2.2.1")
    data = spec.read(spec.tariff, {**changed, "country_code": "DE", "party_id": "ABC"})
    services.store_tariffs(
        partner=evse.location.partner,
        items=[(data.pop("country_code"), data.pop("party_id"), data)],
    )
    html = page(client)
    assert "€0.714 per kWh" in html and "€0.595 per kWh" not in html


def test_the_cpo_terms_an_operator_edits_show_at_the_next_page_view(
    client: Client, stripe_settings
) -> None:
    charger()
    assert "Up to €50.00 is reserved." in page(client)
    CpoTerms.objects.create(country_code="DE", party_id="ABC", default_hold=Decimal("30.00"))
    assert "Up to €30.00 is reserved." in page(client)
