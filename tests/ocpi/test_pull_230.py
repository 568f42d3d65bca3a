"""We pull a 2.3.0 CPO's locations and tariffs as a 2.2.1 one's: its tariffs arrive with
`tax_included`, their PriceLimits and `preauthorize_amount`, and the driver is shown them."""

from decimal import Decimal

import pytest
from django.utils import timezone

from ocpi_peer import sync
from ocpi_peer.registration import register_with_cpo
from stations import tariffs
from stations.models import Connector, Tariff
from tests.conftest import StartCpo

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_230_cpos_locations_and_tariffs_are_pulled_and_shown(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator(
        version="2.3.0",
        location_count=3,
        page_size=2,
        ad_hoc_tariffs=True,
        max_price="40.00",
        preauthorize_amount="35.00",
    )
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    assert partner.version == "2.3.0"
    assert sync.pull(partner_id=partner.pk, module="locations").rejected == 0
    outcome = sync.pull(partner_id=partner.pk, module="tariffs")
    assert outcome.rejected == 0 and outcome.written == Tariff.objects.count() > 0
    assert set(Tariff.objects.values_list("tax_included", flat=True)) == {"NO"}
    assert set(Tariff.objects.values_list("preauthorize_amount", flat=True)) == {Decimal(35)}
    assert set(Tariff.objects.values_list("max_price_incl_vat", flat=True)) == {Decimal(40)}
    connector = Connector.objects.order_by("pk").first()
    shown = tariffs.shown_price(connector, at=timezone.now(), locale="en")
    assert shown is not None and shown.not_payable_reason is None
    assert shown.tariff.type == "AD_HOC_PAYMENT"
