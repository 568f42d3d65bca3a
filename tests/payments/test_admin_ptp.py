"""The admin for the Payments module: each 2.3.0 connection's terminals with what the CPO
assigned them, an operator's terminal for a group of locations, and the Financial Advice
Confirmations as a log, with "send again" for those the CPO has not taken."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client

from ocpi_peer.models import Partner
from payments import advice
from payments.models import Checkout, FinancialAdvice, Terminal
from tests.payments.charger import charger
from tests.payments.ledger_rows import checkout_of

pytestmark = pytest.mark.django_db

TERMINALS = "/admin/payments/terminal/"
ADVICES = "/admin/payments/financialadvice/"


@pytest.fixture
def operator(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("operator", "", "pw-operator-1"))
    return client


@pytest.fixture
def partner() -> Partner:
    charger()
    partner = Partner.objects.get(name="Test CPO")
    partner.version = "2.3.0"
    partner.party_keys = ["DE*ABC"]
    partner.save(update_fields=["version", "party_keys"])
    return partner


def test_it_lists_the_terminals_of_each_connection_with_their_assignment(
    operator: Client, partner: Partner
) -> None:
    Terminal.objects.create(
        partner=partner, country_code="DE", party_id="ABC", location_ids=["LOC1"]
    )
    page = operator.get(TERMINALS).content.decode()
    assert "DE*ABC" in page and "locations LOC1" in page and "Test CPO" in page


def test_an_operator_defines_a_terminal_for_a_group_of_locations(
    operator: Client, partner: Partner, django_capture_on_commit_callbacks
) -> None:
    form = {
        "partner": partner.pk,
        "country_code": "DE",
        "party_id": "ABC",
        "label": "Garage north",
        "invoice_creator": "PTP",
        "invoice_base_url": "",
        "location_list": "LOC1\nLOC2\n",
    }
    with django_capture_on_commit_callbacks() as pushes:
        answer = operator.post(f"{TERMINALS}add/", form)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    terminal = Terminal.objects.get(label="Garage north")
    assert terminal.location_ids == ["LOC1", "LOC2"] and len(pushes) == 1
    refused = operator.post(f"{TERMINALS}add/", {**form, "party_id": "XYZ"})
    assert "does not own the party DE*XYZ" in refused.content.decode()


def test_advices_are_a_log_and_an_unsent_one_can_be_sent_again(
    operator: Client, partner: Partner, django_capture_on_commit_callbacks
) -> None:
    checkout = checkout_of(partner, "REF-FAC")
    Checkout.objects.filter(pk=checkout.pk).update(card_brand="visa", card_last4="4242")
    checkout.refresh_from_db()
    with transaction.atomic():
        advice.after_capture(checkout, captured_minor=1234, owed_minor=1234)
    row = FinancialAdvice.objects.get()
    assert row.total_incl_vat == Decimal("12.34") and row.capture_status_code == "SUCCESS"
    page = operator.get(ADVICES).content.decode()
    assert row.advice_id in page and "SUCCESS" in page
    assert operator.get(f"{ADVICES}{row.pk}/change/").status_code == 200
    with django_capture_on_commit_callbacks() as sends:
        operator.post(ADVICES, {"action": "send_again", "_selected_action": [row.pk]})
    assert len(sends) == 1
    assert operator.get(f"{ADVICES}add/").status_code == 403


def test_operations_adds_terminals_finance_reads_them_support_sees_none(partner: Partner) -> None:
    from tests.support.roles import signed_in

    operations = signed_in("olga", "operations")
    assert operations.get(f"{TERMINALS}add/").status_code == 200
    assert operations.get(ADVICES).status_code == 200
    finance = signed_in("fiona", "finance")
    assert finance.get(TERMINALS).status_code == 200
    assert finance.get(f"{TERMINALS}add/").status_code == 403
    assert finance.get(ADVICES).status_code == 200
    support = signed_in("sam", "support")
    assert support.get(TERMINALS).status_code == 403
    assert support.get(ADVICES).status_code == 403
