"""What a Session's `total_cost` says, by `session_cost`: priced by the tariff (the default),
"omitted" (OCPI makes it optional), or "marked_up" (10 % above the tariff, as a CPMS billing by
another tariff than it published); and `max_price`, which caps every 2.2.1 tariff and the
sessions priced by it. In both versions, pushed to a recording eMSP."""

from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.helpers import wait_until
from tests.simulator import charging
from tests.simulator.charging import ChargingEmsp, StartCpo, command, modern, start_body

version, emsp, cpo = charging.version, charging.emsp, charging.cpo

FEE, PER_KWH = Decimal("0.4132"), Decimal("0.4876")  # TARIFF-AC excl. NL's 21 % VAT


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def final_session(sim, emsp: ChargingEmsp) -> dict:
    command(sim, emsp, "START_SESSION", start_body(emsp))
    session_id = sim.wait_for_session(status="ACTIVE")["id"]
    wait_until(lambda: len(emsp.calls_to("sessions", "PATCH")) >= 2)
    return sim.end_session(session_id)


def test_it_pushes_no_total_cost_when_omitted(
    cpo: StartCpo, emsp: ChargingEmsp, version: str
) -> None:
    final = final_session(cpo(session_cost="omitted", time_scale=600), emsp)
    pushes = [call.body for call in emsp.calls_to("sessions")]
    assert final["kwh"] > 0 and pushes
    assert all("total_cost" not in body for body in [*pushes, final])


def test_it_bills_ten_percent_above_the_tariff_when_marked_up(
    cpo: StartCpo, emsp: ChargingEmsp, version: str
) -> None:
    final = final_session(cpo(session_cost="marked_up", time_scale=600), emsp)
    excl = FEE + final["kwh"] * PER_KWH
    if modern(version):
        assert final["total_cost"] == {
            "excl_vat": cents(cents(excl) * Decimal("1.10")),
            "incl_vat": cents(cents(excl * Decimal("1.21")) * Decimal("1.10")),
        }
    else:
        assert final["total_cost"] == cents(cents(excl) * Decimal("1.10"))


def test_a_max_price_caps_the_tariff_and_its_sessions(
    cpo: StartCpo, emsp: ChargingEmsp, version: str
) -> None:
    sim = cpo(max_price="0.60", charge_kw=22, time_scale=600)
    tariff = sim.tariff("TARIFF-AC")
    if not modern(version):  # 2.1.1 tariffs have no max_price
        assert "max_price" not in tariff
        return
    assert tariff["max_price"] == {"excl_vat": Decimal("0.4959"), "incl_vat": Decimal("0.60")}
    final = final_session(sim, emsp)
    assert FEE + final["kwh"] * PER_KWH > Decimal("0.4959")  # the tariff alone is dearer
    assert final["total_cost"] == {"excl_vat": Decimal("0.50"), "incl_vat": Decimal("0.60")}


def test_it_refuses_an_unknown_session_cost(cpo: StartCpo) -> None:
    with pytest.raises(ValueError, match="session_cost"):
        cpo(session_cost="free")
