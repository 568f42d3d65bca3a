"""Once the version is known we send the token in its form, raw in 2.1.1 and Base64 in 2.2.1
(T-02); a form a 401 taught us is kept for CPMS that bend the rule, and learnt again on rotation."""

import pytest

from ocpi_peer.client import Caller
from ocpi_peer.models import Partner
from ocpi_peer.registration import register_with_cpo, rotate_credentials
from tests.conftest import StartCpo
from tests.ocpi.hostile import Handler, Server, serving

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_211_cpo_is_called_with_the_raw_token(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator(version="2.1.1")
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    assert partner.version == "2.1.1" and partner.send_token_base64 is None
    list(Caller.for_partner(partner).pages(partner.endpoint("locations", "SENDER")))
    pull = [r for r in cpo.requests if r.path.endswith("/locations")][-1]
    assert pull.headers["Authorization"] == f"Token {partner.token}"


def test_a_wrongly_remembered_form_is_dropped_at_the_next_rotation(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator(version="2.1.1")
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    Partner.objects.filter(pk=partner.pk).update(send_token_base64=True)  # as we once stored it
    partner = rotate_credentials(partner=Partner.objects.get(pk=partner.pk))
    assert Partner.objects.get(pk=partner.pk).send_token_base64 is None
    list(Caller.for_partner(partner).pages(partner.endpoint("locations", "SENDER")))
    pull = [r for r in cpo.requests if r.path.endswith("/locations")][-1]
    assert pull.headers["Authorization"] == f"Token {partner.token}"


def test_a_221_cpms_that_wants_raw_tokens_keeps_its_learnt_form_across_rotations(
    cpo_simulator: StartCpo,
) -> None:
    cpo = cpo_simulator(version="2.2.1", raw_tokens=True)
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    assert partner.send_token_base64 is False
    partner = rotate_credentials(partner=partner)
    assert Partner.objects.get(pk=partner.pk).send_token_base64 is False
    list(Caller.for_partner(partner).pages(partner.endpoint("locations", "SENDER")))
    pull = [r for r in cpo.requests if r.path.endswith("/locations")][-1]
    assert pull.headers["Authorization"] == f"Token {partner.token}"


def test_a_211_cpo_that_accepts_both_forms_still_gets_the_raw_token_once_211_is_found() -> None:
    seen: list[tuple[str, str]] = []  # (path, Authorization) of every call it receives

    def lenient(handler: Handler, server: Server) -> None:  # takes its token in either form
        seen.append((handler.path, handler.headers.get("Authorization", "")))
        base = server.url("/ocpi")
        if handler.path == "/ocpi/versions":
            handler.answer(200, [{"version": "2.1.1", "url": f"{base}/2.1.1"}])
        elif handler.path == "/ocpi/2.1.1":
            modules = ("credentials", "locations")
            endpoints = [{"identifier": m, "url": f"{base}/2.1.1/{m}"} for m in modules]
            handler.answer(200, {"version": "2.1.1", "endpoints": endpoints})
        else:
            credentials = {
                "token": "LENIENT-TOKEN-C-123",
                "url": f"{base}/versions",
                "business_details": {"name": "Lenient CPO"},
                "party_id": "LEN",
                "country_code": "NL",
            }
            handler.answer(200, credentials)

    with serving(lenient) as cpo:
        partner = register_with_cpo(versions_url=cpo.url(), token="LENIENT-TOKEN-A-123")
    assert partner.version == "2.1.1" and partner.send_token_base64 is None
    assert seen[-1] == ("/ocpi/2.1.1/credentials", "Token LENIENT-TOKEN-A-123")
