"""`manage.py simulate_cpo --party CC/PID ...`: several CPO parties on one connection, behind a
hub (`--hub CC/PID`) or hosted by one CPMS; the credentials say which."""

import json
import signal
import subprocess
import sys

import httpx
import pytest

from cpo_simulator.transport import authorization
from tests.simulator.command_line import MANAGE, read_line


def roles_served(*arguments: str) -> list[tuple[str, str, str]]:
    """Start the command with `arguments`, read its credentials with token A, stop it."""
    process = subprocess.Popen(
        [
            sys.executable,
            str(MANAGE),
            "simulate_cpo",
            "--port",
            "0",
            "--token-a",
            "parties-token-a",
            *arguments,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        started = json.loads(read_line(process, timeout=30))
        response = httpx.get(
            f"{started['base_url']}/ocpi/2.2.1/credentials",
            headers={"Authorization": authorization("parties-token-a", base64_form=True)},
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0
    return [
        (role["role"], role["country_code"], role["party_id"])
        for role in response.json()["data"]["roles"]
    ]


@pytest.mark.parametrize(
    ("arguments", "roles"),
    [
        (
            ("--hub", "DE/HUB", "--party", "NL/AAA", "--party", "NL/BBB"),
            [("HUB", "DE", "HUB")],
        ),
        (
            ("--party", "NL/AAA", "--party", "nl/bbb"),
            [("CPO", "NL", "AAA"), ("CPO", "NL", "BBB")],
        ),
        ((), [("CPO", "NL", "SIM")]),
    ],
    ids=["hub", "cpms", "one-cpo"],
)
def test_it_plays_a_hub_a_multi_party_cpms_or_one_cpo(
    arguments: tuple[str, ...], roles: list[tuple[str, str, str]]
) -> None:
    assert roles_served(*arguments) == roles


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (("--hub", "DE/HUB"), b"--party"),
        (("--party", "NLAAA"), b"CC/PID"),
        (("--party", "NL/AAA", "--party", "NL/BBB", "--version", "2.1.1"), b"2.1.1"),
    ],
)
def test_it_refuses_parties_it_cannot_play(arguments: tuple[str, ...], says: bytes) -> None:
    result = subprocess.run(
        [sys.executable, str(MANAGE), "simulate_cpo", "--port", "0", *arguments],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert says in result.stderr
    assert result.stdout == b""
