"""An operator refunds a settled payment from the checkout's admin page: in full or in part,
with a reason, through an intermediate form whose key makes a double submit refund once;
what cannot be refunded comes back as a message, never as an error page."""

from decimal import ROUND_DOWN, Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client

from payments.models import Checkout
from tests.payments.refunding import stripe_refunds
from tests.payments.settling import settled

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("operator", "", "pw-operator-1"))
    return client


def refund_url(checkout: Checkout) -> str:
    return f"/admin/payments/checkout/{checkout.pk}/refund/"


def opened_form(client: Client, checkout: Checkout) -> dict:
    """What the operator's browser holds once the form is shown: its amount and its key."""
    page = client.get(refund_url(checkout))
    assert page.status_code == 200
    initial = page.context["form"].initial
    return {"amount": str(initial["amount"]), "key": initial["key"], "reason": ""}


def captured(checkout: Checkout) -> Decimal:
    return Decimal(checkout.ledger.get(kind="capture").amount_minor) / 100


def test_a_full_refund_submitted_twice_refunds_once(
    operator: Client, connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    change_page = operator.get(f"/admin/payments/checkout/{checkout.pk}/change/").content.decode()
    assert refund_url(checkout) in change_page  # the Refund button
    form = opened_form(operator, checkout)
    assert Decimal(form["amount"]) == captured(checkout)  # all that is refundable
    assert form["key"].startswith("operator:")
    form["reason"] = "the charger stopped after two minutes"

    first = operator.post(refund_url(checkout), form, follow=True)
    assert first.redirect_chain[-1][0] == f"/admin/payments/checkout/{checkout.pk}/change/"
    assert f"refund of {captured(checkout):.2f} EUR requested" in first.content.decode()
    again = operator.post(refund_url(checkout), form, follow=True)  # a double click, a reload
    assert again.status_code == 200

    checkout.refresh_from_db()
    (entry,) = checkout.ledger.filter(kind="refund")
    assert entry.amount_minor == checkout.ledger.get(kind="capture").amount_minor
    assert entry.note == "the charger stopped after two minutes"
    assert checkout.payment_status == "refunded"
    assert len(stripe_refunds(stripe_settings, checkout)) == 1
    assert "the charger stopped after two minutes" in again.content.decode()  # Refunds


def test_a_partial_refund_then_one_larger_than_what_is_left_is_refused(
    operator: Client, connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    part = (captured(checkout) / 2).quantize(Decimal("0.01"), ROUND_DOWN)
    assert part > 0  # a simulated session of a second or two may cost only cents
    form = opened_form(operator, checkout)
    no_reason = operator.post(refund_url(checkout), {**form, "amount": str(part)})
    assert no_reason.status_code == 200 and "This field is required" in no_reason.content.decode()
    assert not checkout.ledger.filter(kind="refund").exists()

    operator.post(refund_url(checkout), {**form, "amount": str(part), "reason": "goodwill"})
    checkout.refresh_from_db()
    assert [e.amount_minor for e in checkout.ledger.filter(kind="refund")] == [part * 100]
    assert checkout.payment_status == "partially_refunded"

    left = captured(checkout) - part
    form = opened_form(operator, checkout)
    assert Decimal(form["amount"]) == left  # the default is what is left
    too_much = operator.post(
        refund_url(checkout),
        {**form, "amount": str(left + Decimal("0.01")), "reason": "more goodwill"},
        follow=True,
    )
    assert too_much.status_code == 200
    page = too_much.content.decode()
    assert "Refund refused: at most" in page and f"{left:.2f} EUR" in page
    assert [e.amount_minor for e in checkout.ledger.filter(kind="refund")] == [part * 100]
    assert len(stripe_refunds(stripe_settings, checkout)) == 1

    odd = operator.post(refund_url(checkout), {**form, "amount": "0.001", "reason": "x"})
    assert odd.status_code == 200 and "decimal places" in odd.content.decode()
