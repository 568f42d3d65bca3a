"""The simulator's sessions are what a real charger could have metered: by default in real time
(the session ends at its start plus the time it really ran, never later than now), no more
energy than the connector's power allows in that time, and priced with the VAT of the fleet's
country (NL 21 %, DE 19 %, ...)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from cpo_simulator import CpoSimulator
from cpo_simulator.transport import parse_datetime
from tests.helpers import wait_until
from tests.simulator import charging
from tests.simulator.charging import ChargingEmsp, StartCpo, command, start_body
from tests.simulator.test_tariffs import tariffs

emsp, cpo = charging.emsp, charging.cpo


@pytest.fixture
def version() -> str:
    return "2.2.1"  # a START_SESSION naming its connector


def charge(sim: CpoSimulator, emsp: ChargingEmsp, connector_id: str) -> dict:
    """Start at connector `connector_id` of the first (AC) EVSE, let it run, stop it."""
    command(sim, emsp, "START_SESSION", start_body(emsp, connector_id=connector_id))
    session_id = sim.wait_for_session(status="ACTIVE")["id"]
    wait_until(lambda: len(emsp.calls_to("sessions", "PATCH")) >= 2)
    wait_until(lambda: sim.sessions[session_id]["kwh"] > 0, timeout=10)
    return sim.end_session(session_id, reason="EV disconnected")


def hours(session: dict) -> Decimal:
    seconds = parse_datetime(session["end_date_time"]) - parse_datetime(session["start_date_time"])
    return Decimal(int(seconds.total_seconds())) / 3600


def test_it_charges_in_real_time_and_ends_no_later_than_now(
    cpo: StartCpo, emsp: ChargingEmsp
) -> None:
    sim = cpo()
    began = datetime.now(UTC).replace(microsecond=0)
    final = charge(sim, emsp, "1")
    ended = datetime.now(UTC)
    start, end = parse_datetime(final["start_date_time"]), parse_datetime(final["end_date_time"])
    assert began <= start <= end <= ended
    assert parse_datetime(final["last_updated"]) <= ended
    assert final["kwh"] <= Decimal(11) * hours(final) + Decimal("0.001")  # the car takes 11 kW


def test_it_never_delivers_more_than_the_connector_gives(cpo: StartCpo, emsp: ChargingEmsp) -> None:
    sim = cpo(charge_kw=50)  # a car that could take 50 kW, at a 3.7 kW domestic socket
    socket = sim.location(0)["evses"][0]["connectors"][1]
    assert (socket["standard"], socket["max_electric_power"]) == ("DOMESTIC_F", 3680)
    final = charge(sim, emsp, "2")
    assert 0 < final["kwh"] <= Decimal("3.68") * hours(final) + Decimal("0.001")


def test_a_fast_forwarded_session_keeps_to_the_power_too(cpo: StartCpo, emsp: ChargingEmsp) -> None:
    sim = cpo(charge_kw=50, time_scale=600)  # at the 22 kW Type 2 socket
    final = charge(sim, emsp, "1")
    assert final["kwh"] <= Decimal("22.08") * hours(final) + Decimal("0.001")
    assert final["kwh"] >= Decimal("22.08") * hours(final) - Decimal("0.01")


@pytest.mark.parametrize(
    ("country", "rate", "note"),
    [
        ("NL", "21.0", "Prices include 21 % VAT."),
        ("DE", "19.0", "Prices include 19 % VAT."),
        ("FR", "20.0", "Prices include 20 % VAT."),
        ("CH", "8.1", "Prices include 8.1 % VAT."),
    ],
)
def test_its_tariffs_carry_the_vat_of_the_fleets_country(
    country: str, rate: str, note: str
) -> None:
    with CpoSimulator(country_code=country, party_id="SIM") as sim:
        served = tariffs(sim)
    rates = {c["vat"] for t in served for e in t["elements"] for c in e["price_components"]}
    assert rates == {Decimal(rate)}
    assert served[0]["tariff_alt_text"][0]["text"].startswith(note)
    energy = served[0]["elements"][1]["price_components"][0]
    gross = energy["price"] * (100 + energy["vat"]) / 100
    assert gross.quantize(Decimal("0.01")) == Decimal("0.59")  # the price drivers read
