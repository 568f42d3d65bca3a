"""An operator refunds a settled payment from the checkout's admin page: in full or in part,
with a reason and a choice of who bears it, through a form that suggests no amount and a
second page that says what the refund does before anything moves; the form's key makes a
double submit refund once; what cannot be refunded comes back as a message, never as an error
page. A refund the CPO bears lowers what we owe it, in the ledger."""

from decimal import ROUND_DOWN, Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client

from payments import exports
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
    """What the operator's browser holds once the form is shown: no amount, its key."""
    page = client.get(refund_url(checkout))
    assert page.status_code == 200
    initial = page.context["form"].initial
    assert "amount" not in initial and "borne_by" not in initial  # nothing chosen for them
    return {"key": initial["key"], "reason": "", "borne_by": "platform"}


def captured(checkout: Checkout) -> Decimal:
    return Decimal(checkout.ledger.get(kind="capture").amount_minor) / 100


def test_it_asks_for_a_confirmation_and_refunds_once_when_submitted_twice(
    operator: Client, connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    change_page = operator.get(f"/admin/payments/checkout/{checkout.pk}/change/").content.decode()
    assert refund_url(checkout) in change_page  # the Refund button
    form = opened_form(operator, checkout)
    assert form["key"].startswith("operator:")
    full = captured(checkout)
    form |= {"amount": str(full), "reason": "the charger stopped after two minutes"}

    confirm = operator.post(refund_url(checkout), form)
    page = confirm.content.decode()
    assert confirm.status_code == 200 and 'name="confirm"' in page
    assert f"The driver gets €{full:.2f} back" in page
    assert "The platform bears it: we still owe Pushing CPO" in page
    assert not checkout.refunds.exists()  # nothing moves before the confirmation

    first = operator.post(refund_url(checkout), {**form, "confirm": "yes"}, follow=True)
    assert first.redirect_chain[-1][0] == f"/admin/payments/checkout/{checkout.pk}/change/"
    assert f"refund of €{full:.2f}, borne by the platform, requested" in first.content.decode()
    again = operator.post(refund_url(checkout), {**form, "confirm": "yes"}, follow=True)
    assert again.redirect_chain[-1][0] == f"/admin/payments/checkout/{checkout.pk}/change/"
    assert "was requested already" in again.content.decode()

    checkout.refresh_from_db()
    (entry,) = checkout.ledger.filter(kind="refund")
    assert entry.amount_minor == checkout.ledger.get(kind="capture").amount_minor
    assert entry.note == "the charger stopped after two minutes"
    assert checkout.payment_status == "refunded"
    assert len(stripe_refunds(stripe_settings, checkout)) == 1
    assert "the charger stopped after two minutes" in again.content.decode()  # Refunds


def test_it_needs_an_amount_a_bearer_and_a_reason_and_refuses_more_than_is_left(
    operator: Client, connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    part = (captured(checkout) / 2).quantize(Decimal("0.01"), ROUND_DOWN)
    assert part > 0  # a simulated session of a second or two may cost only cents
    form = opened_form(operator, checkout)
    for missing in ("amount", "reason", "borne_by"):
        data = {**form, "amount": str(part), "reason": "goodwill", "confirm": "yes"}
        del data[missing]
        answer = operator.post(refund_url(checkout), data)
        assert answer.status_code == 200 and "This field is required" in answer.content.decode()
    assert not checkout.refunds.exists()

    operator.post(
        refund_url(checkout),
        {**form, "amount": str(part), "reason": "goodwill", "confirm": "yes"},
    )
    checkout.refresh_from_db()
    assert [e.amount_minor for e in checkout.ledger.filter(kind="refund")] == [part * 100]
    assert checkout.payment_status == "partially_refunded"

    left = captured(checkout) - part
    form = opened_form(operator, checkout)
    too_much = operator.post(
        refund_url(checkout),
        {**form, "amount": str(left + Decimal("0.01")), "reason": "more", "confirm": "yes"},
    )
    assert too_much.status_code == 200
    assert f"less than or equal to {left:.2f}" in too_much.content.decode()
    assert [e.amount_minor for e in checkout.ledger.filter(kind="refund")] == [part * 100]
    assert len(stripe_refunds(stripe_settings, checkout)) == 1

    odd = operator.post(refund_url(checkout), {**form, "amount": "0.001", "reason": "x"})
    assert odd.status_code == 200 and "decimal places" in odd.content.decode()


def test_it_deducts_a_refund_the_cpo_bears_from_what_we_owe_it(
    operator: Client, connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo(location_count=1, update_interval=0.2), live_server, stripe_settings
    )
    part = (captured(checkout) / 2).quantize(Decimal("0.01"), ROUND_DOWN)
    owed = exports.ledger_sums([checkout.pk])[checkout.pk].payable
    form = opened_form(operator, checkout) | {
        "amount": str(part),
        "reason": "the CPO's charger broke",
        "borne_by": "cpo",
    }
    page = operator.post(refund_url(checkout), form).content.decode()
    later = f"€{Decimal(owed - int(part * 100)) / 100:.2f}"
    assert f"The CPO bears it: we will owe Pushing CPO {later} instead of" in page
    operator.post(refund_url(checkout), {**form, "confirm": "yes"})

    sums = exports.ledger_sums([checkout.pk])[checkout.pk]
    assert sums.refunded == part * 100
    assert sums.payable == owed - part * 100 and sums.cpo_bears == part * 100
    deduction = checkout.ledger.get(kind="payable", refund__isnull=False)
    assert deduction.note == "refund borne by the CPO: the CPO's charger broke"
    assert checkout.refunds.get().borne_by == "cpo"
