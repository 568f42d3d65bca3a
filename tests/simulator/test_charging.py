"""The CPO side of charging in both versions: START_SESSION to a Session that charges in simulated
time and pushes itself, STOP_SESSION to COMPLETED, unasked sessions, the Sessions Sender.

The eMSP here is `ChargingEmsp` of `charging.py`: the recording eMSP of `emsp.py` plus a Sessions
Receiver and command result URLs, recording every call with its Authorization header."""

import threading
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest

from cpo_simulator import CpoSimulator, SimulatorError
from cpo_simulator.transport import authorization, load_json, parse_datetime
from tests.helpers import wait_until
from tests.simulator import charging
from tests.simulator.charging import (
    ChargingEmsp,
    StartCpo,
    command,
    modern,
    results,
    results_to,
    start_body,
)

# the fixtures of charging.py: each eMSP version, its eMSP, simulators registered with it
version, emsp, cpo = charging.version, charging.emsp, charging.cpo


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- the whole flow ------------------------------------------------------------------------------


def test_start_session_charges_and_stop_session_completes(
    cpo: StartCpo, emsp: ChargingEmsp, version: str
) -> None:
    sim = cpo()
    before = datetime.now(UTC).replace(microsecond=0)
    answer = command(sim, emsp, "START_SESSION", start_body(emsp))

    assert answer["status_code"] == 1000
    expected_response = {"result": "ACCEPTED"} | ({"timeout": 30} if modern(version) else {})
    assert answer["data"] == expected_response
    (result,) = results(emsp, "start")
    assert result.method == "POST" and result.body == {"result": "ACCEPTED"}
    assert result.header == authorization(emsp.token_c, base64_form=modern(version))

    put = wait_until(lambda: emsp.calls_to("sessions", "PUT"))[0]
    session_id = put.body["id"]
    assert put.path == f"/{version}/sessions/NL/SIM/{session_id}"
    assert put.body["status"] == "ACTIVE" and put.body["kwh"] == 0
    start = parse_datetime(put.body["start_date_time" if modern(version) else "start_datetime"])
    assert before <= start <= datetime.now(UTC)  # the real moment it started
    assert sim.commands[0].session_id == session_id

    wait_until(lambda: len(emsp.calls_to("sessions", "PATCH")) >= 3)
    charging = wait_until(lambda: emsp.calls_to("locations", "PATCH"))[0]
    assert charging.path == f"/{version}/locations/NL/SIM/LOC00001/LOC00001-1"
    assert charging.body["status"] == "CHARGING"
    assert sim.location(0)["evses"][0]["status"] == "CHARGING"

    stop = command(
        sim,
        emsp,
        "STOP_SESSION",
        {"response_url": emsp.response_url("stop"), "session_id": session_id},
    )
    assert stop["status_code"] == 1000 and stop["data"]["result"] == "ACCEPTED"
    final = sim.wait_for_session(status="COMPLETED", session_id=session_id)
    assert results(emsp, "stop")[0].body == {"result": "ACCEPTED"}

    patches = [c.body for c in emsp.calls_to("sessions", "PATCH")]
    assert patches[-1]["status"] == "COMPLETED"
    assert all("status" not in body for body in patches[:-1])
    kwhs = [body["kwh"] for body in patches]
    stamps = [parse_datetime(body["last_updated"]) for body in patches]
    costs = [
        body["total_cost"]["excl_vat"] if modern(version) else body["total_cost"]
        for body in patches
    ]
    assert kwhs == sorted(kwhs) and len(set(kwhs)) == len(kwhs)  # rising
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert costs == sorted(costs) and costs[-1] > costs[0]

    available = emsp.calls_to("locations", "PATCH")[-1]
    assert available.body["status"] == "AVAILABLE"
    assert parse_datetime(available.body["last_updated"]) > parse_datetime(
        charging.body["last_updated"]
    )
    assert sim.location(0)["evses"][0]["status"] == "AVAILABLE"
    assert final == sim.sessions[session_id] and final["status"] == "COMPLETED"


