"""OCPI 2.3.0 registration, both directions, against a CPO that offers 2.3.0, 2.2.1 and 2.1.1:
2.3.0 is taken when both speak it, and our credentials carry our party as PTP (and as the eMSP
whose tokens StartSession names)."""

import signal
import subprocess
import sys

import httpx
import pytest
from rest_framework.exceptions import ValidationError

from cpo_simulator import CpoSimulator
from ocpi_peer.models import Partner
from ocpi_peer.registration import invite_partner, register_with_cpo
from ocpi_peer.transport import authorization_header
from ocpi_peer.versions import v2_3_0
from ocpi_peer.versions.fields import Party
from tests.conftest import StartCpo
from tests.helpers import wait_until
from tests.simulator.command_line import MANAGE

pytestmark = pytest.mark.django_db(transaction=True)

ALL = ("2.3.0", "2.2.1", "2.1.1")


def _our_roles(cpo: CpoSimulator) -> list[tuple[str, str, str]]:
    """The roles of the credentials we gave the CPO, as it read them."""
    with cpo.lock:
        roles = cpo.state.emsp_credentials["roles"]
    return [(r["role"], r["country_code"], r["party_id"]) for r in roles]


def test_it_registers_with_a_230_cpo_as_ptp(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator(versions=ALL, country_code="NL", party_id="SIM")
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    assert partner.status == Partner.Status.REGISTERED
    assert partner.version == "2.3.0"
    assert cpo.emsp_version == "2.3.0"
    assert [(p.role, p.country_code, p.party_id) for p in partner.parties.all()] == [
        ("CPO", "NL", "SIM")
    ]
    assert partner.endpoint("tariffs", "SENDER") == f"{cpo.base_url}/ocpi/2.3.0/tariffs"
    assert _our_roles(cpo) == [("PTP", "DE", "CPY"), ("EMSP", "DE", "CPY")]
    assert cpo.call_us("GET", "versions").status_code == 200  # with the token B we gave it


def test_a_230_cpo_registers_with_us_and_reads_us_as_ptp(
    cpo_simulator: StartCpo, ocpi_base: str
) -> None:
    partner, token_a = invite_partner(name="Simulated CPO")
    cpo = cpo_simulator(versions=ALL, country_code="BE", party_id="SIM")
    answer = cpo.register_with(f"{ocpi_base}/versions", token_a)
    assert answer.json()["status_code"] == 1000, answer.text
    partner.refresh_from_db()
    assert partner.status == Partner.Status.REGISTERED
    assert partner.version == "2.3.0"
    assert _our_roles(cpo) == [("PTP", "DE", "CPY"), ("EMSP", "DE", "CPY")]
    ours = cpo.call_us("GET", "credentials").json()["data"]
    assert [r["role"] for r in ours["roles"]] == ["PTP", "EMSP"]
    assert "hub_party_id" not in ours  # we are no hub


@pytest.mark.parametrize("preferred", ["2.2.1", "2.1.1"])
def test_a_cpo_that_prefers_an_older_version_registers_on_it(
    cpo_simulator: StartCpo, ocpi_base: str, preferred: str
) -> None:
    partner, token_a = invite_partner(name="Cautious CPO")
    cpo = cpo_simulator(versions=ALL, prefer_version=preferred)
    assert cpo.register_with(f"{ocpi_base}/versions", token_a).json()["status_code"] == 1000
    partner.refresh_from_db()
    assert partner.version == preferred
    with cpo.lock:
        credentials = cpo.state.emsp_credentials
    if preferred == "2.2.1":
        assert [r["role"] for r in credentials["roles"]] == ["EMSP"]
    else:
        assert credentials["party_id"] == "CPY" and "roles" not in credentials


def test_the_simulate_cpo_command_registers_on_the_version_it_is_told_to_prefer(
    ocpi_base: str,
) -> None:
    partner, token_a = invite_partner(name="Commanded CPO")
    process = subprocess.Popen(
        [
            sys.executable,
            str(MANAGE),
            "simulate_cpo",
            "--port",
            "0",
            "--version",
            "2.3.0,2.2.1,2.1.1",
            "--prefer-version",
            "2.2.1",
            "--register-with",
            f"{ocpi_base}/versions",
            "--token",
            token_a,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        registered = wait_until(
            lambda: (
                Partner.objects.filter(pk=partner.pk, status=Partner.Status.REGISTERED)
                .values_list("version", flat=True)
                .first()
            ),
            timeout=60,
        )
        assert registered == "2.2.1"
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


def test_our_versions_offer_230_first_with_the_221_modules_and_payments(ocpi_base: str) -> None:
    _, token_a = invite_partner(name="Acme CPO")
    header = {"Authorization": authorization_header(token_a, base64_encoded=True)}
    listed = httpx.get(f"{ocpi_base}/versions", headers=header).json()["data"]
    assert listed[0] == {"version": "2.3.0", "url": f"{ocpi_base}/2.3.0"}
    details = httpx.get(f"{ocpi_base}/2.3.0", headers=header).json()["data"]
    older = httpx.get(f"{ocpi_base}/2.2.1", headers=header).json()["data"]
    assert details["version"] == "2.3.0"
    assert {(e["identifier"], e["role"]) for e in details["endpoints"]} == {
        (e["identifier"], e["role"]) for e in older["endpoints"]
    } | {("payments", "SENDER")}
    assert all(e["url"].startswith(f"{ocpi_base}/2.3.0/") for e in details["endpoints"])


def test_a_230_hub_names_itself_in_hub_party_id_and_lists_the_parties_behind_it() -> None:
    body = {
        "token": "hub-token",
        "url": "https://hub.example.com/ocpi/versions",
        "hub_party_id": "deHUB",
        "roles": [
            {
                "role": "CPO",
                "party_id": "ABC",
                "country_code": "DE",
                "business_details": {"name": "A CPO behind the hub"},
            },
            {
                "role": "CPO",
                "party_id": "XYZ",
                "country_code": "NL",
                "business_details": {"name": "Another CPO behind it"},
            },
        ],
    }
    read = v2_3_0.Version.read(v2_3_0.Version.credentials, body)
    assert read.parties == (
        Party("HUB", "DE", "HUB", "DE*HUB"),
        Party("CPO", "DE", "ABC", "A CPO behind the hub"),
        Party("CPO", "NL", "XYZ", "Another CPO behind it"),
    )


def test_a_230_role_hub_is_refused() -> None:
    body = {
        "token": "t",
        "url": "https://hub.example.com/ocpi/versions",
        "roles": [
            {
                "role": "HUB",
                "party_id": "HUB",
                "country_code": "DE",
                "business_details": {"name": "A 2.2.1-style hub"},
            }
        ],
    }
    with pytest.raises(ValidationError, match="role"):
        v2_3_0.Version.read(v2_3_0.Version.credentials, body)
