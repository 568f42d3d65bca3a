"""A party belongs to one connection: a second connection that claims it, registering or
rotating, in either direction, is refused and nothing of the first connection changes."""

import copy
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from cpo_simulator import CpoSimulator
from ocpi_peer.models import Partner, PartnerToken, PartyEvent, PartyOwnership
from ocpi_peer.registration import (
    RegistrationError,
    invite_partner,
    register_with_cpo,
    rotate_credentials,
)
from ocpi_peer.transport import dumps
from payments.models import Case
from stations.models import Location, Tariff
from tests.conftest import StartCpo
from tests.ocpi.examples import example

pytestmark = pytest.mark.django_db(transaction=True)


def _first_connection(cpo_simulator: StartCpo, ocpi_base: str) -> tuple[Partner, CpoSimulator]:
    """NL*SIM registered with us, with a location and a tariff pushed."""
    partner, token_a = invite_partner(name="First CPO")
    cpo = cpo_simulator(country_code="NL", party_id="SIM")
    assert cpo.register_with(f"{ocpi_base}/versions", token_a).json()["status_code"] == 1000
    location = {**copy.deepcopy(example("location_example.json")), "id": "LOC1"}
    location |= {"country_code": "NL", "party_id": "SIM"}
    assert cpo.call_us("PUT", "locations/NL/SIM/LOC1", json=location).status_code == 201
    tariff = {**copy.deepcopy(example("tariff_4_complex.json")), "id": "14"}
    tariff |= {"country_code": "NL", "party_id": "SIM"}
    assert cpo.call_us("PUT", "tariffs/NL/SIM/14", content=dumps(tariff)).status_code == 201
    partner.refresh_from_db()
    return partner, cpo


def _snapshot(partner: Partner) -> dict[str, Any]:
    partner.refresh_from_db()
    return {
        "status": partner.status,
        "token": partner.token,
        "party_keys": partner.party_keys,
        "endpoints": sorted(partner.endpoints.values_list("module", "role", "url")),
        "tokens": sorted(partner.tokens.values_list("pk", "revoked_at", "expires_at")),
        "owned": sorted(PartyOwnership.objects.values_list("country_code", "party_id", "partner")),
        "locations": sorted(Location.objects.values_list("ocpi_id", "partner", "last_updated")),
        "tariffs": sorted(Tariff.objects.values_list("ocpi_id", "partner", "last_updated")),
    }


def test_a_second_cpo_registering_with_an_owned_party_is_refused(
    cpo_simulator: StartCpo, ocpi_base: str, client: Client
) -> None:
    first, first_cpo = _first_connection(cpo_simulator, ocpi_base)
    before = _snapshot(first)
    second, token_a = invite_partner(name="Impostor")
    impostor = cpo_simulator(country_code="NL", party_id="SIM")
    answer = impostor.register_with(f"{ocpi_base}/versions", token_a)
    assert answer.status_code == 200
    assert answer.json()["status_code"] == 2001
    assert "NL*SIM" in answer.json()["status_message"]
    assert "First CPO" not in answer.json()["status_message"]  # who holds it is not their business
    assert _snapshot(first) == before
    second.refresh_from_db()
    assert second.status == Partner.Status.INVITED and not second.party_keys
    assert "refused" in second.last_error
    assert PartnerToken.objects.usable().filter(partner=second, kind="A").exists()
    event = PartyEvent.objects.get(kind=PartyEvent.Kind.REFUSED)
    assert (event.partner, event.owner, event.party_id) == (second, first, "SIM")
    case = Case.objects.get(kind=Case.Kind.REFUSED_CLAIM)
    assert "Impostor claimed NL*SIM" in case.summary and case.partner_id == second.pk
    # the first connection goes on as before
    assert first_cpo.call_us("GET", "locations/NL/SIM/LOC1").json()["status_code"] == 1000
    client.force_login(User.objects.create_superuser("operator", "", "secret-pass"))
    for page in (first, second):  # the owner's page and the claimant's show the refusal
        html = client.get(f"/admin/ocpi_peer/partner/{page.pk}/change/").content.decode()
        assert "claim refused" in html and "NL*SIM is held by First CPO" in html


def test_we_do_not_register_with_a_cpo_that_claims_an_owned_party(
    cpo_simulator: StartCpo, ocpi_base: str
) -> None:
    first, _ = _first_connection(cpo_simulator, ocpi_base)
    before = _snapshot(first)
    impostor = cpo_simulator(country_code="NL", party_id="SIM")
    with pytest.raises(RegistrationError) as refused:
        register_with_cpo(versions_url=impostor.versions_url, token=impostor.token_a, name="Dup")
    assert int(refused.value.status) == 2001
    assert "NL*SIM" in refused.value.message
    assert list(Partner.objects.all()) == [first]  # nothing half-saved
    assert _snapshot(first) == before
    event = PartyEvent.objects.get(kind=PartyEvent.Kind.REFUSED)
    assert (event.partner, event.partner_name, event.owner) == (None, "Dup", first)


def test_the_register_command_says_why_and_exits_non_zero(
    cpo_simulator: StartCpo, ocpi_base: str
) -> None:
    _first_connection(cpo_simulator, ocpi_base)
    impostor = cpo_simulator(country_code="nl", party_id="sim")  # CiString: the same party
    with pytest.raises(CommandError, match=r"OCPI 2001.*NL\*SIM"):
        call_command(
            "ocpi_register", "--versions-url", impostor.versions_url, "--token", impostor.token_a
        )


def test_a_connection_that_claims_an_owned_party_when_it_rotates_is_refused(
    cpo_simulator: StartCpo, ocpi_base: str
) -> None:
    first, _ = _first_connection(cpo_simulator, ocpi_base)
    second, token_a = invite_partner(name="Second CPO")
    other = cpo_simulator(country_code="DE", party_id="TWO")
    assert other.register_with(f"{ocpi_base}/versions", token_a).json()["status_code"] == 1000
    before, second_before = _snapshot(first), _snapshot(second)
    other.peer.country_code, other.peer.party_id = "NL", "SIM"  # now it says it is NL*SIM too
    answer = other.rotate_with_us()
    assert answer.json()["status_code"] == 2001
    assert _snapshot(first) == before
    assert _snapshot(second) == second_before  # its own connection is not changed either
    assert other.call_us("GET", "versions").status_code == 200  # and still works


def test_we_refuse_a_rotation_whose_answer_claims_an_owned_party(
    cpo_simulator: StartCpo, ocpi_base: str
) -> None:
    first, _ = _first_connection(cpo_simulator, ocpi_base)
    other = cpo_simulator(country_code="DE", party_id="TWO")
    second = register_with_cpo(versions_url=other.versions_url, token=other.token_a)
    before = _snapshot(first)
    second_keys = second.party_keys
    other.peer.country_code, other.peer.party_id = "NL", "SIM"
    with pytest.raises(RegistrationError) as refused:
        rotate_credentials(partner=second)
    assert int(refused.value.status) == 2001
    assert _snapshot(first) == before
    second.refresh_from_db()
    assert second.party_keys == second_keys == ["DE*TWO"]
    assert PartyEvent.objects.filter(kind=PartyEvent.Kind.REFUSED, partner=second).exists()