def test_simulated_time_energy_periods_and_cost_agree(
    cpo: StartCpo, emsp: ChargingEmsp, version: str
) -> None:
    """kWh = charge_kw × simulated hours; the periods add up to kwh and tile the session; the
    cost is the AC tariff's start fee plus its energy price, with NL's 21 % VAT under 2.2.1."""
    sim = cpo(charge_kw=22, time_scale=600)
    command(sim, emsp, "START_SESSION", start_body(emsp))
    session_id = sim.wait_for_session(status="ACTIVE")["id"]
    wait_until(lambda: len(emsp.calls_to("sessions", "PATCH")) >= 2)
    final = sim.end_session(session_id, reason="EV disconnected")

    begin = parse_datetime(final["start_date_time" if modern(version) else "start_datetime"])
    end = parse_datetime(final["end_date_time" if modern(version) else "end_datetime"])
    seconds = (end - begin).total_seconds()
    assert seconds >= 2 * 0.1 * 600 * 0.9  # at least two ticks of 0.1 s real × 600
    assert parse_datetime(final["last_updated"]) == end
    kwh = Decimal(22) * Decimal(int(seconds)) / 3600
    assert final["kwh"] == kwh.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)

    # every period pushed, in order: PATCHes append one each (2.2.1) or carry them all (2.1.1)
    patches = [c.body for c in emsp.calls_to("sessions", "PATCH")]
    if modern(version):
        assert all(len(body["charging_periods"]) == 1 for body in patches)
        periods = [period for body in patches for period in body["charging_periods"]]
    else:
        periods = patches[-1]["charging_periods"]
        assert [len(b["charging_periods"]) for b in patches] == list(range(1, len(patches) + 1))
    assert periods == final["charging_periods"]
    starts = [parse_datetime(p["start_date_time"]) for p in periods]
    assert starts[0] == begin and starts == sorted(starts) and starts[-1] < end
    energy = sum(d["volume"] for p in periods for d in p["dimensions"] if d["type"] == "ENERGY")
    hours = sum(d["volume"] for p in periods for d in p["dimensions"] if d["type"] == "TIME")
    assert energy == final["kwh"]
    assert abs(hours * 3600 - Decimal(seconds)) < 1
    assert all(p.get("tariff_id") == ("TARIFF-AC" if modern(version) else None) for p in periods)

    fee, per_kwh = Decimal("0.4132"), Decimal("0.4876")  # TARIFF-AC excl. NL's 21 % VAT
    if modern(version):
        assert final["total_cost"] == {
            "excl_vat": money(fee + final["kwh"] * per_kwh),
            "incl_vat": money((fee + final["kwh"] * per_kwh) * Decimal("1.21")),
        }
    else:
        assert final["total_cost"] == money(fee + final["kwh"] * per_kwh)
    assert final["currency"] == "EUR"


def test_the_session_shape_of_each_version(cpo: StartCpo, emsp: ChargingEmsp, version: str) -> None:
    sim = cpo()
    body = start_body(emsp)
    command(sim, emsp, "START_SESSION", body)
    put = wait_until(lambda: emsp.calls_to("sessions", "PUT"))[0].body
    if modern(version):
        assert list(put) == [
            "country_code",
            "party_id",
            "id",
            "start_date_time",
            "kwh",
            "cdr_token",
            "auth_method",
            "authorization_reference",
            "location_id",
            "evse_uid",
            "connector_id",
            "currency",
            "charging_periods",
            "total_cost",
            "status",
            "last_updated",
        ]
        token = body["token"]
        assert put["cdr_token"] == {
            "country_code": "DE",
            "party_id": "REC",
            "uid": token["uid"],
            "type": "AD_HOC_USER",
            "contract_id": token["contract_id"],
        }
        assert (put["country_code"], put["party_id"]) == ("NL", "SIM")
        assert put["auth_method"] == "COMMAND"
        assert put["authorization_reference"] == "auth-ref-0001"
        assert (put["location_id"], put["evse_uid"], put["connector_id"]) == (
            "LOC00001",
            "LOC00001-1",
            "1",
        )
        assert put["total_cost"] == {"excl_vat": Decimal("0.41"), "incl_vat": Decimal("0.50")}
    else:
        assert list(put) == [
            "id",
            "start_datetime",
            "kwh",
            "auth_id",
            "auth_method",
            "location",
            "currency",
            "charging_periods",
            "total_cost",
            "status",
            "last_updated",
        ]
        assert put["auth_id"] == body["token"]["auth_id"]
        assert put["auth_method"] == "AUTH_REQUEST"  # 2.1.1 has no COMMAND
        location = put["location"]
        assert location["id"] == "LOC00001" and location["type"] == "ON_STREET"
        (evse,) = location["evses"]
        assert evse["uid"] == "LOC00001-1" and evse["status"] == "CHARGING"
        assert [c["id"] for c in evse["connectors"]] == ["1"]
        assert evse["connectors"][0]["tariff_id"] == "TARIFF-AC"
        assert put["total_cost"] == Decimal("0.41")  # the start fee, excl. VAT
    assert put["charging_periods"] == []
    assert put["last_updated"] == put["start_date_time" if modern(version) else "start_datetime"]


