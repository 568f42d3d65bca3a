"""CPO terms that lack the legal name or the address a receipt prints, or the seller's VAT id a
full invoice (over €250) needs, are flagged in the admin: a column and a filter in the list, a
warning on the terms' page."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client

from payments.models import CpoTerms

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client: Client, settings) -> Client:
    settings.PLATFORM_VAT_ID = "DE999999999"  # we sell under the default terms: our VAT id
    client.force_login(User.objects.create_superuser("operator", "", "pw-operator-1"))
    return client


def terms(party_id: str, **legal: str) -> CpoTerms:
    return CpoTerms.objects.create(
        country_code="DE", party_id=party_id, default_hold=Decimal("30.00"), **legal
    )


def test_incomplete_terms_are_flagged_in_the_list_and_on_their_page(operator: Client) -> None:
    full = terms("FUL", legal_name="Full GmbH", legal_address="Hauptstr. 1\n10115 Berlin")
    bare = terms("BAR")
    nameless = terms("NOA", legal_address="Ring 2\n80331 München")
    listing = operator.get("/admin/payments/cpoterms/").content.decode()
    assert "incomplete: no legal name and no address" in listing
    assert "incomplete: no legal name" in listing and "complete" in listing
    flagged = operator.get("/admin/payments/cpoterms/", {"complete": "no"}).content.decode()
    assert "DE*BAR" in flagged and "DE*NOA" in flagged and "DE*FUL" not in flagged
    complete = operator.get("/admin/payments/cpoterms/", {"complete": "yes"}).content.decode()
    assert "DE*FUL" in complete and "DE*BAR" not in complete

    page = operator.get(f"/admin/payments/cpoterms/{bare.pk}/change/").content.decode()
    assert "These terms lack the party&#x27;s legal name and address" in page
    page = operator.get(f"/admin/payments/cpoterms/{nameless.pk}/change/").content.decode()
    assert "lack the party&#x27;s legal name:" in page
    page = operator.get(f"/admin/payments/cpoterms/{full.pk}/change/").content.decode()
    assert "These terms lack" not in page


def test_terms_without_the_sellers_vat_id_are_flagged(operator: Client, settings) -> None:
    address = {"legal_name": "Seller B.V.", "legal_address": "Weg 1\n1011 AB Amsterdam"}
    selling = terms("CPO", merchant_of_record="cpo", **address)
    terms("VAT", merchant_of_record="cpo", vat_id="NL123456789B01", **address)
    flagged = operator.get("/admin/payments/cpoterms/", {"complete": "no"}).content.decode()
    assert "DE*CPO" in flagged and "DE*VAT" not in flagged
    page = operator.get(f"/admin/payments/cpoterms/{selling.pk}/change/").content.decode()
    assert "These terms lack the party&#x27;s VAT id" in page

    settings.PLATFORM_VAT_ID = ""  # we sell under "platform" terms, and have no VAT id
    ours = terms("OUR", **address)
    listing = operator.get("/admin/payments/cpoterms/", {"complete": "no"}).content.decode()
    assert "DE*OUR" in listing and "PLATFORM_VAT_ID is not set" in listing
    page = operator.get(f"/admin/payments/cpoterms/{ours.pk}/change/").content.decode()
    assert "PLATFORM_VAT_ID is not set" in page
