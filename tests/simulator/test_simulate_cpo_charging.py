"""`manage.py simulate_cpo` with the charging options: a process the demo can start sessions on."""

import json
import signal
import subprocess
import sys
from datetime import timedelta

import httpx

from cpo_simulator.transport import authorization, parse_datetime
from tests.helpers import wait_until
from tests.simulator.charging import ChargingEmsp, results, start_body
from tests.simulator.command_line import MANAGE, read_line


def test_charging_options_reach_the_simulator() -> None:
    emsp = ChargingEmsp("2.2.1")
    process = subprocess.Popen(
        [
            sys.executable,
            str(MANAGE),
            "simulate_cpo",
            "--port",
            "0",
            "--locations",
            "2",
            "--charge-kw",
            "22",
            "--time-scale",
            "3600",
            "--update-interval",
            "0.2",
            "--command-fault",
            "timeout_then_start",
            "--require-known-token",
            "--register-with",
            emsp.versions_url,
            "--token",
            emsp.token_a,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        base = json.loads(read_line(process, timeout=30))["base_url"]
        cpo_token = wait_until(lambda: emsp.cpo_token, timeout=30)
        headers = {"Authorization": authorization(cpo_token, base64_form=True)}
        body = start_body(emsp)
        url = f"{base}/ocpi/2.2.1/commands/START_SESSION"
        unknown = httpx.post(url, json=body, headers=headers).json()
        token = body["token"]
        pushed = httpx.put(
            f"{base}/ocpi/2.2.1/tokens/DE/REC/{token['uid']}?type={token['type']}",
            json=token,
            headers=headers,
        )
        known = httpx.post(url, json=body, headers=headers).json()
        result = results(emsp, "start")[0]
        patch = wait_until(lambda: emsp.calls_to("sessions", "PATCH"), timeout=30)[0].body
        put = emsp.calls_to("sessions", "PUT")[0].body
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
        emsp.close()
    assert process.returncode == 0
    assert unknown["data"]["result"] == "REJECTED"  # --require-known-token
    assert pushed.status_code == 201
    assert known["data"]["result"] == "ACCEPTED"
    assert result.body["result"] == "TIMEOUT"  # --command-fault, and yet it started:
    assert put["status"] == "ACTIVE"
    elapsed = parse_datetime(patch["last_updated"]) - parse_datetime(put["start_date_time"])
    assert elapsed >= timedelta(seconds=0.2 * 3600)  # --time-scale, --update-interval
    (period,) = patch["charging_periods"]
    volumes = {d["type"]: d["volume"] for d in period["dimensions"]}
    assert abs(volumes["ENERGY"] - 22 * volumes["TIME"]) < 0.01  # --charge-kw


def test_an_unknown_command_fault_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, str(MANAGE), "simulate_cpo", "--port", "0", "--command-fault", "flaky"],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert b"flaky" in result.stderr