def test_stop_session_of_an_unknown_or_finished_session(
    cpo: StartCpo, emsp: ChargingEmsp, version: str
) -> None:
    sim = cpo()
    stop = {"response_url": emsp.response_url("stop"), "session_id": "no-such-session"}
    answer = command(sim, emsp, "STOP_SESSION", stop)
    assert answer["status_code"] == 1000 and answer["data"]["result"] == "UNKNOWN_SESSION"

    session_id = sim.start_session_unasked(0, 1, "04A1B2C3")
    sim.wait_for_session(status="ACTIVE")
    sim.end_session(session_id)
    answer = command(sim, emsp, "STOP_SESSION", stop | {"session_id": session_id})
    assert answer["data"]["result"] == "UNKNOWN_SESSION"
    assert results_to(emsp, "stop") == []  # nothing follows a refusal


def test_a_start_on_a_busy_or_broken_evse_fails_in_the_result(
    cpo: StartCpo, emsp: ChargingEmsp, version: str
) -> None:
    sim = cpo()
    command(sim, emsp, "START_SESSION", start_body(emsp))
    sim.wait_for_session(status="ACTIVE")
    answer = command(sim, emsp, "START_SESSION", start_body(emsp, "again"))
    sim.push_evse_status(0, 2, "OUTOFORDER")
    broken = command(sim, emsp, "START_SESSION", start_body(emsp, "broken", evse="LOC00001-2"))

    assert answer["data"]["result"] == broken["data"]["result"] == "ACCEPTED"  # forwarded ...
    occupied, inoperative = results(emsp, "again")[0], results(emsp, "broken")[0]
    if modern(version):  # ... and refused by the charger
        assert occupied.body["result"] == "EVSE_OCCUPIED"
        assert inoperative.body["result"] == "EVSE_INOPERATIVE"
        assert occupied.body["message"][0]["language"] == "en"
    else:  # 2.1.1's CommandResponseType cannot say why
        assert occupied.body == inoperative.body == {"result": "REJECTED"}
    assert len(sim.sessions) == 1


def test_without_an_evse_the_cpo_picks_a_free_one(
    cpo: StartCpo, emsp: ChargingEmsp, version: str
) -> None:
    sim = cpo()
    command(sim, emsp, "START_SESSION", start_body(emsp, "first", evse=None))
    first = sim.wait_for_session(status="ACTIVE")
    command(sim, emsp, "START_SESSION", start_body(emsp, "second", evse=None))
    wait_until(lambda: len(sim.sessions) == 2)
    second = list(sim.sessions.values())[1]
    if modern(version):
        assert (first["evse_uid"], second["evse_uid"]) == ("LOC00001-1", "LOC00001-2")
    else:
        assert first["location"]["evses"][0]["uid"] == "LOC00001-1"
        assert second["location"]["evses"][0]["uid"] == "LOC00001-2"


# --- sessions nobody commanded, pushes again, the Sender -----------------------------------------


