"""Operators see every dispute with Stripe's figures, and cannot edit what Stripe decides."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client

from ocpi_peer.models import Partner
from payments.models import Dispute
from tests.payments.charger import charger
from tests.payments.ledger_rows import checkout_of

pytestmark = pytest.mark.django_db


def test_disputes_are_listed_with_stripes_figures_and_read_only(client: Client) -> None:
    charger()
    checkout = checkout_of(Partner.objects.get(name="Test CPO"), "REF-DISPUTED")
    dispute = Dispute.objects.create(
        dispute_id="dp_123",
        checkout=checkout,
        amount_minor=1230,
        currency="EUR",
        reason="fraudulent",
        status="needs_response",
        evidence_due_by=datetime(2026, 12, 20, tzinfo=UTC),
    )
    client.force_login(User.objects.create_superuser("operator", "", "pw-operator-1"))
    page = client.get("/admin/payments/dispute/").content.decode()
    assert "dp_123" in page and "12.30" in page and "needs_response" in page
    assert client.get("/admin/payments/dispute/?q=REF-DISPUTED").context["cl"].result_count == 1
    change = client.post(f"/admin/payments/dispute/{dispute.pk}/change/", {"status": "won"})
    assert change.status_code == 403
    assert Dispute.objects.get().status == "needs_response"
