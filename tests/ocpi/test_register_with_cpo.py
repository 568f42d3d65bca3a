"""We register with a CPO from its versions URL and token A (flow 1, `ocpi_register`)."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from ocpi_peer.models import Partner
from ocpi_peer.registration import RegistrationError, register_with_cpo
from tests.conftest import StartCpo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("version", ["2.2.1", "2.1.1"])
def test_we_register_and_the_cpo_can_call_us_back(cpo_simulator: StartCpo, version: str) -> None:
    cpo = cpo_simulator(version=version, country_code="NL", party_id="SIM")
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    assert partner.status == Partner.Status.REGISTERED
    assert partner.version == version
    assert [(p.role, p.country_code, p.party_id) for p in partner.parties.all()] == [
        ("CPO", "NL", "SIM")
    ]
    assert partner.endpoint("locations", "SENDER") == f"{cpo.base_url}/ocpi/{version}/locations"
    assert partner.missing_modules == []
    assert cpo.registered and cpo.emsp_version == version
    assert cpo.call_us("GET", "versions").status_code == 200  # with the token B we gave it
    assert partner.token != cpo.token_a  # we now hold its token C


def test_the_highest_common_version_is_chosen(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator(versions=("2.1.1", "2.2.1"))
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    assert partner.version == "2.2.1"


def test_a_cpo_without_some_modules_registers_and_what_is_missing_is_recorded(
    cpo_simulator: StartCpo,
) -> None:
    cpo = cpo_simulator(omit_modules=("cdrs", "commands"))
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    assert partner.is_registered
    assert partner.missing_modules == ["cdrs", "commands"]


def test_no_common_version_registers_nothing(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator(versions=("2.0",))
    with pytest.raises(RegistrationError) as caught:
        register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    assert caught.value.status == 3002
    assert "they offer 2.0" in caught.value.message
    assert not Partner.objects.exists()


def test_the_command_prints_the_partner_as_json(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator(version="2.2.1", party_id="ABC")
    out = io.StringIO()
    call_command(
        "ocpi_register", "--versions-url", cpo.versions_url, f"--token={cpo.token_a}", stdout=out
    )
    printed = json.loads(out.getvalue())
    assert printed["version"] == "2.2.1"
    assert printed["parties"] == ["NL*ABC CPO"]
    assert Partner.objects.get(pk=printed["partner_id"]).is_registered


def test_the_command_reads_the_token_from_stdin_or_the_environment(
    cpo_simulator: StartCpo, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = cpo_simulator(party_id="ONE"), cpo_simulator(party_id="TWO")
    monkeypatch.setattr("sys.stdin", io.StringIO(first.token_a + "\n"))
    call_command(
        "ocpi_register", "--versions-url", first.versions_url, "--token", "-", stdout=io.StringIO()
    )
    monkeypatch.setenv("OCPI_TOKEN_A", second.token_a)
    call_command("ocpi_register", "--versions-url", second.versions_url, stdout=io.StringIO())
    assert sorted(p.parties.get().party_id for p in Partner.objects.all()) == ["ONE", "TWO"]


def test_the_command_fails_clearly_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OCPI_TOKEN_A", raising=False)
    with pytest.raises(CommandError, match="no token A"):
        call_command("ocpi_register", "--versions-url", "http://127.0.0.1:9/ocpi/versions")
