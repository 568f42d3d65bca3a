"""The running cost and the cost stop when the CPO's Sessions carry no `total_cost` (OCPI makes
it optional): we price the Session's charging periods with the tariff the driver was shown, show
that cost rising on the live page, and stop the session before it reaches the hold; a tariff
whose max_price is the hold is never stopped for cost. Over real HTTP with a simulated CPO."""

from decimal import Decimal

import httpx
import pytest

from payments.models import ChargingSession, Checkout, CpoTerms
from tests.helpers import wait_until
from tests.payments.charging import pay, push_stations, reaches, status_of

pytestmark = pytest.mark.django_db(transaction=True)


def live(base_url: str, checkout: Checkout) -> dict:
    answer = httpx.get(f"{base_url}/api/v1/checkouts/{checkout.public_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_it_shows_a_rising_cost_and_stops_before_the_hold_without_the_cpos_total(
    connected_cpo, live_server, stripe_settings, eager_tasks, settings
) -> None:
    CpoTerms.objects.create(country_code="NL", party_id="SIM", default_hold=Decimal("5.00"))
    # A minute of simulated time between updates (300 × 0.2 s); a stop may take ten.
    settings.SESSION_UPDATE_INTERVAL, settings.STOP_LATENCY = 60, 600
    cpo = connected_cpo(
        location_count=1,
        update_interval=0.2,
        time_scale=300,
        charge_kw=22,
        session_cost="omitted",
    )
    checkout = reaches(pay(live_server.url, stripe_settings, push_stations(cpo)), "charging")
    seen: list[Decimal] = []

    def charging_costs() -> bool:
        body = live(live_server.url, checkout)
        session = body["session"]
        if body["status"] == "charging" and session and session["cost"] is not None:
            assert session["operator_cost"] is None and session["cost_note"] == ""
            if not seen or Decimal(session["cost"]) != seen[-1]:
                seen.append(Decimal(session["cost"]))
        return body["status"] != "charging"

    wait_until(charging_costs, timeout=30, interval=0.1)
    assert len(seen) >= 2 and seen == sorted(seen), seen  # it rose while charging
    assert seen[-1] < Decimal("5.00")
    checkout = reaches(checkout, "finished", timeout=30)
    assert checkout.stop_reason == "cost limit"
    assert [c.command for c in cpo.commands] == ["START_SESSION", "STOP_SESSION"]
    session = ChargingSession.objects.get(checkout=checkout)
    assert session.total_cost_incl_vat is None and session.total_cost_excl_vat is None
    final = live(live_server.url, checkout)["session"]
    assert Decimal("0") < Decimal(final["cost"]) <= Decimal("5.00")


@pytest.mark.parametrize("session_cost", [None, "omitted"])
def test_it_is_not_stopped_for_cost_when_the_hold_is_the_tariffs_max_price(
    connected_cpo, live_server, stripe_settings, eager_tasks, settings, session_cost
) -> None:
    settings.SESSION_UPDATE_INTERVAL, settings.STOP_LATENCY = 60, 600
    cpo = connected_cpo(
        location_count=1,
        update_interval=0.2,
        time_scale=300,
        charge_kw=22,
        max_price="5.00",
        session_cost=session_cost,
    )
    checkout = reaches(pay(live_server.url, stripe_settings, push_stations(cpo)), "charging")
    assert checkout.hold_amount == Decimal("5.00")  # the default hold, capped at max_price

    def at_the_cap() -> bool:
        session = live(live_server.url, checkout)["session"]
        return session is not None and session["cost"] == "5.00"

    wait_until(at_the_cap, timeout=30, interval=0.1)  # past 95 % of the hold, and charging on
    assert status_of(checkout) == "charging"
    cpo.end_session(cpo.wait_for_session("ACTIVE")["id"])
    checkout = reaches(checkout, "finished")
    assert checkout.stop_reason == ""
    assert [c.command for c in cpo.commands] == ["START_SESSION"]
