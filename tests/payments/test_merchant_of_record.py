"""Who sells the charge follows the CPO party's terms: "platform" (the default), we sell it and
the CPO is named as operator; "cpo", the CPO sells and we collect as its payment service. The
receipt page, its e-mail and the settlement export say the same."""

import csv
import io
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

from payments import exports
from payments.models import CpoTerms
from tests.helpers import wait_until
from tests.payments.visit import settled

pytestmark = pytest.mark.django_db(transaction=True)


def seller_of(html: str) -> str:
    return html.split('id="seller">')[1].split("</dd>")[0]


def export_of(checkout_id: int) -> dict[str, str]:
    out = io.StringIO()
    exports.write_settlement_csv(exports.settlement_rows(timezone.localdate(), None), out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    return next(row for row in rows if row["checkout_id"] == str(checkout_id))


@pytest.fixture
def platform_identity(settings) -> None:
    settings.PLATFORM_LEGAL_NAME = "ChargePay GmbH"
    settings.PLATFORM_LEGAL_ADDRESS = "Stromweg 5\n10115 Berlin"
    settings.PLATFORM_VAT_ID = "DE999999999"


def cpo_terms(merchant: str) -> None:
    CpoTerms.objects.create(
        country_code="NL",
        party_id="SIM",
        default_hold=Decimal("50.00"),
        merchant_of_record=merchant,
        legal_name="Simulated Charging B.V.",
        legal_address="Laadpaalstraat 1\n1011 AB Amsterdam",
        vat_id="NL123456789B01",
    )


def test_as_merchant_of_record_we_are_the_seller_and_the_cpo_the_operator(
    connected_cpo, live_server, stripe_settings, eager_tasks, mailoutbox, platform_identity
) -> None:
    cpo_terms("platform")
    checkout = settled(connected_cpo, live_server, stripe_settings, email="d@example.org")
    html = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt/").text
    seller = seller_of(html)
    assert seller.split("<br>")[:3] == ["ChargePay GmbH", "Stromweg 5", "10115 Berlin"]
    assert "VAT ID DE999999999" in seller and "Simulated" not in seller
    operator = html.split('id="operator">')[1].split("</dd>")[0]
    assert "Simulated Charging B.V." in operator and "NL*SIM" in operator
    assert 'id="payment-service"' not in html
    wait_until(lambda: len(mailoutbox) >= 1)
    body = mailoutbox[0].body
    assert "Seller: ChargePay GmbH, Stromweg 5, 10115 Berlin" in body
    assert "Charge point operator: Simulated Charging B.V., OCPI party NL*SIM" in body
    assert "Payment service" not in body
    assert export_of(checkout.pk)["merchant_of_record"] == "platform"


def test_with_the_cpo_as_merchant_of_record_it_sells_and_we_collect(
    connected_cpo, live_server, stripe_settings, eager_tasks, mailoutbox, platform_identity
) -> None:
    cpo_terms("cpo")
    checkout = settled(connected_cpo, live_server, stripe_settings, email="d@example.org")
    html = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt/").text
    seller = seller_of(html)
    assert seller.startswith("Simulated Charging B.V.<br>") and "ChargePay" not in seller
    assert 'id="operator"' not in html
    assert "ChargePay GmbH collects the payment on behalf of the operator" in html
    wait_until(lambda: len(mailoutbox) >= 1)
    body = mailoutbox[0].body
    assert "Seller (charge point operator): Simulated Charging B.V." in body
    assert "Payment service: ChargePay GmbH collects the payment" in body
    assert export_of(checkout.pk)["merchant_of_record"] == "cpo"
