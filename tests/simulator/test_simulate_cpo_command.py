"""`manage.py simulate_cpo` as the demo and the Makefile run it: a process printing one line."""

import base64
import json
import signal
import subprocess
import sys

import httpx

from cpo_simulator.transport import authorization
from tests.helpers import wait_until
from tests.simulator.command_line import MANAGE, read_line
from tests.simulator.emsp import RecordingEmsp


def test_command_prints_its_line_serves_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            str(MANAGE),
            "simulate_cpo",
            "--port",
            "0",
            "--version",
            "2.1.1,2.2.1",
            "--locations",
            "3",
            "--token-a",
            "command-token-a",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        started = json.loads(read_line(process, timeout=30))
        assert started["token_a"] == "command-token-a"
        assert started["versions_url"] == f"{started['base_url']}/ocpi/versions"
        token = base64.b64encode(b"command-token-a").decode()
        response = httpx.get(started["versions_url"], headers={"Authorization": f"Token {token}"})
        assert [v["version"] for v in response.json()["data"]] == ["2.1.1", "2.2.1"]
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    log = stderr.decode()
    assert "GET /ocpi/versions 200" in log
    assert "command-token-a" not in log and token not in log


def test_command_refuses_an_unknown_version() -> None:
    result = subprocess.run(
        [sys.executable, str(MANAGE), "simulate_cpo", "--port", "0", "--version", "9.9"],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert b"9.9" in result.stderr
    assert result.stdout == b""


def test_command_options_shape_the_fleet_and_churn_statuses_to_the_emsp() -> None:
    emsp = RecordingEmsp()
    process = subprocess.Popen(
        [
            sys.executable,
            str(MANAGE),
            "simulate_cpo",
            "--port",
            "0",
            "--locations",
            "5",
            "--evses-per-location",
            "3",
            "--connectors-per-evse",
            "1",
            "--tariffs",
            "3",
            "--ad-hoc-tariffs",
            "--latency",
            "0.01",
            "--status-churn",
            "50",
            "--register-with",
            emsp.versions_url,
            "--token",
            emsp.token_a,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        started = json.loads(read_line(process, timeout=30))
        assert set(started) == {"versions_url", "token_a", "base_url"}
        wait_until(lambda: len(emsp.pushes("PATCH")) >= 3, timeout=30)
        token = emsp.pushes("PATCH")[0].token
        assert token == emsp.token_c
        cpo_token = wait_until(lambda: emsp.cpo_token, timeout=10)
        headers = {"Authorization": authorization(cpo_token, base64_form=True)}
        base = started["base_url"]
        location = httpx.get(f"{base}/ocpi/2.2.1/locations/LOC00001", headers=headers).json()
        tariffs = httpx.get(f"{base}/ocpi/2.2.1/tariffs", headers=headers).json()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
        emsp.close()
    assert process.returncode == 0
    evses = location["data"]["evses"]
    assert len(evses) == 3 and {len(evse["connectors"]) for evse in evses} == {1}
    assert [t["id"] for t in tariffs["data"]] == [
        "TARIFF-AC",
        "TARIFF-AC-ADHOC",
        "TARIFF-DC",
        "TARIFF-DC-ADHOC",
        "TARIFF-AC-2",
        "TARIFF-AC-2-ADHOC",
    ]
