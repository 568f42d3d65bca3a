"""The exception queue stays quiet for ordinary charges: the simulated CPO bills an ad-hoc payer
by the tariff that payer was shown, figures are compared as money (not as the engine's exact
price), and a difference within the CPO party's tolerance is noted on the checkout instead of
opening a case. A larger one still opens a case, in money as an operator reads it."""

from decimal import Decimal

import pytest

from payments.models import Case, ChargingSession, Checkout, CpoTerms
from tests.helpers import wait_until
from tests.payments.charging import pay, reaches
from tests.payments.settling import cdr_for, finished_session, minor

pytestmark = pytest.mark.django_db(transaction=True)


def push_with_ad_hoc_tariffs(cpo) -> str:
    """The CPO's first location and every tariff it serves, the ad-hoc twins included."""
    assert cpo.push_location(0).json()["status_code"] == 1000
    for tariff_id in ("TARIFF-AC", "TARIFF-AC-ADHOC", "TARIFF-DC", "TARIFF-DC-ADHOC"):
        assert cpo.push_tariff(tariff_id).json()["status_code"] == 1000
    return cpo.location(0)["evses"][0]["evse_id"]


def test_it_opens_no_case_for_ordinary_sessions_of_the_simulated_cpo(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(
        location_count=1, update_interval=0.2, ad_hoc_tariffs=True, cdr_fault=None, time_scale=600
    )
    evse_id = push_with_ad_hoc_tariffs(cpo)
    for _ in range(2):
        checkout = reaches(pay(live_server.url, stripe_settings, evse_id), "charging")
        assert checkout.tariff_snapshot["tariff_id"] == "TARIFF-AC-ADHOC"
        session = cpo.wait_for_session("ACTIVE")
        cpo.end_session(session["id"])
        checkout = reaches(checkout, "settled")
        ledger = minor(checkout)
        assert ledger["capture"] == ledger["payable"] > 0  # the CDR billed the price shown
        assert checkout.flag == "" and checkout.price_notes == ""
    assert list(Case.objects.values_list("summary", flat=True)) == []


def test_it_notes_a_difference_within_the_tolerance_on_the_checkout(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    shown = session.total_cost_incl_vat
    cdr = cdr_for(cpo, checkout, session, total_incl=shown + Decimal("0.03"))
    cpo.call_us("POST", "cdrs", json=cdr)
    checkout = reaches(checkout, "settled")
    assert minor(checkout)["capture"] == int(shown * 100)
    assert not Case.objects.exists()
    stored = Checkout.objects.get(pk=checkout.pk)
    asks = f"€{shown + Decimal('0.03'):.2f}"
    assert f"the CDR asks {asks}, the price shown gives €{shown:.2f}" in stored.price_notes
    assert "within the tolerance of 0.05" in stored.price_notes


def test_it_opens_a_case_past_the_tolerance_the_party_set(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    CpoTerms.objects.create(
        country_code="NL", party_id="SIM", default_hold=Decimal("50"), price_tolerance=Decimal(0)
    )
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    shown = session.total_cost_incl_vat
    cdr = cdr_for(cpo, checkout, session, total_incl=shown + Decimal("0.01"))
    cpo.call_us("POST", "cdrs", json=cdr)
    reaches(checkout, "settled")
    summaries = sorted(Case.objects.values_list("summary", flat=True))
    asks = f"the CDR asks €{shown + Decimal('0.01'):.2f}"
    assert summaries == [
        f"{asks}, the CPO's last Session said €{shown:.2f}",
        f"{asks}, the price shown gives €{shown:.2f}: took the lower",
    ]


def test_it_opens_no_case_for_a_long_session_that_pays_the_blocking_fee(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(
        location_count=1,
        update_interval=0.2,
        time_scale=30_000,  # five simulated hours in 0.6 s: the blocking fee from the fifth
        ad_hoc_tariffs=True,
        cdr_fault=None,
        charge_kw=1.0,
    )
    evse_id = push_with_ad_hoc_tariffs(cpo)
    checkout = reaches(pay(live_server.url, stripe_settings, evse_id), "charging")
    session = cpo.wait_for_session("ACTIVE")
    wait_until(lambda: ChargingSession.objects.filter(checkout=checkout, kwh__gt=5).exists())
    cpo.end_session(session["id"])
    checkout = reaches(checkout, "settled")
    ledger = minor(checkout)
    assert ledger["capture"] == ledger["payable"]
    assert list(Case.objects.values_list("summary", flat=True)) == []
    assert checkout.price_notes == ""
