"""The Commands Receiver's validation and faults, and the session faults (both versions where
the shapes differ). A fault that must make *nothing* happen is checked without sleeping: a
second, fault-free command is sent afterwards, and once its effects have arrived, the first
command's would have too."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from cpo_simulator.transport import authorization, parse_datetime
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
    token_for,
)

# the fixtures of charging.py: each eMSP version, its eMSP, simulators registered with it
version, emsp, cpo = charging.version, charging.emsp, charging.cpo


def control(sim: Any, emsp: ChargingEmsp, evse: str = "LOC00002-1") -> None:
    """A fault-free START elsewhere; returns once its session is ACTIVE."""
    sim.command_fault = None
    command(
        sim,
        emsp,
        "START_SESSION",
        start_body(emsp, "control", location_id="LOC00002", evse_uid=evse),
    )
    results(emsp, "control")
    sim.wait_for_session(status="ACTIVE")


# --- validation ---------------------------------------------------------------------------------


def test_an_unknown_location_evse_or_connector_is_2003_with_rejected(
    cpo: StartCpo, emsp: ChargingEmsp, version: str
) -> None:
    sim = cpo()
    wrong = [
        start_body(emsp, location_id="LOC00009"),
        start_body(emsp, location_id="NOPE"),
        start_body(emsp, evse_uid="LOC00001-3"),
        start_body(emsp, evse_uid="LOC00002-1"),
    ]
    unlock = {
        "response_url": emsp.response_url("unlock"),
        "location_id": "LOC00001",
        "evse_uid": "LOC00001-1",
        "connector_id": "7",
    }
    answers = [command(sim, emsp, "START_SESSION", body) for body in wrong]
    answers.append(command(sim, emsp, "UNLOCK_CONNECTOR", unlock))
    rejected = {"result": "REJECTED"}
    if modern(version):
        rejected["timeout"] = 30
    for answer in answers:
        assert answer["status_code"] == 2003
        data = answer["data"]
        assert {k: data[k] for k in rejected} == rejected
    assert [c.ocpi_status for c in sim.commands] == [2003] * 5


def test_malformed_commands_are_2001(cpo: StartCpo, emsp: ChargingEmsp, version: str) -> None:
    sim = cpo()
    token = token_for(version)
    broken_token = {k: v for k, v in token.items() if k != "issuer"}
    bodies = [
        ("START_SESSION", start_body(emsp, response_url="ftp://nowhere")),
        ("START_SESSION", {k: v for k, v in start_body(emsp).items() if k != "response_url"}),
        ("START_SESSION", start_body(emsp, token=broken_token)),
        ("START_SESSION", start_body(emsp, token=token | {"type": "BADGE"})),
        ("START_SESSION", {k: v for k, v in start_body(emsp).items() if k != "location_id"}),
        ("STOP_SESSION", {"response_url": emsp.response_url("stop")}),
        ("UNLOCK_CONNECTOR", {"response_url": emsp.response_url("u"), "location_id": "LOC00001"}),
        ("START_SESSION", ["not", "an", "object"]),
    ]
    if modern(version):
        bodies.append(("START_SESSION", start_body(emsp, evse=None, connector_id="1")))
    for name, body in bodies:
        answer = command(sim, emsp, name, body)
        assert answer["status_code"] == 2001, (name, body, answer)
    assert not sim.sessions and results_to(emsp, "start") == []


def test_only_post_on_known_commands(cpo: StartCpo, emsp: ChargingEmsp, version: str) -> None:
    sim = cpo()
    assert emsp.cpo_token is not None
    base = f"{sim.base_url}/ocpi/{version}/commands"
    headers = {"Authorization": authorization(emsp.cpo_token, base64_form=modern(version))}
    assert httpx.get(f"{base}/START_SESSION", headers=headers).status_code == 405
    assert httpx.post(f"{base}/FLY_AWAY", json={}, headers=headers).status_code == 404
    cancel = httpx.post(f"{base}/CANCEL_RESERVATION", json={}, headers=headers)
    assert cancel.status_code == (200 if modern(version) else 404)  # no such command in 2.1.1
    unauthorized = httpx.post(f"{base}/START_SESSION", json=start_body(emsp))
    assert unauthorized.status_code == 401


def test_unlock_reserve_and_cancel(cpo: StartCpo, emsp: ChargingEmsp, version: str) -> None:
    sim = cpo()
    unlock = {
        "response_url": emsp.response_url("unlock"),
        "location_id": "LOC00001",
        "evse_uid": "LOC00001-2",
        "connector_id": "2",
    }
    assert command(sim, emsp, "UNLOCK_CONNECTOR", unlock)["data"]["result"] == "ACCEPTED"
    assert results(emsp, "unlock")[0].body == {"result": "ACCEPTED"}
    reserve = {
        "response_url": emsp.response_url("reserve"),
        "token": token_for(version),
        "expiry_date": "2030-01-01T10:00:00Z",
        "reservation_id": "R-1" if modern(version) else 17,
        "location_id": "LOC00002",
    }
    assert command(sim, emsp, "RESERVE_NOW", reserve)["data"]["result"] == "ACCEPTED"
    assert results(emsp, "reserve")[0].body == {"result": "ACCEPTED"}
    wait_until(lambda: sim.reservations)
    assert list(sim.reservations) == ["R-1" if modern(version) else "17"]
    if not modern(version):
        bad = command(sim, emsp, "RESERVE_NOW", reserve | {"reservation_id": "17"})
        assert bad["status_code"] == 2001  # an int in 2.1.1
        return
    cancel = {"response_url": emsp.response_url("cancel"), "reservation_id": "r-1"}
    assert command(sim, emsp, "CANCEL_RESERVATION", cancel)["data"]["result"] == "ACCEPTED"
    assert results(emsp, "cancel")[0].body == {"result": "ACCEPTED"}
    wait_until(lambda: not sim.reservations)
    again = cancel | {"response_url": emsp.response_url("again")}
    assert command(sim, emsp, "CANCEL_RESERVATION", again)["data"]["result"] == "ACCEPTED"
    assert results(emsp, "again")[0].body == {"result": "UNKNOWN_RESERVATION"}


@pytest.mark.parametrize("version", ["2.2.1"])  # 2.1.1 tokens carry no party
def test_a_token_of_another_party_is_rejected(cpo: StartCpo, emsp: ChargingEmsp) -> None:
    sim = cpo()
    body = start_body(emsp, token=token_for("2.2.1", party_id="OTH"))
    answer = command(sim, emsp, "START_SESSION", body)
    assert answer["data"]["result"] == "REJECTED" and answer["data"]["message"]


# --- command faults ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "verdict"), [("reject", "REJECTED"), ("not_supported", "NOT_SUPPORTED")]
)
def test_refusing_faults_answer_and_do_nothing(
    cpo: StartCpo, emsp: ChargingEmsp, version: str, fault: str, verdict: str
) -> None:
    sim = cpo(command_fault=fault)
    answer = command(sim, emsp, "START_SESSION", start_body(emsp))
    assert answer["status_code"] == 1000 and answer["data"]["result"] == verdict
    if modern(version):
        assert answer["data"]["timeout"] == 30
    control(sim, emsp)
    assert results_to(emsp, "start") == [] and len(sim.sessions) == 1


def test_no_result_accepts_then_stays_silent(cpo: StartCpo, emsp: ChargingEmsp) -> None:
    sim = cpo(command_fault="no_result")
    assert command(sim, emsp, "START_SESSION", start_body(emsp))["data"]["result"] == "ACCEPTED"
    control(sim, emsp, evse="LOC00002-1")
    assert results_to(emsp, "start") == [] and len(sim.sessions) == 1
    # the EVSE was not left claimed: a new start there works
    command(sim, emsp, "START_SESSION", start_body(emsp, "retry"))
    assert results(emsp, "retry")[0].body == {"result": "ACCEPTED"}


def test_late_result_comes_after_late_seconds_then_the_session(
    cpo: StartCpo, emsp: ChargingEmsp
) -> None:
    sim = cpo(command_fault="late_result", late_seconds=1.0, command_timeout=1)
    sent = time.monotonic()
    answer = command(sim, emsp, "START_SESSION", start_body(emsp))
    assert answer["data"]["result"] == "ACCEPTED"
    if modern(emsp.version):
        assert answer["data"]["timeout"] == 1
    assert not sim.sessions
    (result,) = results(emsp, "start")
    assert time.monotonic() - sent >= 1.0
    assert result.body == {"result": "ACCEPTED"}
    sim.wait_for_session(status="ACTIVE")


def test_timeout_then_start_reports_timeout_and_starts_anyway(
    cpo: StartCpo, emsp: ChargingEmsp, version: str
) -> None:
    sim = cpo(command_fault="timeout_then_start")
    command(sim, emsp, "START_SESSION", start_body(emsp))
    result = results(emsp, "start")[0].body
    assert result["result"] == "TIMEOUT"
    session = sim.wait_for_session(status="ACTIVE")
    if modern(version):
        assert session["authorization_reference"] == "auth-ref-0001"


def test_result_failed_starts_nothing(cpo: StartCpo, emsp: ChargingEmsp, version: str) -> None:
    sim = cpo(command_fault="result_failed")
    command(sim, emsp, "START_SESSION", start_body(emsp))
    expected = "FAILED" if modern(version) else "REJECTED"
    assert results(emsp, "start")[0].body["result"] == expected
    control(sim, emsp)
    assert len(sim.sessions) == 1


def test_no_session_accepts_but_the_ev_never_plugs_in(cpo: StartCpo, emsp: ChargingEmsp) -> None:
    sim = cpo(command_fault="no_session")
    command(sim, emsp, "START_SESSION", start_body(emsp))
    assert results(emsp, "start")[0].body == {"result": "ACCEPTED"}
    control(sim, emsp)
    assert len(sim.sessions) == 1


def test_down_answers_503_without_a_body(cpo: StartCpo, emsp: ChargingEmsp) -> None:
    sim = cpo(command_fault="down")
    response = command(sim, emsp, "START_SESSION", start_body(emsp), raw=True)
    assert response.status_code == 503 and response.content == b""
    (down,) = sim.commands
    assert down.http_status == 503 and down.response is None and down.body["location_id"]
    control(sim, emsp)
    assert results_to(emsp, "start") == [] and len(sim.sessions) == 1


def test_read_timeout_holds_the_answer_and_starts_anyway(cpo: StartCpo, emsp: ChargingEmsp) -> None:
    sim = cpo(command_fault="read_timeout", hold_seconds=2)
    with pytest.raises(httpx.ReadTimeout):
        command(sim, emsp, "START_SESSION", start_body(emsp), timeout=httpx.Timeout(0.5))
    assert results(emsp, "start")[0].body == {"result": "ACCEPTED"}
    sim.wait_for_session(status="ACTIVE")
    assert sim.commands[0].response == {"result": "ACCEPTED"} | (
        {"timeout": 30} if modern(emsp.version) else {}
    )


def test_faults_apply_to_stop_session_too(cpo: StartCpo, emsp: ChargingEmsp) -> None:
    sim = cpo()
    session_id = sim.start_session_unasked(0, 1, "04000001")
    sim.wait_for_session(status="ACTIVE")
    stop = {"response_url": emsp.response_url("stop"), "session_id": session_id}
    sim.command_fault = "result_failed"
    command(sim, emsp, "STOP_SESSION", stop)
    assert results(emsp, "stop")[0].body["result"] in ("FAILED", "REJECTED")
    assert sim.sessions[session_id]["status"] == "ACTIVE"
    sim.command_fault = "timeout_then_start"
    command(sim, emsp, "STOP_SESSION", stop)
    assert results(emsp, "stop", 2)[1].body["result"] == "TIMEOUT"
    assert sim.wait_for_session(status="COMPLETED")["id"] == session_id


def test_start_delay_holds_the_session_after_the_result(cpo: StartCpo, emsp: ChargingEmsp) -> None:
    sim = cpo(start_delay=0.5)
    command(sim, emsp, "START_SESSION", start_body(emsp))
    results(emsp, "start")
    after_result = time.monotonic()
    assert not sim.sessions
    sim.wait_for_session(status="ACTIVE")
    assert time.monotonic() - after_result >= 0.4


# --- session faults ------------------------------------------------------------------------------


def test_duplicate_pushes_send_everything_twice(cpo: StartCpo, emsp: ChargingEmsp) -> None:
    sim = cpo(session_fault="duplicate_pushes")
    session_id = sim.start_session_unasked(0, 1, "04000001")
    wait_until(lambda: len(emsp.calls_to("sessions", "PATCH")) >= 4)
    sim.end_session(session_id)
    calls = [(c.method, c.body) for c in emsp.calls_to("sessions")]
    assert calls[0::2] == calls[1::2]
    assert calls[-1][1]["status"] == "COMPLETED"


def test_out_of_order_delivers_older_patches_after_newer_ones(
    cpo: StartCpo, emsp: ChargingEmsp
) -> None:
    sim = cpo(session_fault="out_of_order")
    session_id = sim.start_session_unasked(0, 1, "04000001")
    wait_until(lambda: len(emsp.calls_to("sessions", "PATCH")) >= 4)
    sim.end_session(session_id)
    patches = [c.body for c in emsp.calls_to("sessions", "PATCH")]
    stamps = [parse_datetime(body["last_updated"]) for body in patches]
    assert stamps != sorted(stamps)
    assert sorted(stamps) == sorted(set(stamps))  # each sent once, only the order is off
    completed = next(i for i, body in enumerate(patches) if body.get("status") == "COMPLETED")
    # the PATCH held back when the session ended, if one was, arrives after the final one
    assert all(stamp < stamps[completed] for stamp in stamps[completed + 1 :])
    assert len(patches) - completed - 1 in (0, 1)
    assert sim.sessions[session_id]["status"] == "COMPLETED"


def test_invalid_ends_the_session_invalid(cpo: StartCpo, emsp: ChargingEmsp) -> None:
    sim = cpo(session_fault="invalid")
    session_id = sim.start_session_unasked(0, 1, "04000001")
    sim.wait_for_session(status="ACTIVE")
    assert sim.end_session(session_id)["status"] == "INVALID"
    assert emsp.calls_to("sessions", "PATCH")[-1].body["status"] == "INVALID"
    assert emsp.calls_to("locations", "PATCH")[-1].body["status"] == "AVAILABLE"


def test_no_push_keeps_sessions_to_the_sessions_sender(
    cpo: StartCpo, emsp: ChargingEmsp, version: str
) -> None:
    sim = cpo(session_fault="no_push", update_interval=0.1)
    session_id = sim.start_session_unasked(0, 1, "04000001")
    sim.wait_for_session(status="ACTIVE")
    final = sim.end_session(session_id)
    assert final["status"] == "COMPLETED"
    assert emsp.calls_to("sessions") == []  # nothing pushed, not even the final update
    assert emsp.calls_to("locations", "PATCH")[-1].body["status"] == "AVAILABLE"
    assert emsp.cpo_token is not None
    listed = httpx.get(
        f"{sim.base_url}/ocpi/{version}/sessions?date_from=2000-01-01T00:00:00Z",
        headers={"Authorization": authorization(emsp.cpo_token, base64_form=modern(version))},
    )
    assert [s["id"] for s in listed.json()["data"]] == [session_id]
    assert listed.json()["data"][0]["status"] == "COMPLETED"


class HeaderCatcher:
    """A response URL of its own that keeps the headers of what is POSTed to it."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                catcher.seen.append(dict(self.headers.items()))
                payload = json.dumps({"status_code": 1000, "timestamp": "2026-01-01T00:00:00Z"})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/result/1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_result_carries_token_routing_and_the_correlation_id(
    cpo: StartCpo, emsp: ChargingEmsp, version: str
) -> None:
    sim = cpo()
    catcher = HeaderCatcher()
    try:
        assert emsp.cpo_token is not None
        headers = {
            "Authorization": authorization(emsp.cpo_token, base64_form=modern(version)),
            "X-Correlation-ID": "corr-1234",
        }
        httpx.post(
            f"{sim.base_url}/ocpi/{version}/commands/START_SESSION",
            json=start_body(emsp, response_url=catcher.url),
            headers=headers,
        )
        (seen,) = wait_until(lambda: catcher.seen)
    finally:
        catcher.close()
    assert seen["Authorization"] == authorization(emsp.token_c, base64_form=modern(version))
    assert seen["X-Correlation-ID"] == "corr-1234" and seen["X-Request-ID"]
    assert seen["Content-Type"] == "application/json"
    routing = {k: v for k, v in seen.items() if k.lower().startswith("ocpi-")}
    if modern(version):
        assert {k.lower(): v for k, v in routing.items()} == {
            "ocpi-from-country-code": "NL",
            "ocpi-from-party-id": "SIM",
            "ocpi-to-country-code": "DE",
            "ocpi-to-party-id": "REC",
        }
    else:
        assert routing == {}