def test_an_unasked_session_is_pushed_like_any_other(
    cpo: StartCpo, emsp: ChargingEmsp, version: str
) -> None:
    sim = cpo()
    session_id = sim.start_session_unasked(2, 2, "04AABBCCDD", contract_id="DE-REC-C99")
    active = sim.wait_for_session(status="ACTIVE", session_id=session_id)
    put = emsp.calls_to("sessions", "PUT")[0]
    assert put.body == {**active, "kwh": 0, "charging_periods": []} | (
        {"total_cost": put.body["total_cost"], "last_updated": put.body["last_updated"]}
    )
    if modern(version):
        assert put.body["auth_method"] == "WHITELIST"
        assert "authorization_reference" not in put.body
        assert put.body["cdr_token"] == {
            "country_code": "DE",
            "party_id": "REC",
            "uid": "04AABBCCDD",
            "type": "RFID",
            "contract_id": "DE-REC-C99",
        }
        assert put.body["evse_uid"] == "LOC00003-2"
        assert put.body["charging_periods"] == [] and "tariff_id" not in put.body
    else:
        assert put.body["auth_method"] == "WHITELIST"
        assert put.body["auth_id"] == "DE-REC-C99"
    final = sim.end_session(session_id, reason="EV disconnected")
    assert final["status"] == "COMPLETED"
    assert sim.commands == []


def test_push_session_puts_the_session_again(
    cpo: StartCpo, emsp: ChargingEmsp, version: str
) -> None:
    sim = cpo(update_interval=60)  # no PATCH in the way
    session_id = sim.start_session_unasked(0, 1, "04000001")
    sim.wait_for_session(status="ACTIVE")
    response = sim.push_session(session_id)
    assert response.status_code == 200
    first, again = emsp.calls_to("sessions", "PUT")
    assert again.body == first.body == sim.sessions[session_id]
    with pytest.raises(ValueError):
        sim.push_session("nope")


def test_the_sessions_sender_lists_sessions_from_date_from(
    cpo: StartCpo, emsp: ChargingEmsp, version: str
) -> None:
    sim = cpo(update_interval=60)
    first = sim.start_session_unasked(0, 1, "04000001")
    second = sim.start_session_unasked(1, 1, "04000002")
    sim.wait_for_session(status="ACTIVE", session_id=second)
    assert emsp.cpo_token is not None
    headers = {"Authorization": authorization(emsp.cpo_token, base64_form=modern(version))}
    url = f"{sim.base_url}/ocpi/{version}/sessions"
    missing = httpx.get(url, headers=headers).json()
    since = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    listed = httpx.get(f"{url}?date_from={since}&limit=1", headers=headers)
    later = httpx.get(f"{url}?date_from=2099-01-01T00:00:00Z", headers=headers).json()

    assert missing["status_code"] == 2001
    assert listed.status_code == 200 and listed.headers["X-Total-Count"] == "2"
    assert [s["id"] for s in listed.json()["data"]] == [first]
    assert 'rel="next"' in listed.headers["Link"]
    assert load_json(listed.content)["data"][0] == sim.sessions[first]
    assert later["data"] == []


def test_sessions_stop_with_the_simulator_without_a_last_push(
    cpo: StartCpo, emsp: ChargingEmsp
) -> None:
    sim = cpo()
    session_id = sim.start_session_unasked(0, 1, "04000001")
    wait_until(lambda: emsp.calls_to("sessions", "PATCH"))
    sim.stop()
    pushed = len(emsp.calls_to("sessions"))
    assert sim.sessions[session_id]["status"] == "ACTIVE"
    assert not [t for t in threading.enumerate() if "session-" in t.name]
    assert len(emsp.calls_to("sessions")) == pushed
    with pytest.raises(SimulatorError):
        sim.end_session(session_id, timeout=1)


def test_bad_arguments_are_refused(cpo: StartCpo) -> None:
    sim = cpo()
    with pytest.raises(ValueError):
        sim.start_session_unasked(3, 1, "04")
    with pytest.raises(ValueError):
        sim.start_session_unasked(0, 3, "04")
    with pytest.raises(ValueError):
        sim.end_session("nope")
    with pytest.raises(ValueError):
        sim.command_fault = "flaky"
    with pytest.raises(ValueError):
        sim.session_fault = "flaky"
    with pytest.raises(ValueError):
        CpoSimulator(charge_kw=0)
    with pytest.raises(ValueError):
        CpoSimulator(command_timeout=0)
    with pytest.raises(TimeoutError):
        sim.wait_for_session(status="COMPLETED", timeout=0.1)
    sim.start_session_unasked(0, 1, "04")
    with pytest.raises(SimulatorError):
        sim.start_session_unasked(0, 1, "05")  # the EVSE is taken
