"""A 2.3.0 CPO from registration to settlement: its tariff's preauthorize_amount is what we
hold, its Sessions and CDR carry Price as `before_taxes` with a list of taxes, and the CDR
settles the checkout as a 2.2.1 one does: we capture the CDR's total after taxes. (Over 2.3.0
the driver pays at an EVSE the CPO assigned to our payment terminal.)"""

from decimal import Decimal

import pytest

from payments.models import Cdr, ChargingSession
from tests.payments.charging import pay, reaches
from tests.payments.ptp import terminal_at
from tests.payments.settling import minor

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_230_cpo_is_held_charged_and_settled_by_its_own_cdr(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(
        version="2.3.0",
        location_count=1,
        update_interval=0.2,
        cdr_fault=None,
        preauthorize_amount="30.00",
    )
    _, evse_id = terminal_at(cpo)
    checkout = reaches(pay(live_server.url, stripe_settings, evse_id), "charging")
    assert checkout.hold_amount == Decimal("30.00")
    assert checkout.tariff_snapshot["tax_included"] == "NO"
    session = cpo.wait_for_session("ACTIVE")
    cpo.end_session(session["id"])
    checkout = reaches(checkout, "settled", timeout=30)
    charged = ChargingSession.objects.get(checkout=checkout)
    cdr = Cdr.objects.get(checkout=checkout)
    sent = cpo.wait_for_cdr(session["id"]).body  # recorded once our answer is back
    assert sent["id"] == cdr.cdr_id
    taxes = sum((tax["amount"] for tax in sent["total_cost"]["taxes"]), Decimal(0))
    assert cdr.total_cost_excl_vat == sent["total_cost"]["before_taxes"]
    assert cdr.total_cost_incl_vat == sent["total_cost"]["before_taxes"] + taxes
    assert charged.total_cost_incl_vat == cdr.total_cost_incl_vat
    ledger = minor(checkout)
    assert ledger["capture"] == int(cdr.total_cost_incl_vat * 100)
    assert ledger["release"] == 3000 - ledger["capture"]
    assert checkout.payment_status == "captured" and not checkout.flag
